"""The loader against `pandas.read_excel` and the bare python-calamine parse, at two sizes.

Usage: .venv/bin/python bench/loader_scale.py [--small DIR] [--large DIR] [--large-files N]
                                               [--work DIR] [--no-pandas-large]

Each inbox is measured side by side in one run, on the same files for the three readers:

* ``migstat load`` as a command (fresh home; the inbox's ``../specs`` overlay copied in when the
  inbox has one, as tier L's does), wall and CPU seconds (the command and its readers);
* the same command on the inbox's smallest file alone: the fixed cost (interpreter, imports, a
  new store, one reader), paid once whatever the cells;
* ``pandas.read_excel`` (default engine) and the bare parse (``CalamineWorkbook`` ->
  ``to_python`` of every sheet) of every loaded file, in this process.

migstat's modules are compiled to bytecode first (``bench/run.py``'s ``compile_bytecode``),
as an installed copy has them. Defaults: the tier-S samples of ``bench/run.py``
(``/tmp/bench-S/inbox``) and a deterministic subset of ``--large-files`` files (every k-th, all
sources and countries) of the tier-L inbox (``/tmp/bench-L/inbox``), copied (the inbox is only
read). With two sizes, the cost per cell and
the fixed cost are also fitted from the loader's own two runs. Written to
``bench/results/loader-scale.md``; the last line is ``loader_vs_pandas_<name>=<r>
loader_vs_bare_parse_<name>=<r> ...`` for each inbox.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from run import (
    RESULTS,
    Ran,
    compile_bytecode,
    home_env,
    loader_fixed_cost,
    migstat,
    raw_facts,
    read_calamine,
    read_pandas,
    run,
)


def subset(inbox: Path, count: int) -> list[Path]:
    """``count`` files spread evenly over the inbox's sorted files (every k-th)."""
    files = sorted(p for p in inbox.iterdir() if p.suffix.lower() in (".xlsx", ".xls", ".ods"))
    if count <= 0 or count >= len(files):
        return files
    step = len(files) / count
    return [files[int(index * step)] for index in range(count)]


def measure(name: str, inbox: Path, files: list[Path], work: Path, pandas: bool) -> dict:
    home = work / name
    shutil.rmtree(home, ignore_errors=True)
    (home / "inbox").mkdir(parents=True)
    for path in files:
        shutil.copy2(path, home / "inbox" / path.name)
    if (inbox.parent / "specs").is_dir():
        shutil.copytree(inbox.parent / "specs", home / "specs")
    copied = sorted((home / "inbox").iterdir())
    print(f"{name}: {len(copied)} files from {inbox}", flush=True)
    loader = run(migstat(home, "load", str(home / "inbox")), home_env(home))
    fixed: Ran = loader_fixed_cost(home, copied)
    facts = raw_facts(home / "warehouse" / "landing.duckdb")
    with duckdb.connect(str(home / "warehouse" / "landing.duckdb"), read_only=True) as con:
        loaded = [
            Path(row[0])
            for row in con.execute(
                "select file_path from raw.submissions where status = 'loaded' order by 1"
            ).fetchall()
        ]
    cpu = time.process_time()
    started = time.perf_counter()
    grid = read_calamine(loaded)
    bare_s, bare_cpu = time.perf_counter() - started, time.process_time() - cpu
    pandas_s = pandas_cpu = None
    if pandas:
        cpu = time.process_time()
        started = time.perf_counter()
        read_pandas(loaded)
        pandas_s, pandas_cpu = time.perf_counter() - started, time.process_time() - cpu
    shutil.rmtree(home, ignore_errors=True)
    result = {
        "name": name,
        "files": len(copied),
        "loaded": len(loaded),
        "cells": facts["cells"],
        "grid": grid,
        "loader": (loader.seconds, loader.cpu),
        "fixed": (fixed.seconds, fixed.cpu),
        "bare": (bare_s, bare_cpu),
        "pandas": (pandas_s, pandas_cpu),
        "load": os.getloadavg()[0],
    }
    print(f"  {result}", flush=True)
    return result


def ratio(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or b is None or b <= 0 else f"{a / b:.2f}"


def table(results: list[dict]) -> list[str]:
    lines = [
        "| inbox | files | data cells | reader | wall s | CPU s | data cells/s (wall) |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        for label, key in (
            ("`migstat load` (command, readers, DuckDB write)", "loader"),
            ("`migstat load` of the smallest file alone (fixed cost)", "fixed"),
            ("`pandas.read_excel` default engine (read only)", "pandas"),
            ("python-calamine bare parse (read only)", "bare"),
        ):
            wall, cpu = r[key]
            if wall is None:
                lines.append(f"| {r['name']} | | | {label} | not run | | |")
                continue
            rate = "" if key == "fixed" else f"{r['cells'] / wall:,.0f}"
            lines.append(
                f"| {r['name']} | {r['files']:,} | {r['cells']:,} | {label} | {wall:.2f} | "
                f"{cpu:.2f} | {rate} |"
            )
    lines += [
        "",
        "| inbox | loader_vs_pandas (wall / CPU) | loader_vs_bare_parse (wall / CPU) | "
        "the same without the fixed cost (wall / CPU) | load average |",
        "|---|---|---|---|---:|",
    ]
    for r in results:
        (lw, lc), (fw, fc), (bw, bc), (pw, pc) = r["loader"], r["fixed"], r["bare"], r["pandas"]
        lines.append(
            f"| {r['name']} | {ratio(pw, lw)} / {ratio(pc, lc)} | {ratio(bw, lw)} / "
            f"{ratio(bc, lc)} | {ratio(bw, lw - fw)} / {ratio(bc, lc - fc)} | {r['load']:.1f} |"
        )
    if len(results) == 2:
        small, large = sorted(results, key=lambda r: r["cells"])
        cells = large["cells"] - small["cells"]
        if cells > 0:
            lines.append("")
            for index, what in ((0, "wall"), (1, "CPU")):
                per_cell = (large["loader"][index] - small["loader"][index]) / cells
                fixed = small["loader"][index] - per_cell * small["cells"]
                bare = large["bare"][index] / large["grid"]
                lines.append(
                    f"Fitted from the loader's two runs ({what}): {per_cell * 1e6:.2f} s per "
                    f"million data cells + {fixed:.2f} s fixed; the bare parse "
                    f"{bare * 1e6:.2f} s per million grid cells."
                )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=Path, default=Path("/tmp/bench-S/inbox"))
    parser.add_argument("--large", type=Path, default=Path("/tmp/bench-L/inbox"))
    parser.add_argument("--large-files", type=int, default=108, help="0: every file")
    parser.add_argument("--no-pandas-large", action="store_true")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-loader-scale"))
    args = parser.parse_args()
    started = datetime.now(UTC)
    compile_bytecode()
    results = [measure("S", args.small, subset(args.small, 0), args.work, True)]
    if args.large.is_dir():
        files = subset(args.large, args.large_files)
        results.append(
            measure(f"L{len(files)}", args.large, files, args.work, not args.no_pandas_large)
        )
    shutil.rmtree(args.work, ignore_errors=True)
    last = " ".join(
        f"loader_vs_pandas_{r['name']}={ratio(r['pandas'][0], r['loader'][0])} "
        f"loader_vs_bare_parse_{r['name']}={ratio(r['bare'][0], r['loader'][0])}"
        for r in results
    )
    lines = [
        "# Loader at two sizes (bench/loader_scale.py)",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores (shared: read the CPU "
        "columns beside the wall times).",
        "",
        *table(results),
        "",
        f"`{last}`",
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "loader-scale.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    print(last)


if __name__ == "__main__":
    main()
