"""DuckDB time of the country profile's two charts by sex: their former query on the fact table
(fct_observations) against their query on the mart made for them (movements_by_nationality_sex_age).

Usage: .venv/bin/python bench/sex_charts_sql.py [--warehouse FILE] [--rounds N]
Reads the published warehouse of $MIGSTAT_HOME unless --warehouse names one (read-only). Each
query is the chart's own, written from the dashboards YAML as tests/python/test_superset.py
writes it (the former one: same chart on fct_observations with its former fixed filters). Each
round opens a read-only connection (as Superset does per query), runs the query and fetches
every row; the time is the query and fetch only. Each chart runs unfiltered and with the
dashboard's country filter (--country). Prints a table (median ms, ratio, rows) and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from migstat.home import REPO_ROOT, Home
from migstat.superset.spec import load_project

# The chart SQL writer is a test helper (tests/python/test_superset.py); the benchmark shares it.
sys.path.insert(0, str(REPO_ROOT / "tests" / "python"))
from test_superset import direct_sql

DASHBOARD = "country-profile"
FORMER = {
    "sex_by_flow": {"source": "entries_exits", "sheet": ["ENTRADAS_NAC", "SALIDAS_NAC"]},
    "sex_age_pyramid": {"source": "entries_exits", "sheet": "ENTRADAS_EDAD"},
}
"""The fixed filters the two charts had on fct_observations before the mart."""


def timed(warehouse: Path, sql: str, rounds: int) -> tuple[float, int]:
    """(median ms of query and fetch over ``rounds`` fresh connections, rows returned)."""
    times: list[float] = []
    rows = 0
    for _ in range(rounds):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            started = time.perf_counter()
            rows = len(con.execute(sql).fetchall())
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), rows


def count(warehouse: Path, table: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute(f"select count(*) from marts.{table}").fetchone()
    return int(found[0]) if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, help="a warehouse file (default: the home's)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--country", default="MEX", help="the country filter's value (MEX)")
    args = parser.parse_args()
    warehouse = args.warehouse or Home(Path(os.environ["MIGSTAT_HOME"])).published_db
    project = load_project()
    dashboard = next(d for d in project.dashboards if d.slug == DASHBOARD)
    result: dict[str, Any] = {
        "warehouse": str(warehouse),
        "rounds": args.rounds,
        "rows": {
            table: count(warehouse, table)
            for table in ("fct_observations", "movements_by_nationality_sex_age")
        },
        "charts": {},
    }
    country = args.country
    print("| chart (country filter) | fct_observations ms | mart ms | ratio | rows |")
    print("|---|---:|---:|---:|---:|")
    for key, where in FORMER.items():
        chart = dashboard.charts[key]
        former = chart.model_copy(update={"dataset": "fct_observations", "where": where})
        for label, extra in (("", None), (f" ({country})", {"reporting_country_code": country})):
            sql_before = direct_sql(project, former, extra)
            before, rows_before = timed(warehouse, sql_before, args.rounds)
            after, rows_after = timed(warehouse, direct_sql(project, chart, extra), args.rounds)
            ratio = before / after if after else float("inf")
            result["charts"][key + label] = {
                "former_ms": round(before, 1),
                "mart_ms": round(after, 1),
                "ratio": round(ratio, 1),
                "rows": [rows_before, rows_after],
            }
            print(f"| {key}{label} | {before:,.1f} | {after:,.1f} | {ratio:,.1f}x | {rows_after} |")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
