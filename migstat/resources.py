"""DuckDB resource settings taken from the machine: memory limit, threads, spill folder.

The build hands them to dbt through environment variables that ``profiles.yml`` reads
(``MIGSTAT_DUCKDB_MEMORY_LIMIT``, ``MIGSTAT_DUCKDB_THREADS``, ``MIGSTAT_DUCKDB_TEMP_DIRECTORY``);
readers (products, reports) pass them to ``duckdb.connect`` as its ``config``. A value already
set in the environment wins, so an operator can pin them.

DuckDB spills to ``temp_directory`` when a query needs more than ``memory_limit``, so a large
build slows down instead of exhausting the machine.

"The machine" is what this process may use: the physical memory (``/proc/meminfo``) or the
memory limit of its control group when lower (cgroup v2 ``memory.max``, v1
``memory.limit_in_bytes``: a container or a systemd slice), and the CPUs it may run on
(affinity) or its cgroup CPU quota when lower (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us`` /
``cpu.cfs_period_us``).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

MEMORY_SHARE = 0.25
"""Share of the machine's memory one DuckDB instance may use (the machine is shared)."""
MEMORY_FLOOR_MB = 512
MEMORY_CEILING_MB = 3 * 1024
"""Whatever the machine, a build stays within about 4 GB including dbt's own process."""


CGROUP_ROOT = Path("/sys/fs/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _cgroup_dirs(kind: str, root: Path, proc_cgroup: Path) -> list[Path]:
    """The folders of this process's cgroup for a controller (v1 ``kind``, or v2), its own
    first and then its ancestors' (a limit set on a parent applies too)."""
    found: list[Path] = []
    for line in (_read(proc_cgroup) or "").splitlines():
        _, controllers, relative = line.split(":", 2)
        if controllers == "":
            base = root if (root / "cgroup.controllers").exists() else root / "unified"
        elif kind in controllers.split(","):
            base = root / kind
        else:
            continue
        folder = base / relative.lstrip("/")
        while True:
            found.append(folder)
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
    return found


def cgroup_memory_mb(
    root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")
) -> int | None:
    """The lowest memory limit of this process's cgroups in MiB; None when unlimited/unknown."""
    limits: list[int] = []
    for folder in _cgroup_dirs("memory", root, proc_cgroup):
        for name in ("memory.max", "memory.limit_in_bytes"):
            text = _read(folder / name)
            if text and text.isdigit() and int(text) < 2**60:
                limits.append(int(text) // (1024 * 1024))
    return min(limits) if limits else None


def cgroup_cpus(
    root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")
) -> int | None:
    """The lowest CPU quota of this process's cgroups, in whole CPUs (at least 1); None when
    there is none."""
    quotas: list[float] = []
    for folder in _cgroup_dirs("cpu", root, proc_cgroup):
        v2 = (_read(folder / "cpu.max") or "").partition(" ")
        v1 = (_read(folder / "cpu.cfs_quota_us") or "", "", _read(folder / "cpu.cfs_period_us"))
        for quota, _, period in (v2, v1):
            # "max" (v2) and -1 (v1) mean no quota.
            if quota.isdigit() and period and period.isdigit() and int(period) > 0:
                quotas.append(int(quota) / int(period))
    return max(1, math.ceil(min(quotas))) if quotas else None


def total_memory_mb() -> int:
    """Memory this process may use in MiB: the physical memory (``/proc/meminfo``; 4 GiB when
    unknown), or its cgroup's limit when lower."""
    physical = 4096
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                physical = int(line.split()[1]) // 1024
                break
    except OSError:
        pass
    limit = cgroup_memory_mb()
    return min(physical, limit) if limit is not None else physical


def cpu_count() -> int:
    """CPUs this process may run on (affinity), or its cgroup's CPU quota when lower."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpus()
    return min(cpus, quota) if quota is not None else cpus


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
