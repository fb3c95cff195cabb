"""What the published warehouse says about the marts: column types, and its SQLAlchemy URI.

Types are read from the warehouse when there is one (:func:`warehouse_types`, opened read-only
and locked); :func:`column_type` guesses them from the marts' naming conventions otherwise.
"""

from __future__ import annotations

from pathlib import Path

SCHEMA = "marts"

_INTEGER_NAMES = {"year", "month", "quarter", "submission_id", "superseded_by_submission_id"}
_INTEGER_SUFFIXES = ("_count", "_rank", "rank_among_foreigners", "sort_order", "age_from", "age_to")
_DOUBLE_NAMES = {
    "value",
    "movements",
    "year_movements",
    "permits",
    "applications",
    "returnees",
    "presentations",
    "share",
}
_DOUBLE_PREFIXES = ("entries_", "exits_", "net_balance", "decisions_")
_DOUBLE_SUFFIXES = ("_share", "_rate", "_change", "share_of_total", "share_of_foreigners")


def column_type(name: str) -> str:
    """The SQL type a mart column has, by the naming conventions of the marts."""
    if name.startswith(("is_", "has_")):
        return "BOOLEAN"
    if name.endswith("_at"):
        return "TIMESTAMP"
    if name.endswith("_date"):
        return "DATE"
    if name in _INTEGER_NAMES or name.endswith(_INTEGER_SUFFIXES):
        return "BIGINT"
    if (
        name in _DOUBLE_NAMES
        or name.endswith(_DOUBLE_SUFFIXES)
        or name.startswith("share_of")
        or (name.startswith(_DOUBLE_PREFIXES) and not name.endswith("counting_unit"))
    ):
        return "DOUBLE"
    return "VARCHAR"


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
