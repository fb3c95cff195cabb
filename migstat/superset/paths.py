"""Where Superset's files are: the package's own (config, provisioning script, pins) and a home's.

Superset lives in its own virtual environment (``.venv-superset`` in the checkout, or under
``$XDG_DATA_HOME/migstat/`` for an installed package; from ``requirements.txt`` with
``constraints.txt`` next to this module) and always runs through that environment's binaries with
``SUPERSET_CONFIG_PATH`` set to ``superset_config.py`` next to this module. Everything it writes is
under ``$MIGSTAT_HOME/superset/``:

```
secret_key            Flask SECRET_KEY, generated on the first `up` (0600), never in git
admin_password        generated on the first `up` when SUPERSET_ADMIN_PASSWORD is not set (0600)
metadata/superset.db  SQLite metadata
bundle.zip            the v1 import bundle assembled from superset/dashboards/
state.json            what was provisioned (Superset version, bundle hash, admin password hash)
manifest.previous.json  the UUIDs the last import owned (what a new import may delete)
gunicorn.pid, gunicorn.log, server.json, provision.log
```
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from migstat.errors import MigstatError
from migstat.home import Home, state_root

#: This package: the files Superset's own environment reads live next to its modules.
PACKAGE_DIR = Path(__file__).resolve().parent
VENV = Path(os.environ.get("MIGSTAT_SUPERSET_VENV", state_root() / ".venv-superset"))
REQUIREMENTS = PACKAGE_DIR / "requirements.txt"
CONSTRAINTS = PACKAGE_DIR / "constraints.txt"
CONFIG = PACKAGE_DIR / "superset_config.py"
PROVISION = PACKAGE_DIR / "provision.py"

Say = Callable[[str], None]


class SupersetError(MigstatError):
    """Superset could not be installed, provisioned, started or stopped."""


@dataclass(frozen=True)
class Paths:
    """Superset's files in one migstat home."""

    home: Home

    @property
    def root(self) -> Path:
        return self.home.superset_dir

    @property
    def password(self) -> Path:
        return self.root / "admin_password"

    @property
    def secret_key(self) -> Path:
        return self.root / "secret_key"

    @property
    def metadata_db(self) -> Path:
        return self.root / "metadata" / "superset.db"

    @property
    def bundle(self) -> Path:
        return self.root / "bundle.zip"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def previous_manifest(self) -> Path:
        return self.root / "manifest.previous.json"

    @property
    def pid(self) -> Path:
        return self.root / "gunicorn.pid"

    @property
    def log(self) -> Path:
        return self.root / "gunicorn.log"

    @property
    def server(self) -> Path:
        return self.root / "server.json"


def private_dir(path: Path) -> None:
    """Create ``path`` readable by its owner only (it holds the secret and the metadata)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def private_file(path: Path, content: str) -> None:
    """Write a new file with mode 0600 (never readable by others, not even for a moment)."""
    private_dir(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content + "\n")


def read_private(path: Path) -> str:
    """A secret file's content, after making sure only its owner can read it."""
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path.read_text().strip()


def read_json(path: Path) -> dict[str, object]:
    """A JSON object from ``path``; empty when the file is missing or not an object."""
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}
