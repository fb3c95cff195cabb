"""Where migstat keeps its working files: everything lives under ``MIGSTAT_HOME``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = REPO_ROOT / "specs"
SEEDS_DIR = REPO_ROOT / "seeds"


@dataclass(frozen=True)
class Home:
    """The folders and files of one migstat home (several homes can coexist)."""

    root: Path

    @classmethod
    def from_env(cls) -> Home:
        raw = os.environ.get("MIGSTAT_HOME")
        root = Path(raw).expanduser() if raw else REPO_ROOT / "home"
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
