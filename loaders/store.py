"""The raw DuckDB store: append-only tables of submissions and their cells.

Nothing here updates a row in place. Each file is written in one transaction, so a file that
fails half-way leaves no trace but its verdict.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import numpy as np

from loaders.parse import ParsedSubmission
from migstat.errors import MigstatError
from migstat.specs import Specs

CONNECT_PATIENCE_SECONDS = 30.0

SUBMISSIONS_DDL = """
create table if not exists raw.submissions (
    submission_id integer primary key,
    file_name varchar not null,
    file_path varchar not null,
    sha256 varchar not null,
    size_bytes bigint not null,
    country_code varchar,
    source varchar,
    period varchar,
    reference_year integer,
    first_month integer,
    last_month integer,
    layout varchar,
    institution varchar,
    contact varchar,
    submitted_on varchar,
    version varchar,
    notes varchar,
    obs_flag varchar,
    filename_country varchar,
    filename_year integer,
    received_at timestamp not null,
    loaded_at timestamp not null,
    status varchar not null,
    error_message varchar,
    error_sheet varchar,
    error_cell varchar,
    error_rule varchar,
    tolerance_absolute double,
    tolerance_relative double,
    error_message_es varchar
)
"""
SHEETS_DDL = """
create table if not exists raw.submission_sheets (
    submission_id integer not null,
    sheet varchar not null,
    is_required boolean not null,
    is_present boolean not null,
    cell_count integer not null,
    layout_sheet varchar,
    row_dimension varchar
)
"""
WITHDRAWALS_DDL = """
create table if not exists raw.withdrawals (
    submission_id integer primary key,
    withdrawn_at timestamp not null,
    withdrawn_by varchar not null,
    reason varchar not null
)
"""
CELL_COLUMNS_BEFORE = [
    ("submission_id", "integer not null"),
    ("sheet", "varchar not null"),
    ("cell", "varchar not null"),
    ("row_number", "integer not null"),
    ("column_number", "integer not null"),
    ("measure", "varchar not null"),
]
CELL_COLUMNS_AFTER = [
    ("raw_text", "varchar"),
    ("value", "double"),
    ("value_status", "varchar not null"),
    ("cell_role", "varchar not null"),
    ("parent_row", "integer"),
    ("parent_label", "varchar"),
    ("row_key", "varchar"),
]
ADDED_COLUMNS = {
    "submissions": [
        ("tolerance_absolute", "double"),
        ("tolerance_relative", "double"),
        ("error_message_es", "varchar"),
    ],
    "submission_sheets": [("layout_sheet", "varchar"), ("row_dimension", "varchar")],
}
"""Columns added after a raw store was first created: added in place to older stores."""


@dataclass(frozen=True)
class FileFacts:
    path: Path
    sha256: str
    size_bytes: int
    received_at: datetime


@dataclass(frozen=True)
class KnownSubmission:
    submission_id: int
    status: str


@dataclass(frozen=True)
class Replayed:
    """The identity a file had when first received (``migstat restore`` gives it back)."""

    submission_id: int
    file_path: Path
    received_at: datetime


def connect_writer(
    path: Path, patience: float = CONNECT_PATIENCE_SECONDS
) -> duckdb.DuckDBPyConnection:
    """Open the store for writing; a reader holding the file for a moment (``migstat status``)
    is waited for, a process holding it longer is named in a clear error."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise
            if time.monotonic() >= deadline:
                raise MigstatError(
                    f"the raw store {path} is held by another process for more than "
                    f"{patience:.0f} s: {error}"
                ) from error
            time.sleep(0.1)


class Keeper(Protocol):
    """Archive and history hooks (``migstat.history.Keeper``)."""

    def archive(self, facts: FileFacts) -> None: ...

    def received(self, submission_id: int, facts: FileFacts, record: dict[str, Any]) -> None: ...

    def duplicate(self, submission_id: int, facts: FileFacts) -> None: ...

    def reconcile(self, con: duckdb.DuckDBPyConnection) -> int: ...


class RawStore:
    """One open connection to the raw store (DuckDB allows one writer).

    With a ``keeper``, every received file is archived before its row is committed and
    journaled after; with ``replay`` (sha256 -> first identity), files get back the id, path
    and received time they had (``migstat restore``).
    """

    def __init__(
        self,
        path: Path,
        specs: Specs,
        *,
        keeper: Keeper | None = None,
        replay: Mapping[str, Replayed] | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.specs = specs
        self.keeper = keeper
        self.replay = dict(replay or {})
        self.con = connect_writer(path)
        self._ensure_schema()
        if keeper is not None:
            keeper.reconcile(self.con)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> RawStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _ensure_schema(self) -> None:
        con = self.con
        con.execute("create schema if not exists raw")
        con.execute(SUBMISSIONS_DDL)
        con.execute(SHEETS_DDL)
        con.execute(WITHDRAWALS_DDL)
        for table, columns in ADDED_COLUMNS.items():
            self._add_missing_columns(table, columns)
        for source in self.specs.sources.values():
            columns = [
                *CELL_COLUMNS_BEFORE,
                *((f"{name}_label", "varchar") for name in source.dimension_names()),
                *CELL_COLUMNS_AFTER,
            ]
            ddl = ", ".join(f"{name} {kind}" for name, kind in columns)
            con.execute(f"create table if not exists raw.{source.id} ({ddl})")
            self._add_missing_columns(source.id, columns)
        write_spec_tables(con, self.specs)
        self._read_known()

    def _add_missing_columns(self, table: str, columns: list[tuple[str, str]]) -> None:
        existing = {
            row[0]
            for row in self.con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw' and table_name = ?",
                [table],
            ).fetchall()
        }
        for name, kind in columns:
            if name not in existing:
                nullable = kind.replace(" not null", "")
                self.con.execute(f"alter table raw.{table} add column {name} {nullable}")

    def _read_known(self) -> None:
        """Received contents (each with its latest submission) and the last id, read once: this
        connection is the only writer."""
        self._known: dict[str, KnownSubmission] = {}
        rows = self.con.execute(
            "select sha256, submission_id, status from raw.submissions order by submission_id"
        ).fetchall()
        for sha256, submission_id, status in rows:
            self._known[sha256] = KnownSubmission(submission_id, status)
        self._last_id = max((row[1] for row in rows), default=0)

    def find(self, sha256: str) -> KnownSubmission | None:
        return self._known.get(sha256)

    def find_received(self, facts: FileFacts) -> KnownSubmission | None:
        """Like ``find``; a content received before is journaled as a duplicate."""
        known = self.find(facts.sha256)
        if known is not None and self.keeper is not None:
            self.keeper.duplicate(known.submission_id, facts)
        return known

    def _next_id(self, sha256: str) -> int:
        replayed = self.replay.get(sha256)
        return replayed.submission_id if replayed else self._last_id + 1

    def _receive(self, facts: FileFacts) -> FileFacts:
        """The facts to record (first identity when replayed); archives the file first."""
        replayed = self.replay.get(facts.sha256)
        if replayed is not None:
            return replace(facts, path=replayed.file_path, received_at=replayed.received_at)
        if self.keeper is not None:
            self.keeper.archive(facts)
        return facts

    def _committed(
        self, facts: FileFacts, submission_id: int, status: str, record: dict[str, Any]
    ) -> None:
        self._known[facts.sha256] = KnownSubmission(submission_id, status)
        self._last_id = max(self._last_id, submission_id)
        if self.keeper is not None and facts.sha256 not in self.replay:
            self.keeper.received(submission_id, facts, {"status": status, **record})

    def withdraw(self, submission_id: int, at: datetime, by: str, reason: str) -> None:
        """Record that a submission is taken out of what is published (its rows stay)."""
        self.con.execute(
            "insert into raw.withdrawals values (?, ?, ?, ?)", [submission_id, at, by, reason]
        )

    def rejected_files(self) -> list[tuple[int, str, Path]]:
        """(id, sha256, path) of every received content whose latest verdict is a rejection."""
        rows = self.con.execute(
            "select submission_id, sha256, file_path from raw.submissions "
            "where status = 'rejected' order by submission_id"
        ).fetchall()
        return [
            (submission_id, sha256, Path(path))
            for submission_id, sha256, path in rows
            if self._known[sha256].submission_id == submission_id
        ]

    def add_loaded(self, facts: FileFacts, parsed: ParsedSubmission) -> int:
        con = self.con
        facts = self._receive(facts)
        con.execute("begin transaction")
        try:
            submission_id = self._next_id(facts.sha256)
            meta = parsed.metadata
            con.execute(
                "insert into raw.submissions by name select * from (select "
                "? as submission_id, ? as file_name, ? as file_path, ? as sha256, "
                "? as size_bytes, ? as country_code, ? as source, ? as period, "
                "? as reference_year, ? as first_month, ? as last_month, ? as layout, "
                "? as institution, ? as contact, ? as submitted_on, ? as version, ? as notes, "
                "? as obs_flag, ? as filename_country, ? as filename_year, "
                "?::timestamp as received_at, now()::timestamp as loaded_at, "
                "'loaded' as status, ? as tolerance_absolute, ? as tolerance_relative)",
                [
                    submission_id,
                    facts.path.name,
                    str(facts.path),
                    facts.sha256,
                    facts.size_bytes,
                    parsed.country_code,
                    parsed.source,
                    str(parsed.reference_year),
                    parsed.reference_year,
                    parsed.first_month,
                    parsed.last_month,
                    parsed.layout,
                    meta.get("institution"),
                    meta.get("contact"),
                    meta.get("submitted_on"),
                    meta.get("version"),
                    meta.get("notes"),
                    parsed.obs_flag,
                    parsed.filename_country,
                    parsed.filename_year,
                    facts.received_at,
                    parsed.tolerance_absolute,
                    parsed.tolerance_relative,
                ],
            )
            if parsed.sheets:
                placeholders = ", ".join("(?, ?, ?, ?, ?, ?, ?)" for _ in parsed.sheets)
                parameters = [
                    value
                    for sheet in parsed.sheets
                    for value in (
                        submission_id,
                        sheet.sheet,
                        sheet.is_required,
                        sheet.is_present,
                        sheet.cell_count,
                        sheet.layout_sheet or sheet.sheet,
                        sheet.row_dimension or None,
                    )
                ]
                con.execute(
                    "insert into raw.submission_sheets (submission_id, sheet, is_required, "
                    "is_present, cell_count, layout_sheet, row_dimension) "
                    f"values {placeholders}",
                    parameters,
                )
            self._insert_cells(submission_id, parsed)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        self._committed(
            facts,
            submission_id,
            "loaded",
            {
                "country": parsed.country_code,
                "source": parsed.source,
                "period": str(parsed.reference_year),
                "layout": parsed.layout,
            },
        )
        return submission_id

    def _insert_cells(self, submission_id: int, parsed: ParsedSubmission) -> None:
        cells = parsed.cells
        if not cells:
            return
        dimensions = self.specs.source(parsed.source).dimension_names()
        batch: dict[str, np.ndarray] = {
            "submission_id": np.full(len(cells), submission_id, dtype=np.int32),
            "sheet": np.array([c.sheet for c in cells], dtype=object),
            "cell": np.array([c.cell for c in cells], dtype=object),
            "row_number": np.array([c.row_number for c in cells], dtype=np.int32),
            "column_number": np.array([c.column_number for c in cells], dtype=np.int32),
            "measure": np.array([c.measure for c in cells], dtype=object),
            "raw_text": np.array([c.raw_text for c in cells], dtype=object),
            "value": np.array(
                [np.nan if c.value is None else c.value for c in cells], dtype=np.float64
            ),
            "value_is_null": np.array([c.value is None for c in cells], dtype=bool),
            "value_status": np.array([c.value_status for c in cells], dtype=object),
            "cell_role": np.array([c.cell_role for c in cells], dtype=object),
            "parent_row": np.array(
                [-1 if c.parent_row is None else c.parent_row for c in cells], dtype=np.int32
            ),
            "parent_label": np.array([c.parent_label for c in cells], dtype=object),
            "row_key": np.array([c.row_key for c in cells], dtype=object),
        }
        for name in dimensions:
            batch[f"{name}_label"] = np.array([c.labels.get(name) for c in cells], dtype=object)
        self.con.register("cells_batch", batch)
        try:
            self.con.execute(
                f"insert into raw.{parsed.source} by name "
                "select * exclude (value, value_is_null, parent_row), "
                "case when value_is_null then null else value end as value, "
                "nullif(parent_row, -1) as parent_row from cells_batch"
            )
        finally:
            self.con.unregister("cells_batch")

    def add_rejected(
        self,
        facts: FileFacts,
        message: str,
        sheet: str | None,
        cell: str | None,
        rule: str | None,
        filename_country: str | None,
        filename_year: int | None,
        message_es: str | None = None,
    ) -> int:
        """Record the verdict on an unreadable file; its content is not stored."""
        con = self.con
        facts = self._receive(facts)
        con.execute("begin transaction")
        try:
            submission_id = self._next_id(facts.sha256)
            con.execute(
                "insert into raw.submissions by name select * from (select "
                "? as submission_id, ? as file_name, ? as file_path, ? as sha256, "
                "? as size_bytes, ? as filename_country, ? as filename_year, "
                "? as country_code, ? as period, ?::timestamp as received_at, "
                "now()::timestamp as loaded_at, 'rejected' as status, ? as error_message, "
                "? as error_sheet, ? as error_cell, ? as error_rule, ? as error_message_es)",
                [
                    submission_id,
                    facts.path.name,
                    str(facts.path),
                    facts.sha256,
                    facts.size_bytes,
                    filename_country,
                    filename_year,
                    filename_country,
                    None if filename_year is None else str(filename_year),
                    facts.received_at,
                    message,
                    sheet,
                    cell,
                    rule,
                    message_es,
                ],
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        self._committed(
            facts,
            submission_id,
            "rejected",
            {
                "country": filename_country,
                "period": None if filename_year is None else str(filename_year),
                "message": message,
                "sheet": sheet,
                "cell": cell,
                "rule": rule,
                "message_es": message_es,
            },
        )
        return submission_id


def write_spec_tables(con: duckdb.DuckDBPyConnection, specs: Specs) -> None:
    """Replace the ``raw.spec_*`` tables with the current specs, so dbt sees what they say."""
    rows: dict[str, list[tuple[object, ...]]] = {
        "spec_sources": [],
        "spec_measures": [],
        "spec_dimensions": [],
        "spec_sheets": [],
        "spec_cross_tables": [],
        "spec_countries": [
            (country.code, country.name.es, country.name.en) for country in specs.countries.values()
        ],
    }
    for source in specs.sources.values():
        rows["spec_sources"].append((source.id, source.title.es, source.title.en, source.layout))
        for name, measure in source.measures.items():
            rows["spec_measures"].append(
                (
                    source.id,
                    name,
                    measure.unit,
                    measure.allow_decimals,
                    measure.title.es,
                    measure.title.en,
                    measure.max_value,
                )
            )
        for position, (name, dimension) in enumerate(source.dimensions.items(), start=1):
            rows["spec_dimensions"].append(
                (
                    source.id,
                    name,
                    dimension.codelist,
                    position,
                    dimension.title.es,
                    dimension.title.en,
                )
            )
        for group_number, group in enumerate(source.cross_table, start=1):
            for sheet in group.sheets:
                rows["spec_cross_tables"].append(
                    (source.id, f"{source.id}-{group_number}", sheet, ",".join(group.dimensions))
                )
    for layout in specs.layouts.values():
        for sheet in layout.sheets:
            rows["spec_sheets"].append(
                (
                    layout.id,
                    layout.source,
                    sheet.name,
                    sheet.measure,
                    sheet.required,
                    sheet.rows.dimension,
                    ",".join(sheet.columns.dimensions),
                    ",".join(f"{k}={v}" for k, v in sheet.fixed.items()),
                    sheet.title.es,
                    sheet.title.en,
                )
            )
    ddl = {
        "spec_sources": "source varchar, title_es varchar, title_en varchar, layout varchar",
        "spec_measures": "source varchar, measure varchar, unit varchar, allow_decimals boolean, "
        "title_es varchar, title_en varchar, max_value double",
        "spec_dimensions": "source varchar, dimension varchar, codelist varchar, "
        "position integer, title_es varchar, title_en varchar",
        "spec_sheets": "layout varchar, source varchar, sheet varchar, measure varchar, "
        "is_required boolean, row_dimension varchar, column_dimensions varchar, "
        "fixed_dimensions varchar, title_es varchar, title_en varchar",
        "spec_cross_tables": "source varchar, group_id varchar, sheet varchar, dimensions varchar",
        "spec_countries": "country_code varchar, name_es varchar, name_en varchar",
    }
    for table, columns in ddl.items():
        con.execute(f"create or replace table raw.{table} ({columns})")
        if rows[table]:
            placeholders = ", ".join("?" for _ in rows[table][0])
            con.executemany(f"insert into raw.{table} values ({placeholders})", rows[table])
