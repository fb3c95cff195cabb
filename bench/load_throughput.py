"""The loader against `pandas.read_excel` and the bare python-calamine parse, on the same files.

Usage: .venv/bin/python bench/load_throughput.py [SAMPLE_DIR] [--recheck N]
Without SAMPLE_DIR, sample workbooks are generated into a temporary folder first.

Measured side by side in one run (the ratios are what to read: machines are noisy):
* `migstat load` (read + parse in worker processes + DuckDB write), in process, fresh store;
* `pandas.read_excel` with its default engine (openpyxl), every sheet of every loaded file;
* the bare parse: `CalamineWorkbook.from_path(...).get_sheet_by_name(...).to_python()` over
  every sheet of every loaded file (what any loader built on python-calamine must at least do);
* peak resident memory of a `migstat load` process (and its reader processes) on the same files;
* re-checking N unchanged files (default 1,000: copies of the samples, loaded once first), in
  process and as a whole `migstat load` command.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd
from python_calamine import CalamineWorkbook

from loaders.load import collect_files, load_paths
from migstat.specs import load_specs

T = TypeVar("T")

PEAK = """
import json, resource, subprocess, sys
run = subprocess.run(sys.argv[1:], capture_output=True)
print(json.dumps({"rc": run.returncode,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


CPU: dict[str, float] = {}
"""CPU seconds of the last ``timed`` action: this process's threads plus finished children."""


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(action: Callable[[], T]) -> tuple[float, T]:
    start, cpu = time.perf_counter(), _cpu()
    result = action()
    CPU["last"] = _cpu() - cpu
    return time.perf_counter() - start, result


def migstat_load(home: Path, *paths: Path) -> tuple[float, dict[str, float]]:
    """Seconds and peak memory of one `migstat load` command in a fresh process."""
    env = {**os.environ, "MIGSTAT_HOME": str(home)}
    command = [sys.executable, "-c", PEAK, sys.executable, "-m", "migstat", "load"]
    seconds, done = timed(
        lambda: subprocess.run(
            [*command, *map(str, paths)], capture_output=True, text=True, env=env, check=True
        )
    )
    return seconds, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("samples", nargs="?", type=Path)
    parser.add_argument("--recheck", type=int, default=1000, help="unchanged files to re-check")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        samples = arguments.samples
        if samples is None:
            samples = scratch_path / "inbox"
            subprocess.run(
                [sys.executable, "-m", "migstat", "sample", "-o", str(samples)],
                check=True,
                capture_output=True,
            )
        files = collect_files([samples])
        specs = load_specs()
        loader_seconds, outcomes = timed(
            lambda: load_paths([samples], scratch_path / "w" / "landing.duckdb", specs)
        )
        loader_cpu = CPU["last"]
        cells = sum(outcome.cells for outcome in outcomes)
        readable = [o.file for o in outcomes if o.status == "loaded"]

        def bare_parse() -> int:
            total = 0
            for path in readable:
                book = CalamineWorkbook.from_path(str(path))
                for name in book.sheet_names:
                    total += sum(len(row) for row in book.get_sheet_by_name(name).to_python())
            return total

        def pandas_default() -> int:
            total = 0
            for path in readable:
                frames = pd.read_excel(path, sheet_name=None, header=None)
                total += sum(frame.size for frame in frames.values())
            return total

        bare_seconds, bare_cells = timed(bare_parse)
        bare_cpu = CPU["last"]
        pandas_seconds, _ = timed(pandas_default)
        pandas_cpu = CPU["last"]
        command_seconds, command = migstat_load(scratch_path / "home", samples)

        # Re-checking unchanged files: N copies, loaded once, then checked again.
        many = scratch_path / "many"
        many.mkdir()
        for index in range(arguments.recheck):
            source = files[index % len(files)]
            shutil.copy2(source, many / f"{index:05d}_{source.name}")
        recheck_db = scratch_path / "r" / "landing.duckdb"
        load_paths([many], recheck_db, specs)
        recheck_seconds, again = timed(lambda: load_paths([many], recheck_db, specs))
        assert all(outcome.status == "skipped" for outcome in again)
        recheck_home = scratch_path / "rhome"
        migstat_load(recheck_home, many)
        recheck_command_seconds, _ = migstat_load(recheck_home, many)

    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"files: {len(files)} ({len(readable)} loaded); data cells loaded: {cells:,}")
    print(f"(grid cells the bare parse returns, labels and blanks included: {bare_cells:,})")
    rows = [
        ("migstat load (workers + DuckDB write)", loader_seconds, loader_cpu),
        ("pandas.read_excel default engine (read only)", pandas_seconds, pandas_cpu),
        ("bare python-calamine parse (read only)", bare_seconds, bare_cpu),
    ]
    print(f"{'reader':<46} {'seconds':>7} {'CPU s':>6} {'data cells/s':>13} {'loader x':>9}")
    for name, seconds, cpu in rows:
        speedup = seconds / loader_seconds
        print(f"{name:<46} {seconds:>7.2f} {cpu:>6.2f} {cells / seconds:>13,.0f} {speedup:>8.2f}x")
    print("(loader x: the loader's speed relative to that reader; above 1 the loader is faster;")
    print(" CPU s: CPU seconds of all processes and threads, less sensitive to a busy machine)")
    print(
        f"`migstat load` command on the same files: {command_seconds:.2f} s, "
        f"peak memory {command['peak_mb']:.0f} MB (largest of the command and its readers)"
    )
    print(
        f"re-check of {arguments.recheck:,} unchanged files: {recheck_seconds:.2f} s in process, "
        f"{recheck_command_seconds:.2f} s as a `migstat load` command"
    )
    print(
        f"loader_vs_pandas={pandas_seconds / loader_seconds:.2f} "
        f"loader_vs_bare_parse={bare_seconds / loader_seconds:.2f} "
        f"peak_mb={command['peak_mb']:.0f} recheck_{arguments.recheck}_s={recheck_seconds:.2f}"
    )


if __name__ == "__main__":
    main()
