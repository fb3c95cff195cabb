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
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from migstat.process_group import processes_with_env
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


# A query that runs for hours on a local Spark: a run that hangs with its JVM up.
HANGING = ("show", "--inline", "select sum(id % 7) as s from range(0, 1000000000000)")


def spark_processes(spark_dir: Path) -> list[int]:
    """dbt and the JVM of a Spark run (both carry its MIGSTAT_SPARK_DIR)."""
    return processes_with_env("MIGSTAT_SPARK_DIR", str(spark_dir.resolve()))


def is_java(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"java")
    except OSError:
        return False


def test_a_spark_run_past_its_timeout_is_stopped_with_its_jvm(tmp_path: Path) -> None:
    ensure_spark_venv()
    spark_dir = tmp_path / "spark"
    (spark_dir / "raw").mkdir(parents=True)
    run = run_spark_dbt(spark_dir / "raw", spark_dir, *HANGING, timeout=30)
    assert run.timed_out and run.exit_code != 0
    assert "stopped after the timeout of 30 s" in run.log_path.read_text()
    assert spark_processes(spark_dir) == []


def test_a_stopped_spark_run_leaves_no_jvm(tmp_path: Path) -> None:
    """`migstat spark build` stopped from outside (SIGTERM) while Spark runs: dbt and JVM go."""
    ensure_spark_venv()
    spark_dir = tmp_path / "spark"
    (spark_dir / "raw").mkdir(parents=True)
    caller = (
        "import sys\n"
        "from pathlib import Path\n"
        "from migstat.spark import run_spark_dbt\n"
        f"run_spark_dbt(Path({str(spark_dir / 'raw')!r}), Path({str(spark_dir)!r}), *{HANGING!r})\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", caller], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 600
    while not any(is_java(pid) for pid in spark_processes(spark_dir)):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the JVM never started"
        time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert "interrupted by signal 15" in err
    deadline = time.monotonic() + 60
    while spark_processes(spark_dir) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert spark_processes(spark_dir) == [], "dbt or its JVM outlived the stopped run"
