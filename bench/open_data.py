"""Open data: datasets and files exported, export time, largest JSON-stat file, and the time the
table builder takes to render the largest table of the largest dataset in headless Chromium.

Usage: .venv/bin/python bench/open_data.py [--repeat R] [--no-browser]
Reads $MIGSTAT_HOME/warehouse/migstat.duckdb (run `migstat run --no-superset` first), exports
into a temporary folder and publishes a site there (the home's own site is left alone).
The largest table: in the dataset whose JSON-stat file is largest, its largest
cross-classification with data (the set of dimensions broken down together, e.g. nationality x
sex x month, over every reporting country and year), every value of those dimensions selected,
the dimension nearest 12 values in columns (the builder measures its own render time).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections import Counter
from pathlib import Path

from migstat.home import Home
from migstat.publish import publish
from migstat.publish.export import FORMATS, export

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _render_ms(site: Path, dataset: str, repeat: int) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    from migstat.publish.serve import start_server

    document = json.loads((site / "api" / "v1" / f"{dataset}.json").read_text("utf-8"))
    ids, size = document["id"], document["size"]
    index = [document["dimension"][d]["category"]["index"] for d in ids]
    values = document["value"]
    flats = (
        [i for i, v in enumerate(values) if v is not None]
        if isinstance(values, list)
        else [int(k) for k in values]
    )
    breakdowns: Counter[tuple[str, ...]] = Counter()
    for flat in flats:
        broken = []
        for dim, n, codes in zip(reversed(ids), reversed(size), reversed(index), strict=True):
            if codes[flat % n] != "_T":
                broken.append(dim)
            flat //= n
        breakdowns[tuple(sorted(broken))] += 1
    chosen = set(breakdowns.most_common(1)[0][0])
    selection = {
        d: [c for c in codes if c != "_T"] if d in chosen else ["_T"]
        for d, codes in zip(ids, index, strict=True)
    }
    column = min(chosen, key=lambda d: abs(len(selection[d]) - 12))
    parts = [f"d={dataset}"]
    for dim in ids:
        parts.append(f"{dim}=" + ",".join(selection[dim]))
    parts.append("rows=" + ",".join(d for d in ids if d != column))
    parts.append(f"cols={column}")
    server = start_server(site)
    url = f"http://127.0.0.1:{server.server_address[1]}/es/builder/index.html#" + "&".join(parts)
    times: list[float] = []
    cells = 0
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            for _ in range(repeat):
                page = browser.new_page()
                page.goto(url)
                page.wait_for_selector(f'#builder[data-ready="{dataset}"]', timeout=120_000)
                times.append(float(page.get_attribute("#builder", "data-render-ms") or 0))
                cells = int(page.get_attribute("#builder", "data-cells") or 0)
                page.close()
            browser.close()
    finally:
        server.shutdown()
    return {
        "builder_dataset": dataset,
        "builder_breakdown": sorted(chosen),
        "builder_cells": cells,
        "builder_render_ms_median": round(statistics.median(times), 1),
        "builder_render_ms": [round(t, 1) for t in times],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    home = Home.from_env()
    with tempfile.TemporaryDirectory() as scratch:
        seconds = []
        for _ in range(args.repeat):
            result = export(home.published_db, Path(scratch) / "export", FORMATS)
            seconds.append(result.seconds)
        largest = result.largest_json
        assert largest is not None
        summary: dict[str, object] = {
            "warehouse": str(home.published_db),
            "datasets": result.datasets,
            "files": len(result.files),
            "export_seconds_median": round(statistics.median(seconds), 2),
            "export_seconds": [round(s, 2) for s in seconds],
            "largest_jsonstat": largest[0].name,
            "largest_jsonstat_kb": round(largest[1] / 1000, 1),
            "export_mb": round(sum(f.stat().st_size for f in result.files) / 1e6, 2),
        }
        if not args.no_browser and CHROMIUM.exists():
            site = publish(home.published_db, Path(scratch) / "site").site_dir
            dataset = largest[0].name.split(".")[0]
            summary.update(_render_ms(site, dataset, args.repeat))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
