"""The secrets of a home's Superset: the admin password and Flask's secret key (mode 0600)."""

from __future__ import annotations

import os
import secrets

from migstat.superset.paths import (
    Paths,
    Say,
    SupersetError,
    private_file,
    read_private,
)

#: Passwords that must never protect the admin account, whatever SUPERSET_ADMIN_PASSWORD says.
DEFAULT_PASSWORDS = {"admin", "password", "superset", "changeme", "change_me", "secret", "general"}
MIN_PASSWORD_LENGTH = 12


def admin_password(paths: Paths, say: Say) -> str:
    """SUPERSET_ADMIN_PASSWORD when set (refused when short or a well-known default);
    otherwise this home's password, generated on first use and kept with mode 0600."""
    given = os.environ.get("SUPERSET_ADMIN_PASSWORD")
    if given is not None:
        if len(given) < MIN_PASSWORD_LENGTH or given.lower() in DEFAULT_PASSWORDS:
            raise SupersetError(
                f"SUPERSET_ADMIN_PASSWORD is too weak (a default, or under "
                f"{MIN_PASSWORD_LENGTH} characters): unset it to get a generated one"
            )
        return given
    if paths.password.exists():
        return read_private(paths.password)
    password = secrets.token_urlsafe(24)
    private_file(paths.password, password)
    say(f"generated the admin password (mode 0600): read it with `cat {paths.password}`")
    return password


def secret_key(paths: Paths, say: Say) -> str:
    """Superset's Flask SECRET_KEY for this home, generated on first use (mode 0600).

    Superset signs session cookies with it; ``superset_config.py`` refuses to start without it.
    """
    if paths.secret_key.exists():
        return read_private(paths.secret_key)
    key = secrets.token_urlsafe(64)
    private_file(paths.secret_key, key)
    say(f"generated Superset's secret key (mode 0600) in {paths.secret_key}")
    return key
