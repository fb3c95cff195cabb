"""``raw.label_resolutions``: every distinct label of the raw store resolved once, in Python.

``migstat build`` writes this table into its copy of the raw store before dbt runs; staging
(macros/staging/stage_source_cells.sql) joins it instead of resolving labels in SQL, so
:mod:`migstat.codes` is the only resolver. One row per (reporting country, code list, label):

* every distinct label of every ``<dimension>_label`` column of every raw source table, in the
  dimension's code list (``raw.spec_dimensions``; the dimension's own name when absent);
* the labels of subtotal cells (``cell_role``) also in ``regions`` (a subtotal row whose label
  is no member of the dimension's code list falls back to it);
* every distinct ``parent_label`` (when the raw table has that column), in ``regions``.

Labels are resolved per reporting country because ports are (``Otros`` is ``MEX-OTH`` in
Mexico's tables); for the other code lists the country changes nothing.
"""

from __future__ import annotations

import duckdb

from migstat.codes import Resolver

COLUMNS = (
    "reporting_country_code varchar, codelist varchar, label varchar, code varchar, "
    "method varchar, score double, suggestions varchar"
)
PARENT_LABEL = "parent_label"
CHUNK = 500


def _label_columns(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[list[str], bool]]:
    """Raw cell tables (those with a submission_id): their ``*_label`` columns, and whether
    they have a cell_role column."""
    columns: dict[str, list[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name not like 'spec\\_%' escape '\\' "
        "and table_name not in ('submissions', 'submission_sheets', 'label_resolutions') "
        "order by table_name, ordinal_position"
    ).fetchall():
        columns.setdefault(table, []).append(column)
    return {
        table: ([column for column in names if column.endswith("_label")], "cell_role" in names)
        for table, names in columns.items()
        if "submission_id" in names
    }


def _codelists(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw' and table_name = 'spec_dimensions'"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    rows = con.execute("select source, dimension, codelist from raw.spec_dimensions").fetchall()
    return {(source, dimension): codelist for source, dimension, codelist in rows}


def distinct_labels(
    con: duckdb.DuckDBPyConnection, submissions: list[int] | None = None
) -> set[tuple[str, str, str]]:
    """(reporting country, code list, label) for every label the raw store holds, or only the
    cells of ``submissions`` hold (written as literals: DuckDB's zone maps skip the others)."""
    if submissions is not None and not submissions:
        return set()
    only = (
        f" and c.submission_id in ({', '.join(str(int(sid)) for sid in submissions)})"
        if submissions
        else ""
    )
    codelists = _codelists(con)
    wanted: set[tuple[str, str, str]] = set()
    for table, (columns, has_role) in _label_columns(con).items():
        # Regions only for labels of subtotal cells (staging falls back to regions for them
        # alone), or for every label when the table has no cell_role.
        subtotal = "c.cell_role = 'subtotal'" if has_role else "true"
        for column in columns:
            if column == PARENT_LABEL:
                targets = {"regions": "true"}
            else:
                dimension = column.removesuffix("_label")
                targets = {codelists.get((table, dimension), dimension): "true"}
                targets.setdefault("regions", subtotal)
            for codelist, condition in targets.items():
                rows = con.execute(
                    f"select distinct coalesce(s.country_code, ''), c.\"{column}\" "
                    f'from raw."{table}" as c '
                    "left join raw.submissions as s on c.submission_id = s.submission_id "
                    f'where c."{column}" is not null and {condition}{only}'
                ).fetchall()
                wanted.update((country, codelist, label) for country, label in rows)
    return wanted


def _resolved(labels: list[tuple[str, str, str]], resolver: Resolver) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for country, codelist, label in labels:
        match = resolver.match(codelist, label, scope=country or None)
        members = resolver.members.get(codelist, {})
        rows.append(
            (
                country,
                codelist,
                label,
                match.code,
                match.method,
                None if match.method == "alias" else match.score,
                match.suggestions_text("es", members) or None,
            )
        )
    return rows


def _insert(con: duckdb.DuckDBPyConnection, rows: list[tuple[object, ...]]) -> None:
    # One statement per chunk of rows: DuckDB's executemany costs about a millisecond a row.
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
        params = [value for row in chunk for value in row]
        con.execute(f"insert into raw.label_resolutions values {values}", params)


def write_label_resolutions(con: duckdb.DuckDBPyConnection, resolver: Resolver) -> int:
    """(Re)write ``raw.label_resolutions``; returns the number of rows."""
    con.execute("create schema if not exists raw")
    rows = _resolved(sorted(distinct_labels(con)), resolver)
    con.execute(f"create or replace table raw.label_resolutions ({COLUMNS})")
    _insert(con, rows)
    return len(rows)


def add_label_resolutions(
    con: duckdb.DuckDBPyConnection, resolver: Resolver, submissions: list[int]
) -> int:
    """Add to ``raw.label_resolutions`` the labels of ``submissions`` it does not hold yet;
    returns the number of rows added. The table must have been written by
    :func:`write_label_resolutions` with the same resolver over the other submissions (an
    incremental build: the project fingerprint covers the specs and this code), so it then
    equals a rewrite over every submission."""
    existing = set(
        con.execute(
            "select reporting_country_code, codelist, label from raw.label_resolutions"
        ).fetchall()
    )
    rows = _resolved(sorted(distinct_labels(con, submissions) - existing), resolver)
    _insert(con, rows)
    return len(rows)
