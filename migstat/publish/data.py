"""Read the published warehouse (read-only) into product tables."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import SupportsFloat, cast

import duckdb
import pyarrow as pa

from migstat.errors import MigstatError
from migstat.publish.catalogue import ProductSpec
from migstat.readonly import connect_read_only
from migstat.resources import reader_config

TOTAL = "_T"
PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
PERCENT_UNITS = frozenset({"share", "rate", "change", "percent"})


@dataclass(frozen=True)
class Member:
    """A row or column of a table: its code and its labels."""

    code: str
    es: str
    en: str

    def label(self, lang: str) -> str:
        return self.es if lang == "es" else self.en


@dataclass(frozen=True)
class Cell:
    value: float | None
    flag: str | None = None
    computed: bool = False
    """True for totals the publisher adds (sums of the cells of the row or column)."""


@dataclass
class ProductTable:
    """One product's numbers: rows x columns, each cell with its observation flag."""

    rows: list[Member]
    columns: list[Member]
    cells: dict[tuple[str, str], Cell]
    counting_units: list[str]
    unit: str | None = None
    notes: list[str] = field(default_factory=list)

    def cell(self, row: str, column: str) -> Cell:
        return self.cells.get((row, column), Cell(None))

    def flags(self) -> list[str]:
        """Every observation flag letter present in the table, sorted."""
        letters = {letter for c in self.cells.values() if c.flag for letter in c.flag}
        return sorted(letters)

    @property
    def is_percent(self) -> bool:
        return self.unit in PERCENT_UNITS

    def is_empty(self) -> bool:
        return all(c.value is None for c in self.cells.values())

    def add_totals(self, where: str) -> None:
        """Append computed totals: a Total column (``columns``), a Total row (``rows``), both."""
        if where in ("columns", "both") and len(self.columns) > 1:
            for row in self.rows:
                self.cells[(row.code, TOTAL)] = _sum(
                    self.cell(row.code, c.code) for c in self.columns
                )
            self.columns.append(Member(TOTAL, "Total", "Total"))
        if where in ("rows", "both") and len(self.rows) > 1:
            for column in self.columns:
                self.cells[(TOTAL, column.code)] = _sum(
                    self.cell(r.code, column.code) for r in self.rows
                )
            self.rows.append(Member(TOTAL, "Total", "Total"))


def table_to_json(table: ProductTable) -> dict[str, object]:
    """A product table as plain JSON (the publish cache of unchanged products' tables)."""
    return {
        "rows": [[m.code, m.es, m.en] for m in table.rows],
        "columns": [[m.code, m.es, m.en] for m in table.columns],
        "cells": [
            [row, column, cell.value, cell.flag, cell.computed]
            for (row, column), cell in table.cells.items()
        ],
        "counting_units": table.counting_units,
        "unit": table.unit,
        "notes": table.notes,
    }


def table_from_json(data: dict[str, object]) -> ProductTable:
    """The table :func:`table_to_json` wrote, as it was (cells in the same order)."""
    rows = cast("list[list[str]]", data["rows"])
    columns = cast("list[list[str]]", data["columns"])
    cells = cast("list[list[object]]", data["cells"])
    return ProductTable(
        [Member(*m) for m in rows],
        [Member(*m) for m in columns],
        {
            (str(row), str(column)): Cell(
                None if value is None else float(cast("SupportsFloat", value)),
                None if flag is None else str(flag),
                bool(computed),
            )
            for row, column, value, flag, computed in cells
        },
        [str(u) for u in cast("list[object]", data["counting_units"])],
        None if data["unit"] is None else str(data["unit"]),
        [str(n) for n in cast("list[object]", data["notes"])],
    )


def normalise_flag(raw: object) -> str | None:
    """``'p'``, ``'b,p'``, ``'pp'`` -> sorted distinct letters (``'bp'``); empty -> None."""
    letters = sorted({c for c in str(raw or "") if c.isalpha()})
    return "".join(letters) or None


def _sum(cells: object) -> Cell:
    values: list[float] = []
    flags: set[str] = set()
    for cell in cells:  # type: ignore[attr-defined]
        if cell.value is not None:
            values.append(cell.value)
        if cell.flag:
            flags.update(cell.flag)
    return Cell(sum(values) if values else None, "".join(sorted(flags)) or None, computed=True)


SPILL_PREFIX = "migstat-publish-"
_SPILL_PID = re.compile(r"migstat-publish-(\d+)-")
_DUCKDB_TEMP_PID = re.compile(r"duckdb_temp_(\d+)_")


def remove_dead_spills(parent: Path) -> None:
    """Remove the spill folders a killed publish or export left in ``parent`` (gigabytes at
    scale): those whose process has ended, known by the pid in the folder's name or, for
    folders named before it was, in the name of DuckDB's own files inside."""
    for folder in parent.glob(f"{SPILL_PREFIX}*"):
        found = _SPILL_PID.match(folder.name)
        if found is None:
            try:
                names = [f.name for f in folder.iterdir()]
            except OSError:
                continue
            found = next((m for n in names if (m := _DUCKDB_TEMP_PID.match(n))), None)
        if found is not None and not Path(f"/proc/{found[1]}").exists():
            shutil.rmtree(folder, ignore_errors=True)


class Warehouse:
    """The published warehouse, opened read-only (a build can swap it in meanwhile)."""

    def __init__(self, path: Path, *, spill: bool = False) -> None:
        """``spill``: DuckDB may spill to a temporary folder of its own (created in
        ``MIGSTAT_DUCKDB_TEMP_DIRECTORY`` or the system's temporary folder, removed on close)
        when a query needs more than its memory limit, as the open data's queries over every
        cell of a source do at scale. Memory limit and threads follow the machine
        (:func:`migstat.resources.reader_config`), as the build's do."""
        if not path.exists():
            raise MigstatError(
                f"no published warehouse at {path}: run `migstat load` and `migstat build` first "
                f"(no hay almacén publicado: ejecute `migstat load` y `migstat build`)"
            )
        self.path = path
        config = reader_config()
        self.spill: Path | None = None
        if spill:
            parent = os.environ.get("MIGSTAT_DUCKDB_TEMP_DIRECTORY") or tempfile.gettempdir()
            Path(parent).mkdir(parents=True, exist_ok=True)
            remove_dead_spills(Path(parent))
            self.spill = Path(tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-", dir=parent))
            config["temp_directory"] = str(self.spill)
        try:
            self.con = connect_read_only(path, config)
        except BaseException:
            self._remove_spill()
            raise
        self._local = threading.local()

    def _remove_spill(self) -> None:
        if self.spill is not None:
            shutil.rmtree(self.spill, ignore_errors=True)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """The connection of the calling thread (DuckDB runs queries of several threads at
        once, each on its own cursor of the same database)."""
        if threading.current_thread() is threading.main_thread():
            return self.con
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self.con.cursor()
        return cursor

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and remove the spill folder."""
        try:
            self.con.close()
        finally:
            self._remove_spill()

    def stream(
        self, sql: str, params: dict[str, object] | None = None
    ) -> duckdb.DuckDBPyConnection:
        """Run a query with the ``$named`` parameters it uses; the cursor, to fetch its rows
        a chunk at a time (``fetchmany``): DuckDB produces them as they are fetched."""
        try:
            used = {name: (params or {})[name] for name in set(PARAM.findall(sql))}
            con = self._cursor()
            return con.execute(sql, used) if used else con.execute(sql)
        except (duckdb.Error, KeyError) as exc:
            raise MigstatError(f"product query failed: {exc}\n{sql}") from exc

    def arrow(
        self, sql: str, params: dict[str, object] | None, batch_rows: int
    ) -> pa.RecordBatchReader:
        """Run a query with the ``$named`` parameters it uses; its result streamed as Arrow
        record batches of at most ``batch_rows`` rows (read it to the end before the next
        query on the same thread)."""
        try:
            used = {name: (params or {})[name] for name in set(PARAM.findall(sql))}
            relation = self._cursor().sql(sql, params=used or None)
            assert relation is not None
            return relation.to_arrow_reader(batch_size=batch_rows)
        except (duckdb.Error, KeyError) as exc:
            raise MigstatError(f"open data query failed: {exc}\n{sql}") from exc

    def records(self, sql: str, params: dict[str, object] | None = None) -> list[dict[str, object]]:
        """Run a catalogue query with the ``$named`` parameters it uses; rows as dicts."""
        cursor = self.stream(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def table(self, spec: ProductSpec, params: dict[str, object]) -> ProductTable:
        """The product's table for one parameter set (empty when the warehouse has no data)."""
        rows: dict[str, Member] = {}
        columns: dict[str, Member] = {}
        cells: dict[tuple[str, str], Cell] = {}
        units: list[str] = []
        unit: str | None = None
        for rec in self.records(spec.query, params):
            row = Member(str(rec["row_code"]), str(rec["row_es"]), str(rec["row_en"]))
            if "col_code" in rec:
                col = Member(str(rec["col_code"]), str(rec["col_es"]), str(rec["col_en"]))
            else:
                col = Member("value", spec.value_title.es, spec.value_title.en)
            rows.setdefault(row.code, row)
            columns.setdefault(col.code, col)
            value = rec["value"]
            cells[(row.code, col.code)] = Cell(
                None if value is None else float(cast("SupportsFloat", value)),
                normalise_flag(rec.get("obs_flag")),
            )
            counting_unit = rec.get("counting_unit")
            if counting_unit and counting_unit not in units:
                units.append(str(counting_unit))
            unit = unit or (str(rec["unit"]) if rec.get("unit") else None)
        table = ProductTable(list(rows.values()), list(columns.values()), cells, units, unit)
        if spec.totals != "none" and not table.is_percent:
            table.add_totals(spec.totals)
        return table
