"""Where migstat keeps its working files: everything lives under ``MIGSTAT_HOME``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The parent of the package: the repository checkout when migstat runs from one (``pip install
-e .``), site-packages (or a ``--target`` folder) when it was installed from a wheel."""

PACKAGED_PROJECT = Path(__file__).resolve().parent / "_project"
"""Where a wheel keeps the project files (``migstat._project``: see pyproject.toml)."""


def is_checkout(root: Path = REPO_ROOT) -> bool:
    """Whether ``root`` is a repository checkout (its dbt project and pyproject are there)."""
    return (root / "dbt_project.yml").is_file() and (root / "pyproject.toml").is_file()


def project_root() -> Path:
    """The folder holding the project files the CLI reads: ``specs/``, ``seeds/``,
    ``models/``, ``macros/``, ``dbt_project.yml``, ``profiles.yml``, ``superset/``, ``docs/``.

    The repository checkout when running from one (an editable install reads and edits the
    files in place), otherwise the copy shipped inside the installed package. The installed copy
    is read-only by design: everything migstat writes goes under ``MIGSTAT_HOME``.
    """
    if is_checkout():
        return REPO_ROOT
    if (PACKAGED_PROJECT / "dbt_project.yml").is_file():
        return PACKAGED_PROJECT
    raise RuntimeError(
        f"migstat cannot find its project files: {REPO_ROOT} is not a checkout and "
        f"{PACKAGED_PROJECT} is missing (a broken install: reinstall migstat)"
    )


def state_root() -> Path:
    """Where migstat keeps per-user state when nothing says otherwise: the checkout (its
    ``home/`` and ``.venv-superset``, both ignored by git), or ``$XDG_DATA_HOME/migstat``
    (``~/.local/share/migstat``) for an installed package, never site-packages."""
    if is_checkout():
        return REPO_ROOT
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data).expanduser() / "migstat"


PROJECT_ROOT = project_root()
SPECS_DIR = PROJECT_ROOT / "specs"
SEEDS_DIR = PROJECT_ROOT / "seeds"


@dataclass(frozen=True)
class Home:
    """The folders and files of one migstat home (several homes can coexist)."""

    root: Path

    @classmethod
    def from_env(cls) -> Home:
        raw = os.environ.get("MIGSTAT_HOME")
        root = Path(raw).expanduser() if raw else state_root() / "home"
        return cls(root.resolve())

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def raw_db(self) -> Path:
        """The append-only raw store the loader writes (never read by dashboards)."""
        return self.warehouse_dir / "landing.duckdb"

    @property
    def published_db(self) -> Path:
        """The published warehouse: a passing build swapped in atomically; read-only for users."""
        return self.warehouse_dir / "migstat.duckdb"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def superset_dir(self) -> Path:
        return self.root / "superset"

    def ensure(self) -> Home:
        for folder in (self.root, self.warehouse_dir, self.inbox):
            folder.mkdir(parents=True, exist_ok=True)
        return self
