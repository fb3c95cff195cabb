"""The same dbt project on Spark: a build from the sample raw data, every mart compared row by
row with the DuckDB build of the same raw data.

It runs in CI (`make test` installs .venv-spark from requirements/spark.txt; the test also creates
it when missing) on a reduced sample: one reference year of every country and source
(`MIGSTAT_SPARK_TEST_YEARS`, e.g. `2022-2024` for the full samples). A Spark build's cost is per
model and per stage, not per row. The durations are printed (`pytest -s`), never asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from migstat.spark import compare_marts, ensure_spark_venv, export_raw, run_spark_dbt
from migstat.workbooks.samples import parse_years, write_samples

pytestmark = pytest.mark.slow

YEARS = parse_years(os.environ.get("MIGSTAT_SPARK_TEST_YEARS", "2024"))


def migstat(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MIGSTAT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "migstat", *args], env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("spark_home")
    inbox = home / "inbox"
    write_samples(inbox, years=YEARS)
    loaded = migstat(home, "load", str(inbox))
    assert loaded.returncode in (0, 1), loaded.stderr
    started = time.perf_counter()
    built = migstat(home, "build", "--json")
    seconds = time.perf_counter() - started
    assert built.returncode == 0, built.stdout + built.stderr
    print(f"\nDuckDB build (dbt build with tests): {json.loads(built.stdout)['seconds']} s")
    return {"home": home, "warehouse": home / "warehouse" / "migstat.duckdb", "seconds": seconds}


def test_every_mart_is_the_same_on_spark_and_duckdb(duckdb_build: dict) -> None:
    ensure_spark_venv()
    home: Path = duckdb_build["home"]
    raw_dir = home / "spark" / "raw"
    tables = export_raw(duckdb_build["warehouse"], raw_dir)
    assert {"submissions", "label_resolutions", "entries_exits"} <= set(tables)

    run = run_spark_dbt(raw_dir, home / "spark")
    print(f"\nSpark build (dbt build without tests): {run.seconds:.1f} s")
    assert run.exit_code == 0, run.log_path.read_text()[-4000:]

    with duckdb.connect(str(duckdb_build["warehouse"]), read_only=True) as con:
        marts = con.execute(
            "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts'"
        ).fetchall()
    # The comparison is not vacuous: the marts exist and hold rows.
    assert len(marts) >= 15
    assert sum(size for _, size in marts) > 1000
    assert compare_marts(duckdb_build["warehouse"], home / "spark") == {}


def test_a_changed_mart_row_is_reported(duckdb_build: dict, tmp_path: Path) -> None:
    """The comparison itself: a Spark table with one row changed is a difference."""
    spark_dir = tmp_path / "spark"
    folder = spark_dir / "warehouse" / "marts.db" / "dim_sources"
    folder.mkdir(parents=True)
    with duckdb.connect(str(duckdb_build["warehouse"]), read_only=True) as con:
        con.execute(
            f"copy (select * from marts.dim_sources) to '{folder / 'a.parquet'}' (format parquet)"
        )
        con.execute(
            f"copy (select * replace ('x' as source) from marts.dim_sources limit 1) "
            f"to '{folder / 'b.parquet'}' (format parquet)"
        )
    differences = compare_marts(duckdb_build["warehouse"], spark_dir)
    assert "only on Spark" in differences["dim_sources"]
    assert "no Spark table" in differences["movements_yearly"]
