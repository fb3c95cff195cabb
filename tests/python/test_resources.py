"""DuckDB's memory limit, threads and spill folder come from the machine and reach DuckDB."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from migstat.build import dbt_command
from migstat.home import REPO_ROOT, Home
from migstat.publish.data import Warehouse
from migstat.resources import (
    MEMORY_CEILING_MB,
    MEMORY_FLOOR_MB,
    cpu_count,
    duckdb_env,
    total_memory_mb,
)

NAMES = ("MIGSTAT_DUCKDB_MEMORY_LIMIT", "MIGSTAT_DUCKDB_THREADS", "MIGSTAT_DUCKDB_TEMP_DIRECTORY")


def test_settings_follow_the_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    env = duckdb_env(tmp_path / "spill")
    megabytes = int(env["MIGSTAT_DUCKDB_MEMORY_LIMIT"].removesuffix("MB"))
    assert MEMORY_FLOOR_MB <= megabytes <= MEMORY_CEILING_MB
    assert megabytes <= max(MEMORY_FLOOR_MB, total_memory_mb() // 4)
    assert env["MIGSTAT_DUCKDB_THREADS"] == str(cpu_count())
    assert env["MIGSTAT_DUCKDB_TEMP_DIRECTORY"] == str(tmp_path / "spill")
    # DuckDB creates only the last level of its spill folder: the parents must exist.
    assert (tmp_path / "spill").is_dir()


def test_operator_settings_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MIGSTAT_DUCKDB_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("MIGSTAT_DUCKDB_THREADS", "1")
    env = duckdb_env(tmp_path / "a" / "b")
    assert (env["MIGSTAT_DUCKDB_MEMORY_LIMIT"], env["MIGSTAT_DUCKDB_THREADS"]) == ("1GB", "1")


def test_products_reader_is_bounded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MIGSTAT_DUCKDB_MEMORY_LIMIT", "1GiB")
    monkeypatch.setenv("MIGSTAT_DUCKDB_THREADS", "1")
    path = tmp_path / "published.duckdb"
    duckdb.connect(str(path)).close()
    with Warehouse(path) as warehouse:
        memory, threads = warehouse.con.execute(
            "select current_setting('memory_limit'), current_setting('threads')"
        ).fetchone()
    assert (memory, threads) == ("1.0 GiB", 1)


@pytest.mark.slow
def test_dbt_profile_hands_the_settings_to_duckdb_and_a_big_query_spills(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A fresh home (no spill folder yet), 64 MB for DuckDB and one thread, as `migstat build`
    runs dbt: the settings arrive, and a query needing more memory spills and answers."""
    monkeypatch.setenv("MIGSTAT_DUCKDB_MEMORY_LIMIT", "64MB")
    monkeypatch.setenv("MIGSTAT_DUCKDB_THREADS", "1")
    monkeypatch.delenv("MIGSTAT_DUCKDB_TEMP_DIRECTORY", raising=False)
    home = Home(tmp_path / "home")
    big = (
        "select count(*) from (select distinct i, i::varchar || 'xxxxxxxxxxxxxxxx' as s "
        "from range(2000000) as t(i))"
    )
    sql = (
        "select current_setting('memory_limit') as memory, current_setting('threads') as threads,"
        f" current_setting('temp_directory') as spill, ({big}) as distinct_rows"
    )
    argv, env = dbt_command(home, tmp_path / "build.duckdb", "show", "--inline", sql)
    argv += ["--output", "json", "--log-format", "text"]
    done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r'\{\s*"show".*\}', done.stdout, re.DOTALL)
    assert found, done.stdout
    row = json.loads(found.group(0))["show"][0]
    assert (row["memory"], int(row["threads"])) == ("61.0 MiB", 1)
    assert row["spill"] == str(home.root / "tmp" / "duckdb")
    assert int(row["distinct_rows"]) == 2_000_000
