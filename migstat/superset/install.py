"""``migstat superset install``: Superset's own virtual environment, from pinned requirements.

Superset pins click, pandas<2.2, numpy<2.3, sqlalchemy<2 and pyarrow<19, which dbt cannot share:
it gets its own environment, installed with ``pip install -r requirements.txt -c
constraints.txt`` (both next to this module) and stamped with their hash, so a repeated install
does nothing until a pin changes.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

from migstat.superset.paths import CONSTRAINTS, REQUIREMENTS, VENV, Say, SupersetError


def _requirements_hash() -> str:
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, CONSTRAINTS):
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def _stamp() -> Path:
    return VENV / "migstat-requirements.sha256"


def is_installed() -> bool:
    stamp = _stamp()
    return (
        (VENV / "bin" / "superset").exists()
        and stamp.exists()
        and stamp.read_text().strip() == _requirements_hash()
    )


def install(say: Say = print, *, force: bool = False) -> float:
    """Create or update ``.venv-superset`` from the pinned requirements; return seconds spent.

    Idempotent: does nothing when the venv was built from the same requirements and constraints.
    """
    if is_installed() and not force:
        say(f"Superset environment up to date: {VENV}")
        return 0.0
    started = time.monotonic()
    say(f"installing Apache Superset into {VENV} (a few minutes, once)")
    if not (VENV / "bin" / "python").exists():
        say("  1/3 creating the virtual environment")
        _run([sys.executable, "-m", "venv", str(VENV)], "create the Superset virtual environment")
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    say("  2/3 upgrading pip")
    _run([*pip, "install", "--quiet", "--upgrade", "pip"], "upgrade pip")
    pinned = sum(1 for line in CONSTRAINTS.read_text().splitlines() if "==" in line)
    say(f"  3/3 installing Superset and its {pinned} pinned packages")
    _run(
        [*pip, "install", "--quiet", "-r", str(REQUIREMENTS), "-c", str(CONSTRAINTS)],
        "install the Superset requirements",
    )
    _stamp().write_text(_requirements_hash() + "\n")
    elapsed = time.monotonic() - started
    say(f"Superset environment ready in {elapsed:.0f} s")
    return elapsed


def _run(command: list[str], what: str) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-30:])
        raise SupersetError(f"could not {what} (exit {completed.returncode}):\n{tail}")


def superset_version() -> str:
    metadata = sorted((VENV / "lib").glob("python*/site-packages/apache_superset-*.dist-info"))
    return metadata[-1].name.removesuffix(".dist-info").split("-")[1] if metadata else "unknown"
