"""Time single dbt models on a copy of a built warehouse: wall, CPU seconds and peak memory.

    .venv/bin/python bench/time_models.py --home HOME MODEL [MODEL ...]
        [--project DIR] [--runs N] [--incremental]

Copies HOME's published warehouse (``warehouse/migstat.duckdb``) to a scratch file once, then
runs ``dbt run -s MODEL`` (``--full-refresh`` unless ``--incremental``) against it with the
same vars, DuckDB limits and spill folder as ``migstat build``, one model at a time, and prints
one line per run: wall s, CPU s (user + system of dbt and DuckDB) and the peak RSS of the dbt
process. ``--project`` runs another checkout's models (for example an export of main) on the
same data, so two versions of a model can be compared on the same warehouse.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from migstat.build import dbt_command
from migstat.home import Home
from migstat.specs import load_specs
from migstat.wiring import dbt_vars


def time_model(
    home: Home, database: Path, project: Path, model: str, *, full_refresh: bool
) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS GB, exit code) of one ``dbt run -s model``."""
    spec_vars = dbt_vars(load_specs(overlay=home.root / "specs"))
    argv, env = dbt_command(home, database, "run", "-s", model, "--vars", json.dumps(spec_vars))
    argv[argv.index("--project-dir") + 1] = str(project)
    argv[argv.index("--profiles-dir") + 1] = str(project)
    if full_refresh:
        argv.append("--full-refresh")
    # GNU time measures dbt alone: wall, user + system CPU (DuckDB's threads included), peak RSS.
    measured = database.with_suffix(".time")
    argv = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(measured), *argv]
    done = subprocess.run(argv, env=env, cwd=home.root, capture_output=True, text=True)
    if done.returncode:
        print(done.stdout[-3000:], file=sys.stderr)
    wall, user, system, peak_kb = measured.read_text(encoding="utf-8").split()[-4:]
    return float(wall), float(user) + float(system), int(peak_kb) / 1024 / 1024, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--incremental", action="store_true")
    parser.add_argument("--scratch", type=Path, default=None)
    args = parser.parse_args()
    home = Home(args.home.resolve())
    scratch = args.scratch or home.root / "tmp" / "time-models.duckdb"
    scratch.parent.mkdir(parents=True, exist_ok=True)
    if not scratch.exists():
        shutil.copyfile(home.root / "warehouse" / "migstat.duckdb", scratch)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    for model in args.models:
        for run in range(args.runs):
            wall, cpu, peak, code = time_model(
                home, scratch, args.project.resolve(), model, full_refresh=not args.incremental
            )
            status = "ok" if code == 0 else f"FAILED ({code})"
            print(
                f"{model} run {run + 1}: wall {wall:.1f} s, cpu {cpu:.1f} s,"
                f" peak {peak:.2f} GB, {status}",
                flush=True,
            )


if __name__ == "__main__":
    main()
