"""DuckDB resource settings taken from the machine: memory limit, threads, spill folder.

The build hands them to dbt through environment variables that ``profiles.yml`` reads
(``MIGSTAT_DUCKDB_MEMORY_LIMIT``, ``MIGSTAT_DUCKDB_THREADS``, ``MIGSTAT_DUCKDB_TEMP_DIRECTORY``);
readers (products, reports) pass them to ``duckdb.connect`` as its ``config``. A value already
set in the environment wins, so an operator can pin them.

DuckDB spills to ``temp_directory`` when a query needs more than ``memory_limit``, so a large
build slows down instead of exhausting the machine.
"""

from __future__ import annotations

import os
from pathlib import Path

MEMORY_SHARE = 0.25
"""Share of the machine's memory one DuckDB instance may use (the machine is shared)."""
MEMORY_FLOOR_MB = 512
MEMORY_CEILING_MB = 3 * 1024
"""Whatever the machine, a build stays within about 4 GB including dbt's own process."""


def total_memory_mb() -> int:
    """Physical memory of the machine in MiB (``/proc/meminfo``; 4 GiB when unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 4096


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def memory_limit_mb() -> int:
    share = int(total_memory_mb() * MEMORY_SHARE)
    return max(MEMORY_FLOOR_MB, min(MEMORY_CEILING_MB, share))


def duckdb_env(temp_directory: Path) -> dict[str, str]:
    """The environment variables ``profiles.yml`` reads, from the machine unless already set.
    The spill folder is created here: DuckDB creates only its last level, and fails the first
    query that spills when the parent is missing."""
    defaults = {
        "MIGSTAT_DUCKDB_MEMORY_LIMIT": f"{memory_limit_mb()}MB",
        "MIGSTAT_DUCKDB_THREADS": str(cpu_count()),
        "MIGSTAT_DUCKDB_TEMP_DIRECTORY": str(temp_directory),
    }
    env = {name: os.environ.get(name) or value for name, value in defaults.items()}
    Path(env["MIGSTAT_DUCKDB_TEMP_DIRECTORY"]).mkdir(parents=True, exist_ok=True)
    return env


def reader_config(temp_directory: Path | None = None) -> dict[str, str]:
    """``duckdb.connect(..., config=...)`` for a read-only reader of the published warehouse."""
    env = duckdb_env(temp_directory or Path(os.environ.get("TMPDIR", "/tmp")))
    config = {
        "memory_limit": env["MIGSTAT_DUCKDB_MEMORY_LIMIT"],
        "threads": env["MIGSTAT_DUCKDB_THREADS"],
    }
    if temp_directory is not None:
        config["temp_directory"] = env["MIGSTAT_DUCKDB_TEMP_DIRECTORY"]
    return config
