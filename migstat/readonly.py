"""The one way migstat opens the published warehouse for reading: read-only and locked.

Everything that reads what was published (reports, status, the products site, the Superset
bundle's database, any portal) opens DuckDB through :func:`connect_read_only`. Besides
``read_only``, the connection cannot reach the file system or the network: no
``read_text('/etc/passwd')``, no ``COPY ... TO '/any/path'``, no ``ATTACH`` of another file, no
``INSTALL``/``LOAD`` of extensions, and ``lock_configuration`` makes every later ``SET``
(``SET enable_external_access = true`` included) fail. A query can still read every table of
the warehouse itself, which is what readers are for.

Superset opens its connections through duckdb-engine, whose ``connect_args`` take the same
settings (:func:`duckdb_engine_connect_args`); ``migstat/superset/superset_config.py`` enforces
them again on every connection Superset makes, whatever the database's settings say.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

#: DuckDB settings of every reader connection (applied at connect time, then locked).
LOCKED_CONFIG: dict[str, str | bool] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}


def connect_read_only(
    path: Path | str, settings: dict[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file read-only, unable to read or write any other file, settings locked.
    ``settings`` (memory limit, threads, spill folder) are applied before the lock. DuckDB
    refuses a ``temp_directory`` given together with ``enable_external_access = false``: with
    one, the connection opens with its settings and is locked at once by ``SET`` statements
    (DuckDB still spills there: its own files, not a query's)."""
    settings = settings or {}
    if "temp_directory" not in settings:
        return duckdb.connect(str(path), read_only=True, config={**settings, **LOCKED_CONFIG})
    con = duckdb.connect(str(path), read_only=True, config={**settings})
    try:
        con.execute("SET enable_progress_bar = false")  # long queries draw no bar on stderr
        for name, value in LOCKED_CONFIG.items():
            con.execute(f"SET {name} = {str(value).lower()}")
    except BaseException:
        con.close()
        raise
    return con


def duckdb_engine_connect_args() -> dict[str, Any]:
    """``connect_args`` for SQLAlchemy's duckdb-engine: the same connection as above."""
    return {"read_only": True, "config": dict(LOCKED_CONFIG)}
