"""The second engine: the same dbt project on Spark (dbt-spark, session mode, local PySpark).

* :func:`export_raw` writes every table of a warehouse's ``raw`` schema as Parquet
  (``<out>/<table>/data.parquet``); the ``spark`` target's on-run-start hook registers them as
  the tables of Spark's ``raw`` schema (macros/portable/spark_raw.sql).
* :func:`ensure_spark_venv` creates ``.venv-spark`` from ``requirements/spark.txt`` when it is
  missing (dbt-spark and PySpark pin their own dbt-core; they stay out of the main environment).
* :func:`run_spark_dbt` runs ``dbt build`` (models and seeds) with ``--target spark``;
  Spark writes its tables as Parquet under ``<spark_dir>/warehouse/<schema>.db/<table>/``.
  dbt and its JVM form one process group, killed at the end of the run, after a timeout
  (``MIGSTAT_SPARK_TIMEOUT``, seconds) or when the caller is stopped.
* :func:`compare_marts` reads those files with DuckDB and compares every mart row by row with
  the DuckDB build of the same raw data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from migstat.errors import MigstatError
from migstat.home import project_root
from migstat.process_group import run_in_group

REQUIREMENTS = Path("requirements") / "spark.txt"
SPARK_VENV = ".venv-spark"
# Doubles are compared to this many decimals: the engines add in different orders.
DECIMALS = 6


TIMEOUT_ENV = "MIGSTAT_SPARK_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 3 * 3600.0


@dataclass(frozen=True)
class SparkRun:
    """One dbt invocation on Spark. ``timed_out``: it was stopped after its timeout (with its
    JVM); ``exit_code`` is then the signal's negative number."""

    exit_code: int
    seconds: float
    log_path: Path
    timed_out: bool = False


def spark_timeout() -> float:
    """Seconds a Spark dbt run may take: ``MIGSTAT_SPARK_TIMEOUT`` or three hours."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise MigstatError(f"{TIMEOUT_ENV}={text!r} is not a number of seconds above 0")
    return seconds


def export_raw(database: Path, out_dir: Path) -> list[str]:
    """Write every table of ``database``'s ``raw`` schema to ``out_dir/<table>/data.parquet``;
    return the table names. ``database`` is opened read-only (a published warehouse or a
    build that has its label resolutions written)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' and table_type = 'BASE TABLE' order by table_name"
            ).fetchall()
        ]
        for table in tables:
            folder = out_dir / table
            folder.mkdir(exist_ok=True)
            target = str(folder / "data.parquet").replace("'", "''")
            con.execute(f"copy raw.\"{table}\" to '{target}' (format parquet)")
    return tables


def spark_python(root: Path | None = None) -> Path:
    """The interpreter of the Spark environment of the checkout ``root``."""
    return (root or project_root()) / SPARK_VENV / "bin" / "python"


def ensure_spark_venv(root: Path | None = None) -> Path:
    """Create ``.venv-spark`` with the pins of ``requirements/spark.txt`` when it lacks dbt-spark;
    return its interpreter. Raises ``subprocess.CalledProcessError`` when pip fails."""
    root = root or project_root()
    python = spark_python(root)
    dbt = python.with_name("dbt")
    if python.exists() and dbt.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", str(root / SPARK_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(root / REQUIREMENTS)],
        check=True,
    )
    return python


def spark_env(raw_dir: Path, spark_dir: Path) -> dict[str, str]:
    """The environment of a dbt invocation with ``--target spark``."""
    env = dict(os.environ)
    env.update(
        {
            "MIGSTAT_SPARK_RAW": str(raw_dir.resolve()),
            "MIGSTAT_SPARK_DIR": str(spark_dir.resolve()),
            "DBT_TARGET_PATH": str(spark_dir / "dbt" / "target"),
            "DBT_LOG_PATH": str(spark_dir / "dbt" / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "PYSPARK_PYTHON": str(spark_python()),
        }
    )
    return env


def run_spark_dbt(
    raw_dir: Path, spark_dir: Path, *args: str, timeout: float | None = None
) -> SparkRun:
    """``dbt <args>`` (default: build of seeds and models) on Spark, from the raw Parquet in
    ``raw_dir``; output in ``spark_dir/dbt/build.log``.

    dbt and the JVM it starts run in their own process group, which is killed when the run ends,
    after ``timeout`` seconds (default :func:`spark_timeout`), on SIGTERM, SIGINT or SIGHUP
    (raising :class:`migstat.process_group.GroupInterrupted`) and when this process dies: no
    JVM outlives the run."""
    root = project_root()
    dbt = ensure_spark_venv(root).with_name("dbt")
    spark_dir.mkdir(parents=True, exist_ok=True)
    # The catalog lives in the session (in-memory): every invocation starts from no tables.
    shutil.rmtree(spark_dir / "warehouse", ignore_errors=True)
    log_path = spark_dir / "dbt" / "build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # Always a full build: incremental builds are DuckDB's (macros/incremental.sql).
    command = args or ("build", "--full-refresh", "--exclude-resource-type", "test", "unit_test")
    argv = [str(dbt), *command, "--target", "spark"]
    argv += ["--project-dir", str(root), "--profiles-dir", str(root)]
    limit = spark_timeout() if timeout is None else timeout
    started = time.perf_counter()
    with log_path.open("w") as log:
        done = run_in_group(argv, env=spark_env(raw_dir, spark_dir), output=log, timeout=limit)
        if done.timed_out:
            log.write(f"\nmigstat: stopped after the timeout of {limit:g} s ({TIMEOUT_ENV})\n")
    return SparkRun(done.exit_code, time.perf_counter() - started, log_path, done.timed_out)


def spark_table_files(spark_dir: Path, schema: str, table: str) -> str:
    """The Parquet files of a table Spark wrote (a glob DuckDB reads)."""
    return str(spark_dir / "warehouse" / f"{schema}.db" / table / "*.parquet")


def _normalised(
    con: duckdb.DuckDBPyConnection, relation: str, columns: list[tuple[str, str]]
) -> str:
    """A select over ``relation`` with every column as text, doubles rounded to ``DECIMALS``."""
    parts = []
    for name, data_type in columns:
        quoted = f'"{name}"'
        if data_type.upper() in ("DOUBLE", "FLOAT", "REAL") or data_type.upper().startswith(
            "DECIMAL"
        ):
            expr = f"cast(round(cast({quoted} as double), {DECIMALS}) as varchar)"
        else:
            expr = f"cast({quoted} as varchar)"
        parts.append(f"{expr} as {quoted}")
    return f"select {', '.join(parts)} from {relation}"


def compare_marts(database: Path, spark_dir: Path, schema: str = "marts") -> dict[str, str]:
    """Every table of ``schema`` in the DuckDB ``database`` against the table Spark built;
    return the differences by table ({} when every mart has the same rows)."""
    differences: dict[str, str] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
                [schema],
            ).fetchall()
        ]
        for table in tables:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            files = spark_table_files(spark_dir, schema, table)
            try:
                spark_columns = {
                    row[0]
                    for row in con.execute(
                        f"describe select * from read_parquet('{files}')"
                    ).fetchall()
                }
            except duckdb.Error as error:
                differences[table] = f"no Spark table: {error}"
                continue
            missing = [name for name, _ in columns if name not in spark_columns]
            if missing:
                differences[table] = f"columns missing on Spark: {', '.join(missing)}"
                continue
            duck = _normalised(con, f'{schema}."{table}"', columns)
            spark = _normalised(con, f"read_parquet('{files}')", columns)
            only_duck = con.execute(f"select count(*) from ({duck} except all {spark})").fetchone()
            only_spark = con.execute(f"select count(*) from ({spark} except all {duck})").fetchone()
            assert only_duck is not None and only_spark is not None
            if only_duck[0] or only_spark[0]:
                sample = con.execute(
                    f"select 'duckdb' as engine, * from ({duck} except all {spark}) "
                    f"union all select 'spark', * from ({spark} except all {duck}) limit 6"
                ).fetchall()
                differences[table] = (
                    f"{only_duck[0]} rows only on DuckDB, {only_spark[0]} only on Spark; "
                    f"for example {sample}"
                )
    return differences
