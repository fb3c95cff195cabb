"""The raw DuckDB store: append-only tables of submissions and their cells.

Nothing here updates a row in place. Each file is written in one transaction, so a file that
fails half-way leaves no trace but its verdict.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import numpy as np

from loaders.parse import NO_PARENT, ROW_NUMBER_FIELDS, ROW_STRING_FIELDS, ParsedSubmission
from migstat.errors import MigstatError
from migstat.specs import SourceSpec, Specs

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


def cell_columns(source: SourceSpec) -> list[tuple[str, str]]:
    """The columns of a source's raw cell table (``raw.<source id>``) with their DuckDB types:
    the fixed cell columns around one ``<dimension>_label`` column per dimension."""
    return [
        *CELL_COLUMNS_BEFORE,
        *((f"{name}_label", "varchar") for name in source.dimension_names()),
        *CELL_COLUMNS_AFTER,
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
class Rejected:
    """The verdict on a file that could not be read; its content is not stored."""

    message: str
    sheet: str | None = None
    cell: str | None = None
    rule: str | None = None
    filename_country: str | None = None
    filename_year: int | None = None
    message_es: str | None = None


Verdict = tuple[FileFacts, ParsedSubmission | Rejected]
"""A file and what reading it gave: its cells, or why it was rejected."""

SUBMISSION_COLUMNS = (
    "submission_id",
    "file_name",
    "file_path",
    "sha256",
    "size_bytes",
    "country_code",
    "source",
    "period",
    "reference_year",
    "first_month",
    "last_month",
    "layout",
    "institution",
    "contact",
    "submitted_on",
    "version",
    "notes",
    "obs_flag",
    "filename_country",
    "filename_year",
    "received_at",
    "status",
    "tolerance_absolute",
    "tolerance_relative",
    "error_message",
    "error_sheet",
    "error_cell",
    "error_rule",
    "error_message_es",
)
SHEET_COLUMNS = (
    "submission_id",
    "sheet",
    "is_required",
    "is_present",
    "cell_count",
    "layout_sheet",
    "row_dimension",
)


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

    def archive(self, files: Sequence[FileFacts]) -> None: ...

    def received(self, events: Sequence[tuple[int, FileFacts, dict[str, Any]]]) -> None: ...

    def duplicate(self, submission_id: int, facts: FileFacts) -> None: ...

    def flush(self) -> None: ...

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
        self._column_types: dict[str, dict[str, str]] = {}
        self._ensure_schema()
        if keeper is not None:
            keeper.reconcile(self.con)

    def close(self) -> None:
        if self.keeper is not None:
            self.keeper.flush()
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
            columns = cell_columns(source)
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

    def _receive(self, files: Sequence[FileFacts]) -> list[FileFacts]:
        """The facts to record (first identity when replayed); archives the files first."""
        if self.keeper is not None:
            self.keeper.archive([facts for facts in files if facts.sha256 not in self.replay])
        received = []
        for facts in files:
            replayed = self.replay.get(facts.sha256)
            if replayed is not None:
                facts = replace(facts, path=replayed.file_path, received_at=replayed.received_at)
            received.append(facts)
        return received

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
        return self.record([(facts, parsed)])[0]

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
        rejected = Rejected(message, sheet, cell, rule, filename_country, filename_year, message_es)
        return self.record([(facts, rejected)])[0]

    def record(self, verdicts: Sequence[Verdict]) -> list[int]:
        """Write the verdicts on several files (and the rows of those loaded) in one
        transaction; returns their submission ids, in order.

        Each file stays all-or-nothing: when the batch fails, it is rolled back whole and its
        files are written again one transaction each, so the files before the one at fault are
        kept and the error names that one."""
        if not verdicts:
            return []
        try:
            files = self._receive([facts for facts, _ in verdicts])
        except BaseException:
            if len(verdicts) == 1:
                raise
            return [self.record([verdict])[0] for verdict in verdicts]
        ids: list[int] = []
        last = self._last_id
        for facts in files:
            replayed = self.replay.get(facts.sha256)
            ids.append(replayed.submission_id if replayed else last + 1)
            last = max(last, ids[-1])
        con = self.con
        con.execute("begin transaction")
        try:
            self._insert_submissions(files, verdicts, ids)
            loaded = [
                (submission_id, verdict)
                for submission_id, (_, verdict) in zip(ids, verdicts, strict=True)
                if isinstance(verdict, ParsedSubmission)
            ]
            self._insert_sheets(loaded)
            for source in dict.fromkeys(parsed.source for _, parsed in loaded):
                self._insert_cells(source, [(i, p) for i, p in loaded if p.source == source])
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            if len(verdicts) == 1:
                raise
            return [self.record([verdict])[0] for verdict in verdicts]
        events = []
        for submission_id, facts, (_, verdict) in zip(ids, files, verdicts, strict=True):
            status = "loaded" if isinstance(verdict, ParsedSubmission) else "rejected"
            self._known[facts.sha256] = KnownSubmission(submission_id, status)
            self._last_id = max(self._last_id, submission_id)
            if facts.sha256 not in self.replay:
                events.append((submission_id, facts, {"status": status, **_journal(verdict)}))
        if self.keeper is not None and events:
            self.keeper.received(events)
        return ids

    def _insert_submissions(
        self, files: Sequence[FileFacts], verdicts: Sequence[Verdict], ids: Sequence[int]
    ) -> None:
        rows = []
        for submission_id, facts, (_, verdict) in zip(ids, files, verdicts, strict=True):
            row: dict[str, object] = {
                "submission_id": submission_id,
                "file_name": facts.path.name,
                "file_path": str(facts.path),
                "sha256": facts.sha256,
                "size_bytes": facts.size_bytes,
                "received_at": facts.received_at,
            }
            if isinstance(verdict, ParsedSubmission):
                meta = verdict.metadata
                row.update(
                    country_code=verdict.country_code,
                    source=verdict.source,
                    period=str(verdict.reference_year),
                    reference_year=verdict.reference_year,
                    first_month=verdict.first_month,
                    last_month=verdict.last_month,
                    layout=verdict.layout,
                    institution=meta.get("institution"),
                    contact=meta.get("contact"),
                    submitted_on=meta.get("submitted_on"),
                    version=meta.get("version"),
                    notes=meta.get("notes"),
                    obs_flag=verdict.obs_flag,
                    filename_country=verdict.filename_country,
                    filename_year=verdict.filename_year,
                    status="loaded",
                    tolerance_absolute=verdict.tolerance_absolute,
                    tolerance_relative=verdict.tolerance_relative,
                )
            else:
                year = verdict.filename_year
                row.update(
                    filename_country=verdict.filename_country,
                    filename_year=year,
                    country_code=verdict.filename_country,
                    period=None if year is None else str(year),
                    status="rejected",
                    error_message=verdict.message,
                    error_sheet=verdict.sheet,
                    error_cell=verdict.cell,
                    error_rule=verdict.rule,
                    error_message_es=verdict.message_es,
                )
            rows.append([row.get(name) for name in SUBMISSION_COLUMNS])
        self._insert_rows("submissions", SUBMISSION_COLUMNS, rows, "now()::timestamp as loaded_at")

    def _insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]], extra: str = ""
    ) -> None:
        """Insert rows of Python values with one statement (typed by the table's columns)."""
        if not rows:
            return
        types = self._column_types.get(table)
        if types is None:
            types = self._column_types[table] = dict(
                self.con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'raw' and table_name = ?",
                    [table],
                ).fetchall()
            )
        insert_columns(self.con, f"raw.{table}", columns, rows, types, extra)

    def _insert_sheets(self, loaded: Sequence[tuple[int, ParsedSubmission]]) -> None:
        rows = [
            (
                submission_id,
                sheet.sheet,
                sheet.is_required,
                sheet.is_present,
                sheet.cell_count,
                sheet.layout_sheet or sheet.sheet,
                sheet.row_dimension or None,
            )
            for submission_id, parsed in loaded
            for sheet in parsed.sheets
        ]
        self._insert_rows("submission_sheets", SHEET_COLUMNS, rows)

    def _insert_cells(self, source: str, loaded: Sequence[tuple[int, ParsedSubmission]]) -> None:
        """The cells of every file of ``loaded`` (all of ``source``), with one insert: each
        cell keeps its submission, sheet and cell reference.

        What is the same for a whole row of a sheet (sheet, row, parent, row labels) goes in
        once per row and is joined to the row's cells in DuckDB: each value crosses from Python
        once per row rather than once per cell. The cells go in in their parsed order."""
        parts = [(i, p.cell_columns.split()) for i, p in loaded if len(p.cell_columns)]
        if not parts:
            return
        dimensions = self.specs.source(source).dimension_names()
        per_cell = {
            dimension
            for dimension in dimensions
            if any(f"label:{dimension}" in cells for _, (_, cells, _) in parts)
        }
        row_parts: list[dict[str, np.ndarray]] = []
        cell_parts: list[dict[str, np.ndarray]] = []
        first_row = 0
        for submission_id, (rows, cells, lengths) in parts:
            row_count, cell_count = len(lengths), int(lengths.sum())
            row_ids = np.arange(first_row, first_row + row_count, dtype=np.int64)
            first_row += row_count
            row_part: dict[str, np.ndarray] = {
                "row_id": row_ids,
                "submission_id": np.full(row_count, submission_id, dtype=np.int32),
            }
            row_part.update((name, rows[name]) for name in (*ROW_STRING_FIELDS, *ROW_NUMBER_FIELDS))
            cell_part = {"row_id": np.repeat(row_ids, lengths)}
            cell_part.update(
                (name, column) for name, column in cells.items() if not name.startswith("label:")
            )
            if "cell" not in cell_part:  # made below from the column and row numbers
                cell_part["cell"] = np.full(cell_count, None)
            for dimension in dimensions:
                key = f"label:{dimension}"
                if dimension in per_cell:
                    if key in cells:
                        column = cells[key]
                    elif key in rows:
                        column = np.repeat(rows[key], lengths)
                    else:
                        column = np.full(cell_count, None)
                    cell_part[f"{dimension}_label"] = column
                else:
                    row_part[f"{dimension}_label"] = rows.get(key, np.full(row_count, None))
            row_parts.append(row_part)
            cell_parts.append(cell_part)
        rows_batch = {
            name: np.concatenate([part[name] for part in row_parts]) for name in row_parts[0]
        }
        cells_batch = {
            name: np.concatenate([part[name] for part in cell_parts]) for name in cell_parts[0]
        }
        row_of_cell = cells_batch.pop("row_id")
        for name, column in rows_batch.items():
            if name != "row_id":
                cells_batch[name] = column[row_of_cell]
        self.con.register("cells_batch", cells_batch)
        try:
            self.con.execute(
                f"insert into raw.{source} by name "
                "select * exclude (value, cell, parent_row), "
                f"coalesce(cell, {_LETTERS_SQL} || row_number::varchar) as cell, "
                "case when isnan(value) then null else value end as value, "
                f"nullif(parent_row, {NO_PARENT}) as parent_row "
                "from cells_batch"
            )
        finally:
            self.con.unregister("cells_batch")


_LETTERS_SQL = (
    "(case when column_number <= 26 then chr((64 + column_number)::integer) "
    "when column_number <= 702 then chr((65 + (column_number - 27) // 26)::integer) "
    "|| chr((65 + (column_number - 27) % 26)::integer) "
    "else chr((65 + (column_number - 703) // 676)::integer) "
    "|| chr((65 + (column_number - 703) // 26 % 26)::integer) "
    "|| chr((65 + (column_number - 703) % 26)::integer) end)"
)
"""A column number's letters (``index_to_column_letter`` of ``column_number - 1``), in SQL,
from A (1) to ZZZ (18,278)."""


def insert_columns(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    types: Mapping[str, str],
    extra: str = "",
) -> None:
    """Insert rows of Python values into ``table`` with one statement, each value cast to its
    column's type (``types``), as ``?::type`` parameters would be: the rows go in as columns
    (one numpy object array each) rather than as thousands of bound parameters, which DuckDB
    binds one by one (measured ~50x slower for the 164 submissions of the samples)."""
    given: dict[str, np.ndarray] = {}
    for position, name in enumerate(columns):
        column = np.empty(len(rows), dtype=object)
        column[:] = [row[position] for row in rows]
        given[name] = column
    select = ", ".join(f"cast({name} as {types[name]}) as {name}" for name in columns)
    con.register("rows_given", given)
    try:
        con.execute(
            f"insert into {table} by name select {select}{', ' + extra if extra else ''} "
            "from rows_given"
        )
    finally:
        con.unregister("rows_given")


def _journal(verdict: ParsedSubmission | Rejected) -> dict[str, Any]:
    """What the history journal records of a verdict."""
    if isinstance(verdict, ParsedSubmission):
        return {
            "country": verdict.country_code,
            "source": verdict.source,
            "period": str(verdict.reference_year),
            "layout": verdict.layout,
        }
    year = verdict.filename_year
    return {
        "country": verdict.filename_country,
        "period": None if year is None else str(year),
        "message": verdict.message,
        "sheet": verdict.sheet,
        "cell": verdict.cell,
        "rule": verdict.rule,
        "message_es": verdict.message_es,
    }


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
            for sheet_name in group.sheets:
                rows["spec_cross_tables"].append(
                    (
                        source.id,
                        f"{source.id}-{group_number}",
                        sheet_name,
                        ",".join(group.dimensions),
                    )
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
            pairs = [column.strip().split(" ", 1) for column in columns.split(",")]
            names = [name for name, _ in pairs]
            insert_columns(con, f"raw.{table}", names, rows[table], dict(pairs))
