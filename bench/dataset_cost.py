"""Where the open data's time goes: each dataset's structure (``load_datasets``), SDMX-CSV,
SDMX-ML, JSON-stat (both languages) and digest, timed apart (wall and CPU seconds of this
process, DuckDB's threads included), written into a scratch folder.

    MIGSTAT_HOME=/tmp/x .venv/bin/python bench/dataset_cost.py WAREHOUSE OUT [--only ID,ID]
        [--profile FILE]

``--profile`` writes a cProfile of the whole run (``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import resource
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from migstat.publish import sdmx
from migstat.publish.data import Warehouse
from migstat.publish.datasets import Dataset, as_text, load_datasets
from migstat.publish.export import dataset_files, write_datasets
from migstat.publish.jsonstat import write_dataset


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(label: str, work: Callable[[], object]) -> None:
    wall, cpu = time.perf_counter(), _cpu()
    work()
    print(
        f"{label:<44} {time.perf_counter() - wall:8.1f} s wall {_cpu() - cpu:8.1f} s CPU",
        flush=True,
    )


def _one(warehouse: Warehouse, dataset: Dataset, out: Path, updated: str) -> None:
    names = dataset_files(dataset.id)
    print(
        f"-- {dataset.id}: {dataset.count:,} observations, {len(dataset.dimensions)} dimensions, "
        f"text made by DuckDB: {as_text(dataset)}",
        flush=True,
    )
    csv_path = out / names["sdmx-csv"][0]
    _timed("  sdmx-csv", lambda: sdmx.write_data_csv(warehouse, dataset, csv_path))
    _timed("  sdmx-ml", lambda: sdmx.write_structure(dataset, out / names["sdmx-ml"][0]))
    paths = {lang: out / n for lang, n in zip(("es", "en"), names["json-stat"], strict=True)}
    _timed("  json-stat (es + en)", lambda: write_dataset(warehouse, dataset, paths, updated))

    def digest() -> None:
        h = hashlib.sha256()
        with csv_path.open("rb") as handle:
            while block := handle.read(1 << 20):
                h.update(block)

    _timed("  digest of the sdmx-csv", digest)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--only", default="")
    parser.add_argument("--profile", type=Path)
    parser.add_argument(
        "--whole", action="store_true", help="time write_datasets as publish calls it"
    )
    args = parser.parse_args()
    only = {s for s in args.only.split(",") if s}
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    now = datetime.now().astimezone()
    updated = now.isoformat(timespec="seconds")
    args.out.mkdir(parents=True, exist_ok=True)
    with Warehouse(args.warehouse, spill=True) as warehouse:
        found: list[Dataset] = []
        _timed(
            "load_datasets (structure of every dataset)",
            lambda: found.extend(load_datasets(warehouse)),
        )
        datasets = [d for d in found if not only or d.id in only]
        if args.whole:
            ids = {d.id for d in datasets}
            _timed(
                f"write_datasets ({len(ids)})",
                lambda: write_datasets(warehouse, found, args.out, now=now, only=ids),
            )
        for dataset in datasets if not args.whole else []:
            _one(warehouse, dataset, args.out, updated)
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"peak RSS {peak:.2f} GB")


if __name__ == "__main__":
    main()
