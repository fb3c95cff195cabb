"""What the published warehouse says about the marts: column types, and its SQLAlchemy URI.

Types are read from the warehouse when there is one (:func:`warehouse_types`, opened read-only
and locked); otherwise from the ``data_type`` of the enforced marts contract
(:mod:`migstat.superset.spec`).
"""

from __future__ import annotations

from pathlib import Path

SCHEMA = "marts"


def warehouse_types(path: Path) -> dict[str, dict[str, str]]:
    """Mart -> column -> DuckDB type, read from a warehouse file (opened read-only)."""
    from migstat.readonly import connect_read_only

    with connect_read_only(path) as con:
        rows = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = ? order by table_name, ordinal_position",
            [SCHEMA],
        ).fetchall()
    types: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        types.setdefault(str(table), {})[str(column)] = str(data_type)
    return types


def duckdb_uri(path: Path) -> str:
    """SQLAlchemy URI of a DuckDB file (absolute path: four slashes)."""
    return f"duckdb:///{path.resolve()}"
