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
    cgroup_cpus,
    cgroup_memory_mb,
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


def _cgroup(tmp_path: Path, files: dict[str, str], lines: str) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(lines)
    return root, proc


def test_cgroup_v2_limits_are_read(tmp_path: Path) -> None:
    """A container (cgroup v2): 3 GiB and one and a half CPUs on the process's own group,
    a lower memory limit on its parent; "max" means no limit."""
    root, proc = _cgroup(
        tmp_path,
        {
            "cgroup.controllers": "cpu memory",
            "job/memory.max": str(3 * 1024**3),
            "job/cpu.max": "150000 100000",
            "job/task/memory.max": "max",
            "job/task/cpu.max": "max 100000",
        },
        "0::/job/task\n",
    )
    assert cgroup_memory_mb(root, proc) == 3 * 1024
    assert cgroup_cpus(root, proc) == 2


def test_cgroup_v1_limits_are_read_and_unlimited_is_none(tmp_path: Path) -> None:
    root, proc = _cgroup(
        tmp_path,
        {
            "memory/slice/memory.limit_in_bytes": str(2 * 1024**3),
            "cpu/slice/cpu.cfs_quota_us": "100000",
            "cpu/slice/cpu.cfs_period_us": "100000",
        },
        "4:memory:/slice\n1:cpu,cpuacct:/slice\n",
    )
    assert cgroup_memory_mb(root, proc) == 2 * 1024
    assert cgroup_cpus(root, proc) == 1
    root, proc = _cgroup(
        tmp_path / "free",
        {
            "memory/memory.limit_in_bytes": "9223372036854771712",
            "cpu/cpu.cfs_quota_us": "-1",
            "cpu/cpu.cfs_period_us": "100000",
        },
        "4:memory:/\n1:cpu:/\n",
    )
    assert cgroup_memory_mb(root, proc) is None
    assert cgroup_cpus(root, proc) is None
