"""CPU seconds to render product pages and downloads, per product and per kind of file.

Usage: .venv/bin/python bench/render_cost.py WAREHOUSE [--products N] [--every K] [--repeat R]
Reads the products of a published warehouse once (with ``--every K``, only one parameter set in
K of each scope is queried: a sample of a large warehouse's products, in proportion to its
scopes), then renders the first N of them (both languages, in this process) into a temporary
folder, R times, and prints the process CPU
seconds per product for the whole page and for each writer alone (XLSX, CSV, SVG), the best of
R rounds, and the wall milliseconds of the same rounds (file system waits included). CPU time
holds on a loaded machine; wall time does not.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from migstat.publish.catalogue import load_catalogue
from migstat.publish.data import Warehouse
from migstat.publish.downloads import write_csv, write_xlsx
from migstat.publish.i18n import LANGS
from migstat.publish.products import Lookups, Product, collect_products
from migstat.publish.site import _Job, _render_products
from migstat.publish.views import chart_svg, metadata


def cost(work: Callable[[], None], repeat: int) -> tuple[float, float]:
    """The least CPU seconds and the least wall seconds of ``repeat`` rounds."""
    cpu = wall = float("inf")
    for _ in range(repeat):
        started, clock = time.process_time(), time.perf_counter()
        work()
        cpu = min(cpu, time.process_time() - started)
        wall = min(wall, time.perf_counter() - clock)
    return cpu, wall


class _Sampled:
    """A warehouse whose scope queries return one parameter set in ``every``."""

    def __init__(self, warehouse: Warehouse, scopes: set[str], every: int) -> None:
        self.warehouse, self.scopes, self.every = warehouse, scopes, every

    def records(self, sql: str, params: dict[str, object] | None = None) -> list[dict[str, object]]:
        rows = self.warehouse.records(sql, params)
        return rows[:: self.every] if sql in self.scopes else rows

    def table(self, *args: object) -> object:
        return self.warehouse.table(*args)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--every", type=int, default=1)
    args = parser.parse_args()
    catalogue = load_catalogue()
    with Warehouse(args.warehouse) as warehouse:
        lookups = Lookups(warehouse, catalogue)
        sampled = _Sampled(warehouse, {s.query for s in catalogue.scopes.values()}, args.every)
        products: list[Product] = collect_products(
            cast("Warehouse", sampled), catalogue, lookups, workers=2
        )
    chosen = products[: args.products]
    n = len(chosen)
    with tempfile.TemporaryDirectory() as scratch:
        site = Path(scratch)
        (site / "downloads").mkdir()
        for lang in LANGS:
            (site / lang / "products").mkdir(parents=True)
            (site / lang / "downloads").mkdir(parents=True)

        def pages() -> None:
            for lang in LANGS:
                _render_products(_Job(site, lang, chosen, lookups, catalogue, "x", "x"))

        def xlsx() -> None:
            for p in chosen:
                metas = [metadata(p, lang, "x") for lang in LANGS]
                write_xlsx(site / "downloads" / f"{p.id}.xlsx", p.table, metas, p.decimals)

        def csv() -> None:
            for lang in LANGS:
                for p in chosen:
                    meta = metadata(p, lang, "x")
                    write_csv(site / lang / "downloads" / f"{p.id}.csv", p.table, meta)

        def svg() -> None:
            for lang in LANGS:
                for p in chosen:
                    chart_svg(p, lang)

        result: dict[str, float] = {
            "products": n,
            "of_products": len(products),
            "cells_per_product": round(sum(len(p.table.cells) for p in chosen) / n, 1),
        }
        for name, work in (("whole", pages), ("xlsx", xlsx), ("csv", csv), ("svg", svg)):
            cpu, wall = cost(work, args.repeat)
            result[f"{name}_cpu_ms_per_product"] = round(cpu / n * 1000, 2)
            result[f"{name}_wall_ms_per_product"] = round(wall / n * 1000, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
