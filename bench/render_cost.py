"""CPU seconds to render product pages and downloads, per product and per kind of file.

Usage: .venv/bin/python bench/render_cost.py WAREHOUSE [--products N] [--repeat R]
Reads the products of a published warehouse once, then renders the first N of them (both
languages, in this process) into a temporary folder, R times, and prints the process CPU
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    catalogue = load_catalogue()
    with Warehouse(args.warehouse) as warehouse:
        lookups = Lookups(warehouse, catalogue)
        products: list[Product] = collect_products(warehouse, catalogue, lookups)
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

        result: dict[str, float] = {"products": n}
        for name, work in (("whole", pages), ("xlsx", xlsx), ("csv", csv), ("svg", svg)):
            cpu, wall = cost(work, args.repeat)
            result[f"{name}_cpu_ms_per_product"] = round(cpu / n * 1000, 2)
            result[f"{name}_wall_ms_per_product"] = round(wall / n * 1000, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
