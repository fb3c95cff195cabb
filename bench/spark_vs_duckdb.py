"""The same dbt project on DuckDB and on Spark, same raw data, side by side.

Usage: .venv/bin/python bench/spark_vs_duckdb.py [MIGSTAT_HOME]

Needs a home with a published warehouse (`migstat sample`, `load`, `build`). Runs, one after
the other, `dbt build --exclude-resource-type test unit_test` (seeds and models, no tests) on a
copy of the published warehouse with DuckDB, then the same on Spark (session mode, local
PySpark, .venv-spark) from the raw store exported as Parquet, compares every mart and prints
the seconds of each and their ratio. Wall time on a shared machine includes waiting for a core.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from migstat.build import dbt_command
from migstat.home import Home
from migstat.spark import compare_marts, ensure_spark_venv, export_raw, run_spark_dbt

NO_TESTS = ("build", "--exclude-resource-type", "test", "unit_test")


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(os.environ["MIGSTAT_HOME"])
    home = Home(root)
    copy = root / "bench" / "duckdb.duckdb"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(home.published_db, copy)
    argv, env = dbt_command(home, copy, *NO_TESTS)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    duckdb_seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"DuckDB build failed:\n{done.stdout[-3000:]}")

    ensure_spark_venv()
    spark_dir = root / "bench" / "spark"
    started = time.perf_counter()
    export_raw(home.published_db, spark_dir / "raw")
    export_seconds = time.perf_counter() - started
    run = run_spark_dbt(spark_dir / "raw", spark_dir, *NO_TESTS)
    if run.exit_code != 0:
        sys.exit(f"Spark build failed: see {run.log_path}")
    differences = compare_marts(copy, spark_dir)

    print(f"duckdb_build_s={duckdb_seconds:.1f}")
    print(f"spark_export_s={export_seconds:.1f} spark_build_s={run.seconds:.1f}")
    print(f"spark_vs_duckdb={run.seconds / duckdb_seconds:.1f}")
    print(f"marts_differing={len(differences)}")
    for table, difference in differences.items():
        print(f"  {table}: {difference}")


if __name__ == "__main__":
    main()
