"""Cells loaded per second by `migstat load`, next to `pandas.read_excel` on the same files.

Usage: .venv/bin/python bench/load_throughput.py [SAMPLE_DIR]
Without SAMPLE_DIR, sample workbooks are generated into a temporary folder first.
Everything is measured side by side in one run; the ratios are what to read (machines are noisy).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from loaders.load import collect_files, load_paths
from migstat.specs import load_specs


def timed(action: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()  # type: ignore[operator]
    return time.perf_counter() - start, result


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        if len(sys.argv) > 1:
            samples = Path(sys.argv[1])
        else:
            samples = scratch_path / "inbox"
            subprocess.run(
                [sys.executable, "-m", "migstat", "sample", "-o", str(samples)], check=True
            )
        files = collect_files([samples])
        specs = load_specs()
        loader_seconds, outcomes = timed(
            lambda: load_paths([samples], scratch_path / "landing.duckdb", specs)
        )
        cells = sum(outcome.cells for outcome in outcomes)  # type: ignore[attr-defined]
        readable = [o.file for o in outcomes if o.status == "loaded"]  # type: ignore[attr-defined]

        def read_all(engine: str | None) -> int:
            total = 0
            for path in readable:
                frames = pd.read_excel(path, sheet_name=None, header=None, engine=engine)
                total += sum(frame.size for frame in frames.values())
            return total

        pandas_seconds, pandas_cells = timed(lambda: read_all(None))
        calamine_seconds, _ = timed(lambda: read_all("calamine"))
    print(f"files: {len(files)} ({len(readable)} loaded)")
    print(f"data cells loaded (with lineage): {cells:,}")
    rows = [
        ("migstat load (parse + validate + DuckDB write)", loader_seconds, cells),
        ("pandas.read_excel default engine (read only)", pandas_seconds, cells),
        ("pandas.read_excel engine=calamine (read only)", calamine_seconds, cells),
    ]
    print(f"{'reader':<50} {'seconds':>8} {'data cells/s':>14} {'vs pandas':>10}")
    for name, seconds, count in rows:
        print(
            f"{name:<50} {seconds:>8.2f} {count / seconds:>14,.0f} "
            f"{pandas_seconds / seconds:>9.2f}x"
        )
    print(f"(pandas grid cells read, including labels and blanks: {pandas_cells:,})")


if __name__ == "__main__":
    main()
