"""Run one compiled model's SQL on a copy of a warehouse: CPU seconds and DuckDB's peak memory.

    .venv/bin/python bench/time_sql.py WAREHOUSE.duckdb COMPILED.sql [--threads 2]
        [--memory-limit 3GB]

The compiled SQL (dbt's target/compiled/.../<model>.sql) runs as `create temp table ... as`
in this process, with the same DuckDB limits as a build; prints wall s, CPU s of this process
(DuckDB's threads included) and the peak RSS. No dbt start-up or parse in the numbers.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import duckdb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("sql", type=Path)
    parser.add_argument("--threads", default="2")
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--temp-directory", default=None)
    args = parser.parse_args()
    config = {
        "threads": args.threads,
        "memory_limit": args.memory_limit,
        "preserve_insertion_order": "false",
    }
    if args.temp_directory:
        config["temp_directory"] = args.temp_directory
    con = duckdb.connect(str(args.warehouse), read_only=True, config=config)
    sql = args.sql.read_text(encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    rows = con.execute(f"create temp table timed as {sql}").fetchall()
    count = con.execute("select count(*) from timed").fetchone()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = after.ru_maxrss / 1024 / 1024
    del rows
    print(
        f"{args.sql.stem}: wall {wall:.1f} s, cpu {cpu:.1f} s, peak RSS {peak:.2f} GB,"
        f" {count[0] if count else 0} rows"
    )


if __name__ == "__main__":
    main()
