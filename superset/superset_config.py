"""Superset configuration for migstat, loaded through ``SUPERSET_CONFIG_PATH``.

Everything Superset writes lives under ``$MIGSTAT_HOME/superset/`` (ignored by git):
the per-installation secret key, the SQLite metadata database and the logs. Nothing here
reaches the network: no CDN, no map tiles, no thumbnails, no Celery.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_home = Path(os.environ.get("MIGSTAT_HOME") or Path(__file__).resolve().parent.parent / "home")
_superset_dir = _home.expanduser().resolve() / "superset"
_metadata_dir = _superset_dir / "metadata"
_metadata_dir.mkdir(parents=True, exist_ok=True)


def _secret_key(path: Path) -> str:
    """Read this installation's secret key, generating it on first use (never committed)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


SECRET_KEY = _secret_key(_superset_dir / "secret_key")
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_metadata_dir / 'superset.db'}"
SQLALCHEMY_TRACK_MODIFICATIONS = False

# Spanish is the users' first language; English is the other one offered.
BABEL_DEFAULT_LOCALE = "es"
LANGUAGES = {
    "es": {"flag": "es", "name": "Español"},
    "en": {"flag": "us", "name": "English"},
}

FEATURE_FLAGS = {
    "DASHBOARD_CROSS_FILTERS": True,
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
    # The dashboards are small: render every chart at once (screenshots and tests see them all).
    "DASHBOARD_VIRTUALIZATION": False,
}

# Chart data is never cached: a rebuilt warehouse shows at the next query.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}

# One local installation, its own users: no rate limit on logins (tests log in often).
RATELIMIT_ENABLED = False
AUTH_RATE_LIMITED = False

# The warehouse is a local DuckDB file opened read-only; allow that URI.
PREVENT_UNSAFE_DB_CONNECTIONS = False

SUPERSET_WEBSERVER_TIMEOUT = 120
ROW_LIMIT = 50000
SQL_MAX_ROW = 100000
# No map tiles from the internet.
MAPBOX_API_KEY = ""
# The built frontend of 6.1.0 always renders a telemetry pixel (scarf.sh) and allows map tiles and
# fonts from the internet; this policy keeps the browser on this server only.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
