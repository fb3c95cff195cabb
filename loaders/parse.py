"""Turning a workbook into raw records through a layout spec.

Pure: a ``Workbook`` (or anything with the same four methods) and specs in, records out. Every
structural problem raises ``WorkbookRejected`` naming the file, sheet and cell.

Published tables are read row by row, each row classified (see :data:`ROW_KINDS`): repeated title
and header rows of a table printed over pages, notes lines and block headings are skipped; data
rows take their place in the table's declared hierarchy (``rows.levels``), so that each row
records the row it adds up into (``parent_row``) and its path of labels (``row_key``).
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import re
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from math import isfinite
from typing import Any, Protocol

from loaders.limits import rejected
from loaders.workbook import Grid
from migstat import codes
from migstat.errors import WorkbookRejected
from migstat.flags import flag_letters, read_flag
from migstat.specs import (
    LabelSet,
    LayoutSpec,
    Level,
    SheetLayout,
    Specs,
    cell_ref,
    column_letter_to_index,
    index_to_column_letter,
)
from migstat.translations import N_, ByLanguage, Term

FILE_NAME = re.compile(r"^(?P<country>[A-Z]{3})_(?P<source>[a-z_]+?)_(?P<year>\d{4})(?:_.*)?$")
THOUSANDS = re.compile(r"^-?(?:[1-9]\d{0,2})(?:([,.\s\u00a0\u202f'\u2019])\d{3})(?:\1\d{3})*$")
"""A whole number written with a thousands separator: 1.234, 1,234, 1 234 (also non-breaking
and narrow spaces, 1'234); a first group of 0 is a decimal ("0.125"), never thousands."""
GROUPED_DECIMAL = re.compile(
    r"^-?(?:[1-9]\d{0,2})(?:([,.\s\u00a0\u202f'\u2019])\d{3})(?:\1\d{3})*(?!\1)([.,])\d+$"
)
"""A decimal number with thousands separators, either convention: 12,345.6 or 12.345,6."""
SEPARATORS = re.compile(r"[,.\s\u00a0\u202f'\u2019]")
PLAIN_NUMBER = re.compile(r"^-?(?:\d+(?:[.,]\d+)?|[.,]\d+)$")
REFERENCE = re.compile(
    r"^(?P<sheet>[^!/]+)(?:!(?P<cell>[A-Z]+\d+)(?::(?P<last>[A-Z]+\d+))?)?(?:/(?P<regex>.+))?$"
)
"""``sheet!cell/regex``; the cell may be a range (``A1:A6``): its first cell, row by row, whose
text matches (and, for a period, names a year)."""
MAX_RANGE_CELLS = 200
"""The most cells a range reference looks at."""
SHEET_TOKEN = "{sheet}"

ROW_KINDS = {
    "detail": "a leaf row: its cells are published",
    "total": "the grand total of the row dimension",
    "aggregate": "an aggregate of the rows under it (a region, 'Extranjeros', ...)",
    "member": "a leaf declared at a level (e.g. 'Apátridas' directly under 'Extranjeros')",
    "heading": "an aggregate label without numbers: its rows are grouped under it",
    "header": "a repeated title or header row (table printed over pages): skipped",
    "note": "a notes line: skipped",
    "block": "the heading of a stacked block: sets the block's dimension value",
    "ignored": "a label without numbers that is neither an aggregate nor a note: skipped",
}

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            "enero ene january jan",
            "febrero feb february",
            "marzo mar march",
            "abril abr april apr",
            "mayo may",
            "junio jun june",
            "julio jul july",
            "agosto ago august aug",
            "septiembre setiembre sep set sept september",
            "octubre oct october",
            "noviembre nov november",
            "diciembre dic december dec",
        ],
        start=1,
    )
    for name in names.split()
}
ORDINALS = {
    name: number
    for number, names in enumerate(
        [
            "primer primero 1er i first 1st",
            "segundo ii second 2nd 2do",
            "tercer tercero iii third 3rd 3er",
            "cuarto iv fourth 4th 4to",
        ],
        start=1,
    )
    for name in names.split()
}
FIELD_NAMES = {
    "country": Term(N_("country")),
    "source": Term(N_("source")),
    "year": Term(N_("year")),
    "first_month": Term(N_("first month")),
    "last_month": Term(N_("last month")),
}
"""The metadata fields as a rejection names them (translated with the rejection)."""
PARTS = {"trimestre": 3, "quarter": 3, "semestre": 6, "half": 6, "cuatrimestre": 4}


class WorkbookLike(Protocol):
    sheet_names: list[str]

    def has_sheet(self, name: str) -> bool: ...

    def grid(self, name: str) -> Grid: ...

    def value(self, sheet: str, row: int, column: int) -> object: ...


class LabelOracle(Protocol):
    """What parsing needs to know about labels (implemented over the shared code lists)."""

    def is_total(self, label: str) -> bool: ...

    def is_member(self, codelist: str, label: str) -> bool: ...


@dataclass(frozen=True)
class CellRecord:
    sheet: str
    cell: str
    row_number: int
    column_number: int
    measure: str
    labels: dict[str, str | None]
    raw_text: str | None
    value: float | None
    value_status: str
    cell_role: str
    parent_row: int | None = None
    parent_label: str | None = None
    row_key: str | None = None


CELL_STRING_FIELDS = (
    "sheet",
    "cell",
    "measure",
    "raw_text",
    "value_status",
    "cell_role",
    "parent_label",
    "row_key",
)
CELL_NUMBER_FIELDS = ("row_number", "column_number", "parent_row", "value")
ROW_STRING_FIELDS = ("sheet", "measure", "parent_label", "row_key")
ROW_NUMBER_FIELDS = ("row_number", "parent_row")
"""The fields that hold one value per row of a sheet (``CellColumns.pack``)."""
NO_PARENT = -1
CODED_AT_MOST = 4
"""``pack`` codes a column of one text per cell when it has at most one distinct text in this
many cells."""
"""``parent_row`` of a cell at the top of its table, in columns (``None`` in a ``CellRecord``)."""


Convert = Callable[
    [list[object]], tuple[Sequence[str | None], Sequence[float | None], Sequence[str]]
]
"""Raw cell values -> (their texts, numbers, statuses) (``SheetReader._cells``)."""
_FLOAT_ZERO = (float, 0.0)


class CellColumns:
    """The cells of a submission as columns: one list per ``CellRecord`` field and one per label
    key (a dimension), all of the same length.

    The parser appends whole rows at a time; the worker process that parsed a file sends these
    columns and the store writes them as they are, with no per-cell object on either side.
    ``pack`` readies them for the trip: numeric columns become ``array`` buffers (they pickle as
    raw bytes) and the columns that hold one value per row (sheet, row, parent, row labels) are
    cut down to that one value per row, with the row lengths beside them; ``split`` gives
    them as numpy arrays, the row columns once per row. ``records()`` gives ``CellRecord`` objects
    for the code that reads cells one by one (layout check, tests). ``value`` is NaN and
    ``parent_row`` is ``NO_PARENT`` where a record has ``None``.
    """

    def __init__(self) -> None:
        self.strings: dict[str, list[str | None]] = {name: [] for name in CELL_STRING_FIELDS}
        self.numbers: dict[str, Any] = {name: [] for name in CELL_NUMBER_FIELDS}
        self.labels: dict[str, list[str | None]] = {}
        self.count = 0
        self.row_lengths: list[int] | None = []
        """Cells of each ``add_row`` call, in order; ``None`` once the columns no longer
        follow whole rows (built from records or extended)."""
        self.cell_label_keys: set[str] = set()
        """Label keys given per cell (``column_labels``) in some row: not one value per row."""
        self.packed: list[str] = []
        """Columns cut down to one value per row by ``pack`` (``unpack`` restores them)."""
        self.coded: dict[tuple[str, str], list[Any]] = {}
        """(``strings`` or ``labels``, name) -> dictionary of a column held as codes into it
        (``array`` of int32) by ``pack``: a column of few distinct texts (statuses, roles,
        labels given per column, repeated small numbers) pickles as bytes, not one object per
        cell."""
        self.values_coded = False
        """The cells' texts, values and statuses are not held in ``strings`` and ``numbers``
        but as ``value_codes``: one code per cell into ``value_texts``, ``value_numbers`` and
        ``value_statuses``, which hold each distinct cell content once (rows added with
        ``value_codes``, see ``code_values``). ``hold_values`` puts them back as columns."""
        self.value_codes: array[int] = array("i")
        self.value_texts: list[str | None] = []
        self.value_numbers: list[float] = []
        self.value_statuses: list[str] = []
        self.value_index: dict[tuple[object, ...], dict[tuple[type, object], int]] = {}
        """(how values are read) -> (type, raw value) -> code: filled while rows are added,
        not sent to the store."""
        self.negative_zeros: dict[tuple[str, tuple[object, ...]], int] = {}
        """The code of ``-0.0`` per way of reading (``code_values``)."""
        self.row_sequences: dict[tuple[str, str], list[Sequence[Any]]] = {}
        """While ``values_coded``: the cell roles and the labels given per column, as the
        sequence each row gave (``strings`` / ``labels`` hold nothing for them meanwhile).
        The rows of a block share a few sequences, so ``hold_values`` codes each distinct
        sequence once and joins the codes, with no pass over the cells in Python."""
        self._codes_done = False
        self.derived_cells = False
        """The cell references are not held (``strings["cell"]`` is empty): each is its
        column's letters and its row number (rows added without ``cells``). They are made on
        demand (``records``), and the store makes them in DuckDB: no string per cell is built,
        pickled or converted in Python."""

    def __len__(self) -> int:
        return self.count

    def code_values(
        self,
        reading: tuple[object, ...],
        raw_values: Sequence[object],
        convert: Convert,
    ) -> list[int]:
        """The code of each raw cell value of a row (``add_row``'s ``value_codes``): each
        distinct value (by type and value, so ``1``, ``1.0`` and ``True`` stay apart, and
        ``-0.0`` apart from ``0.0``) is converted once by ``convert`` (the row's values not seen
        before, at once) into texts, numbers and statuses for a given way of reading
        (``reading``: markers and scale), and every later cell holding it only looks it up."""
        index = self.value_index.get(reading)
        if index is None:
            index = self.value_index[reading] = {}
        keys = list(zip(map(type, raw_values), raw_values, strict=True))
        found: list[int | None] = list(map(index.get, keys))
        codes: list[int] = found  # type: ignore[assignment]  # once no None is left
        if None in found:
            fresh = list(dict.fromkeys(key for key in keys if key not in index))
            if _FLOAT_ZERO in fresh:  # a zero, maybe -0.0: one cell at a time
                for position, (key, code) in enumerate(zip(keys, found, strict=True)):
                    if code is None:
                        found[position] = self._code_one(reading, index, key, convert)
            else:
                first = len(self.value_texts)
                texts, numbers, statuses = convert([raw for _, raw in fresh])
                self.value_texts.extend(texts)
                self.value_numbers.extend(
                    [math.nan if number is None else number for number in numbers]
                )
                self.value_statuses.extend(statuses)
                index.update(zip(fresh, range(first, first + len(fresh)), strict=True))
                codes = list(map(index.__getitem__, keys))
        # -0.0 equals 0.0 as a key: a float zero found in the index is checked for its sign.
        zero = index.get(_FLOAT_ZERO)
        if zero is not None and zero in codes:
            for position, code in enumerate(codes):
                if code == zero and math.copysign(1.0, raw_values[position]) < 0:  # type: ignore[arg-type]
                    codes[position] = self._negative_zero(reading, raw_values[position], convert)
        return codes

    def _code_one(
        self,
        reading: tuple[object, ...],
        index: dict[tuple[type, object], int],
        key: tuple[type, object],
        convert: Convert,
    ) -> int:
        raw = key[1]
        if key[0] is float and raw == 0.0 and math.copysign(1.0, raw) < 0:  # type: ignore[arg-type]
            return self._negative_zero(reading, raw, convert)
        code = index.get(key)
        if code is None:
            texts, numbers, statuses = convert([raw])
            code = index[key] = self._new_value(texts[0], numbers[0], statuses[0])
        return code

    def _new_value(self, text: str | None, number: float | None, status: str) -> int:
        self.value_texts.append(text)
        self.value_numbers.append(math.nan if number is None else number)
        self.value_statuses.append(status)
        return len(self.value_texts) - 1

    def _negative_zero(self, reading: tuple[object, ...], raw: object, convert: Convert) -> int:
        """The code of ``-0.0`` read a given way (kept out of the index, where it would be
        ``0.0``)."""
        key = ("-0.0", reading)
        code = self.negative_zeros.get(key)
        if code is None:
            texts, numbers, statuses = convert([raw])
            code = self.negative_zeros[key] = self._new_value(texts[0], numbers[0], statuses[0])
        return code

    def hold_values(self) -> None:
        """The cells' texts, statuses and values as columns again (after rows added with
        ``value_codes``): texts and statuses as codes into their dictionaries (``coded``),
        values as numbers."""
        if not self.values_coded:
            return
        codes = self.value_codes
        strings: dict[str, Any] = self.strings  # codes until decoded (``coded``)
        strings["raw_text"] = codes
        strings["value_status"] = codes
        self.coded[("strings", "raw_text")] = self.value_texts
        self.coded[("strings", "value_status")] = self.value_statuses
        numbers = self.value_numbers
        self.numbers["value"] = array("d", [numbers[code] for code in codes])
        for (kind, name), sequences in self.row_sequences.items():
            dictionary: dict[Any, int] = {}
            known: dict[int, list[int]] = {}
            parts = []
            for sequence in sequences:  # all alive: ``id`` names each one
                part = known.get(id(sequence))
                if part is None:
                    part = known[id(sequence)] = [
                        dictionary.setdefault(value, len(dictionary)) for value in sequence
                    ]
                parts.append(part)
            getattr(self, kind)[name] = array("i", list(itertools.chain.from_iterable(parts)))
            self.coded[(kind, name)] = list(dictionary)
        self.row_sequences = {}
        self.values_coded = False
        self.value_codes = array("i")
        self.value_texts, self.value_numbers, self.value_statuses = [], [], []
        self.value_index = {}
        self.negative_zeros = {}

    def _label_column(self, key: str) -> list[str | None]:
        column = self.labels.get(key)
        if column is None:
            column = self.labels[key] = [None] * self.count
        return column

    def add_row(
        self,
        *,
        sheet: str,
        row_number: int,
        measure: str,
        parent_row: int | None,
        parent_label: str | None,
        row_key: str | None,
        labels: Mapping[str, str | None],
        column_labels: Mapping[str, Sequence[str | None]],
        cells: Sequence[str] | None,
        column_numbers: Sequence[int],
        raw_texts: Sequence[str | None] = (),
        values: Sequence[float | None] = (),
        statuses: Sequence[str] = (),
        roles: Sequence[str],
        value_codes: Sequence[int] | None = None,
    ) -> None:
        """One row of ``n`` cells: per-row values once, per-cell values as sequences of ``n``;
        ``column_labels`` (label key -> one label per cell) override ``labels``; ``cells``
        ``None``: each cell's reference is its column's letters and ``row_number``;
        ``value_codes`` (from ``code_values``) stand for ``raw_texts``, ``values`` and
        ``statuses``."""
        n = len(column_numbers)
        if not n:
            return
        coded = value_codes is not None and (self.values_coded or not self.count)
        if (
            coded
            and cells is None
            and self.row_lengths is not None
            and not self.coded
            and (not self.count or (self.packed and self.derived_cells))
        ):
            self._add_packed_row(
                sheet=sheet,
                row_number=row_number,
                measure=measure,
                parent_row=parent_row,
                parent_label=parent_label,
                row_key=row_key,
                labels=labels,
                column_labels=column_labels,
                column_numbers=column_numbers,
                roles=roles,
                value_codes=value_codes,  # type: ignore[arg-type]  # not None when coded
            )
            return
        if value_codes is not None and not coded:
            raw_texts = list(map(self.value_texts.__getitem__, value_codes))
            values = [
                None if math.isnan(number) else number
                for number in map(self.value_numbers.__getitem__, value_codes)
            ]
            statuses = list(map(self.value_statuses.__getitem__, value_codes))
        if not coded:
            self.hold_values()
        self.unpack()
        if cells is None and not self.count:
            self.derived_cells = True
        elif cells is not None and self.derived_cells:
            self.materialise_cells()
        strings, numbers = self.strings, self.numbers
        strings["sheet"].extend([sheet] * n)
        if not self.derived_cells:
            if cells is None:
                cells = [cell_ref(row_number - 1, number - 1) for number in column_numbers]
            strings["cell"].extend(cells)
        strings["measure"].extend([measure] * n)
        sequences = self.row_sequences
        if coded:
            self.values_coded = True
            self.value_codes.extend(value_codes)  # type: ignore[arg-type]
            sequences.setdefault(("strings", "cell_role"), []).append(roles)
        else:
            strings["raw_text"].extend(raw_texts)
            strings["value_status"].extend(statuses)
            numbers["value"].extend([math.nan if value is None else value for value in values])
            strings["cell_role"].extend(roles)
        strings["parent_label"].extend([parent_label] * n)
        strings["row_key"].extend([row_key] * n)
        numbers["row_number"].extend([row_number] * n)
        numbers["column_number"].extend(column_numbers)
        numbers["parent_row"].extend([NO_PARENT if parent_row is None else parent_row] * n)
        for key in (*labels, *column_labels):
            self._label_column(key)
        self.cell_label_keys.update(column_labels)
        if coded:
            for key in column_labels:
                if ("labels", key) not in sequences:
                    earlier = self.labels[key]
                    sequences[("labels", key)] = [earlier] if earlier else []
                    self.labels[key] = []  # held in ``row_sequences`` until ``hold_values``
        for key, column in self.labels.items():
            given = sequences.get(("labels", key))
            if given is not None:
                given.append(column_labels[key] if key in column_labels else [labels.get(key)] * n)
            elif key in column_labels:
                column.extend(column_labels[key])
            else:
                column.extend([labels.get(key)] * n)
        self.count += n
        if self.row_lengths is not None:
            self.row_lengths.append(n)

    def _add_packed_row(
        self,
        *,
        sheet: str,
        row_number: int,
        measure: str,
        parent_row: int | None,
        parent_label: str | None,
        row_key: str | None,
        labels: Mapping[str, str | None],
        column_labels: Mapping[str, Sequence[str | None]],
        column_numbers: Sequence[int],
        roles: Sequence[str],
        value_codes: Sequence[int],
    ) -> None:
        """``add_row`` of a row read with ``value_codes`` and no cell references, while the
        columns follow whole rows: the fields that hold one value per row (``_row_columns``)
        get that one value, as ``pack`` would cut them, instead of one copy per cell."""
        assert self.row_lengths is not None
        n = len(column_numbers)
        if not self.count:
            self.derived_cells = True
            self.values_coded = True
            self.packed = [
                *ROW_STRING_FIELDS,
                *ROW_NUMBER_FIELDS,
                *(key for key in self.labels if key not in self.cell_label_keys),
            ]
        strings, numbers, sequences = self.strings, self.numbers, self.row_sequences
        strings["sheet"].append(sheet)
        strings["measure"].append(measure)
        self.value_codes.extend(value_codes)
        sequences.setdefault(("strings", "cell_role"), []).append(roles)
        strings["parent_label"].append(parent_label)
        strings["row_key"].append(row_key)
        numbers["row_number"].append(row_number)
        numbers["column_number"].extend(column_numbers)
        numbers["parent_row"].append(NO_PARENT if parent_row is None else parent_row)
        rows = len(self.row_lengths)
        for key in (*labels, *column_labels):
            if key in self.labels:
                continue
            if key in column_labels or key in self.cell_label_keys:
                self.labels[key] = [None] * self.count
            else:
                self.labels[key] = [None] * rows
                self.packed.append(key)
        for key in column_labels:
            if key not in self.cell_label_keys and key in self.packed:
                # given once per row until now, per cell from this row on
                self.packed.remove(key)
                full: list[str | None] = []
                for value, length in zip(self.labels[key], self.row_lengths, strict=True):
                    full.extend([value] * length)
                self.labels[key] = full
        self.cell_label_keys.update(column_labels)
        for key in column_labels:
            if ("labels", key) not in sequences:
                earlier = self.labels[key]
                sequences[("labels", key)] = [earlier] if earlier else []
                self.labels[key] = []  # held in ``row_sequences`` until ``hold_values``
        for key, column in self.labels.items():
            given = sequences.get(("labels", key))
            if given is not None:
                given.append(column_labels[key] if key in column_labels else [labels.get(key)] * n)
            elif key in self.cell_label_keys:
                column.extend([labels.get(key)] * n)
            else:
                column.append(labels.get(key))
        self.count += n
        self.row_lengths.append(n)

    def extend(self, other: CellColumns) -> None:
        """Append another ``CellColumns`` (the cells of the next sheet)."""
        if not other.count:
            return
        self.hold_values()
        other.hold_values()
        self.materialise_cells()
        other.materialise_cells()
        other_numbers = other.unpacked_numbers()
        for name in CELL_STRING_FIELDS:
            self.strings[name].extend(other.strings[name])
        for name in CELL_NUMBER_FIELDS:
            self.numbers[name] = list(self.numbers[name]) + list(other_numbers[name])
        for key in other.labels:
            self._label_column(key)
        for key, column in self.labels.items():
            column.extend(other.labels.get(key) or [None] * other.count)
        self.count += other.count
        self.row_lengths = None

    def _row_columns(self) -> list[tuple[dict[str, Any], str]]:
        """(where, name) of the columns that hold one value per row."""
        keys = [key for key in self.labels if key not in self.cell_label_keys]
        return [
            *((self.strings, name) for name in ROW_STRING_FIELDS),
            *((self.numbers, name) for name in ROW_NUMBER_FIELDS),
            *((self.labels, key) for key in keys),
        ]

    def pack(self) -> CellColumns:
        """Ready for the trip to another process: numeric columns as ``array`` buffers (int32,
        float64) and, when the columns follow whole rows, one value per row where a column
        holds one value per row."""
        self.hold_values()
        if self.row_lengths is not None and self.row_lengths and not self.packed:
            starts = list(itertools.accumulate(self.row_lengths, initial=0))[:-1]
            first_of_rows = operator.itemgetter(*starts)
            for where, name in self._row_columns():
                values = first_of_rows(where[name])
                where[name] = list(values) if len(starts) > 1 else [values]
                self.packed.append(name)
        for name in CELL_NUMBER_FIELDS:
            if not isinstance(self.numbers[name], array):
                self.numbers[name] = array("d" if name == "value" else "i", self.numbers[name])
        if self.packed and not self._codes_done:
            self._code()
        return self

    def _code(self) -> None:
        """The columns of one text per cell with few distinct texts, as codes (``coded``)."""
        per_cell = [
            *(("strings", name) for name in CELL_STRING_FIELDS if name not in ROW_STRING_FIELDS),
            *(("labels", key) for key in self.labels if key in self.cell_label_keys),
        ]
        self._codes_done = True
        for kind, name in per_cell:
            if (kind, name) in self.coded:
                continue  # coded as the rows were read (``hold_values``)
            where = getattr(self, kind)
            column = where[name]
            if len(column) != self.count:
                continue  # cell references not held (``derived_cells``)
            dictionary = dict.fromkeys(column)
            if len(dictionary) * CODED_AT_MOST > len(column):
                continue
            index = {value: code for code, value in enumerate(dictionary)}
            where[name] = array("i", map(index.__getitem__, column))
            self.coded[(kind, name)] = list(dictionary)

    def _decode(self) -> None:
        for (kind, name), dictionary in self.coded.items():
            where = getattr(self, kind)
            where[name] = list(map(dictionary.__getitem__, where[name]))
        self.coded = {}
        self._codes_done = False

    def materialise_cells(self) -> None:
        """Hold every cell's reference (after rows added without ``cells``)."""
        if not self.derived_cells:
            return
        self.hold_values()
        self.unpack()
        letters: dict[int, str] = {}
        references: list[str | None] = []
        for number, row in zip(
            self.numbers["column_number"], self.numbers["row_number"], strict=True
        ):
            letter = letters.get(number)
            if letter is None:
                letter = letters[number] = index_to_column_letter(number - 1)
            references.append(f"{letter}{row}")
        self.strings["cell"] = references
        self.derived_cells = False

    def unpack(self) -> None:
        """Every column back at full length, as lists (after ``pack``)."""
        if self.coded:
            self._decode()
        for name in CELL_NUMBER_FIELDS:
            if isinstance(self.numbers[name], array):
                self.numbers[name] = self.numbers[name].tolist()
        if not self.packed:
            return
        assert self.row_lengths is not None
        lengths = self.row_lengths
        for where, name in self._row_columns():
            if name in self.packed:
                full: list[Any] = []
                for value, n in zip(where[name], lengths, strict=True):
                    full.extend([value] * n)
                where[name] = full
        self.packed = []

    def split(self) -> tuple[dict[str, Any], dict[str, Any], Any]:
        """(row columns, cell columns, row lengths) as numpy arrays: the fields that hold one
        value per row (``ROW_STRING_FIELDS``, ``ROW_NUMBER_FIELDS`` and the row labels, as
        ``label:<key>``) once per row, the others once per cell; what the store writes. Columns
        that do not follow whole rows count each cell as a row of one."""
        import numpy as np  # the reader processes never need numpy

        def objects(values: Sequence[Any]) -> Any:
            column = np.empty(len(values), dtype=object)
            column[:] = values
            return column

        def per_cell(kind: str, name: str) -> Any:
            dictionary = self.coded.get((kind, name))
            column = getattr(self, kind)[name]
            if dictionary is None:
                return objects(column)
            return objects(dictionary)[np.asarray(column, dtype=np.int32)]

        self.hold_values()
        if self.row_lengths is not None:
            self.pack()
        if self.packed:
            lengths = np.asarray(self.row_lengths, dtype=np.int64)
        else:
            self.unpack()
            lengths = np.ones(self.count, dtype=np.int64)
        rows: dict[str, Any] = {name: objects(self.strings[name]) for name in ROW_STRING_FIELDS}
        for name in ROW_NUMBER_FIELDS:
            rows[name] = np.asarray(self.numbers[name], dtype=np.int32)
        cells: dict[str, Any] = {
            name: per_cell("strings", name)
            for name in CELL_STRING_FIELDS
            if name not in ROW_STRING_FIELDS and not (name == "cell" and self.derived_cells)
        }
        cells["column_number"] = np.asarray(self.numbers["column_number"], dtype=np.int32)
        cells["value"] = np.asarray(self.numbers["value"], dtype=np.float64)
        for key, column in self.labels.items():
            if self.packed and key in self.cell_label_keys:
                cells[f"label:{key}"] = per_cell("labels", key)
            else:
                rows[f"label:{key}"] = objects(column)
        return rows, cells, lengths

    def unpacked_numbers(self) -> dict[str, list[Any]]:
        self.hold_values()
        self.unpack()
        return {
            name: column.tolist() if isinstance(column, array) else list(column)
            for name, column in self.numbers.items()
        }

    def records(self) -> list[CellRecord]:
        self.hold_values()
        self.materialise_cells()
        numbers = self.unpacked_numbers()
        keys = list(self.labels)
        label_rows = zip(*(self.labels[key] for key in keys), strict=True) if keys else None
        s = self.strings
        records = []
        for index in range(self.count):
            value = numbers["value"][index]
            parent_row = numbers["parent_row"][index]
            records.append(
                CellRecord(
                    sheet=s["sheet"][index],  # type: ignore[arg-type]
                    cell=s["cell"][index],  # type: ignore[arg-type]
                    row_number=numbers["row_number"][index],
                    column_number=numbers["column_number"][index],
                    measure=s["measure"][index],  # type: ignore[arg-type]
                    labels=dict(zip(keys, next(label_rows), strict=True)) if label_rows else {},
                    raw_text=s["raw_text"][index],
                    value=None if math.isnan(value) else value,
                    value_status=s["value_status"][index],  # type: ignore[arg-type]
                    cell_role=s["cell_role"][index],  # type: ignore[arg-type]
                    parent_row=None if parent_row == NO_PARENT else parent_row,
                    parent_label=s["parent_label"][index],
                    row_key=s["row_key"][index],
                )
            )
        return records

    @classmethod
    def from_records(cls, records: Sequence[CellRecord]) -> CellColumns:
        columns = cls()
        for name in CELL_STRING_FIELDS:
            columns.strings[name] = [getattr(record, name) for record in records]
        columns.numbers["row_number"] = [record.row_number for record in records]
        columns.numbers["column_number"] = [record.column_number for record in records]
        columns.numbers["parent_row"] = [
            NO_PARENT if record.parent_row is None else record.parent_row for record in records
        ]
        columns.numbers["value"] = [
            math.nan if record.value is None else record.value for record in records
        ]
        keys = dict.fromkeys(key for record in records for key in record.labels)
        columns.labels = {key: [record.labels.get(key) for record in records] for key in keys}
        columns.count = len(records)
        columns.row_lengths = None
        return columns


@dataclass(frozen=True)
class RowRecord:
    """How one row of a data sheet was read (``migstat layout check`` prints these)."""

    sheet: str
    row_number: int
    kind: str
    label: str | None
    level: int | None = None
    parent_row: int | None = None
    block: str | None = None
    cells: int = 0


@dataclass(frozen=True)
class SheetRecord:
    sheet: str
    is_required: bool
    is_present: bool
    cell_count: int
    layout_sheet: str = ""
    row_dimension: str = ""


@dataclass
class ParsedSubmission:
    file_name: str
    layout: str
    source: str
    country_code: str
    reference_year: int
    first_month: int
    last_month: int
    obs_flag: str | None
    metadata: dict[str, str | None]
    filename_country: str | None
    filename_year: int | None
    tolerance_absolute: float | None = None
    tolerance_relative: float | None = None
    cell_columns: CellColumns = field(default_factory=CellColumns)
    sheets: list[SheetRecord] = field(default_factory=list)
    rows: list[RowRecord] = field(default_factory=list)
    columns: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)
    """Per sheet: (column letter, header labels) of every data column read."""

    @property
    def cells(self) -> list[CellRecord]:
        """The cells one by one, built from ``cell_columns`` on first use."""
        cached: list[CellRecord] | None = self.__dict__.get("_cells")
        if cached is None or len(cached) != len(self.cell_columns):
            cached = self.__dict__["_cells"] = self.cell_columns.records()
        return cached

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "_cells"}


def cell_text(value: object) -> str | None:
    """The text of a cell as a person reads it; ``None`` for an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _texts(values: list[object]) -> list[str | None]:
    """``cell_text`` of each value, with the common cases (text, whole number) inline."""
    return [
        value
        if type(value) is str and value
        else str(int(value))
        if type(value) is float and value.is_integer()
        else cell_text(value)
        for value in values
    ]


def parse_number(
    value: object, zero_markers: set[str], missing_markers: set[str]
) -> tuple[float | None, str]:
    """(value, status) for a data cell: ``number``, ``zero_marker``, ``blank``, ``missing_marker``
    or ``text`` (a non-numeric text the values rules report)."""
    if isinstance(value, bool):
        return None, "text"
    if isinstance(value, int | float):
        return (float(value), "number") if math.isfinite(value) else (None, "text")
    text = cell_text(value)
    if text is None or not text.strip():
        return None, "blank"
    stripped = text.strip()
    if stripped[0] in "'\u2019" and len(stripped) > 1:
        stripped = stripped[1:].lstrip()  # "'1234": a number kept as text by its apostrophe
    lowered = stripped.lower()
    if stripped in zero_markers:
        return 0.0, "zero_marker"
    if lowered in missing_markers or (stripped == "\u2026" and "..." in missing_markers):
        return None, "missing_marker"  # "…": the ellipsis Excel's autocorrect makes of "..."
    if THOUSANDS.match(stripped):
        return float(SEPARATORS.sub("", stripped)), "number"
    match = GROUPED_DECIMAL.match(stripped)
    if match:
        whole, fraction = stripped.rsplit(match[2], 1)
        return float(f"{SEPARATORS.sub('', whole)}.{fraction}"), "number"
    if PLAIN_NUMBER.match(stripped):
        return float(stripped.replace(",", ".")), "number"
    return None, "text"


GROUPED_YEAR = re.compile(r"\b(1|2)[.,\u00a0\u202f'\u2019 ]((?:9|0)\d{2})\b")
"""A year written with a thousands separator, as a number format makes it: ``2.023``."""
YEAR_WORD = re.compile(r"((?:19|20)\d{2})[a-z]?")
"""A year as a word of a period text, a flag letter glued to it allowed (``2023p``)."""
PERIOD_WORDS = frozenset(MONTHS) | frozenset(PARTS)
"""Words of a period text that name months (else the text names a whole year)."""


def names_months(text: str) -> bool:
    """Whether a period text names months or a part of the year, not just a year."""
    return not PERIOD_WORDS.isdisjoint(codes.normalize(text).split())


def parse_period(text: str) -> tuple[int, int, int] | None:
    """(year, first month, last month) named by a period text, or None without a year.

    >>> parse_period("Enero-abril 2024")
    (2024, 1, 4)
    >>> parse_period("Año 2023 (cifras preliminares)")
    (2023, 1, 12)
    >>> parse_period("Primer semestre de 2022")
    (2022, 1, 6)
    >>> parse_period("ENE.-SEP. 2021")
    (2021, 1, 9)
    >>> parse_period("Año 2.023")
    (2023, 1, 12)
    """
    words = codes.normalize(GROUPED_YEAR.sub(r"\1\2", text)).split()
    years = [int(found[1]) for word in words if (found := YEAR_WORD.fullmatch(word))]
    if not years:
        return None
    year = years[-1]
    for position, word in enumerate(words):
        size = PARTS.get(word)
        if size is None:
            continue
        before = words[position - 1] if position else ""
        after = words[position + 1] if position + 1 < len(words) else ""
        number = ORDINALS.get(before) or ORDINALS.get(after)
        if number and number * size <= 12:
            return year, (number - 1) * size + 1, number * size
    months = [MONTHS[word] for word in words if word in MONTHS]
    if not months:
        return year, 1, 12
    return year, months[0], months[-1]


def file_name_parts(file_name: str) -> tuple[str | None, int | None]:
    stem = file_name.rsplit(".", 1)[0]
    match = FILE_NAME.match(stem)
    if not match:
        return None, None
    return match["country"], int(match["year"])


def _sheet_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def matching_sheets(book: WorkbookLike, name: str, is_regex: bool) -> list[str]:
    """The workbook's sheets a layout's sheet name (or pattern) designates.

    A name matches whatever the case and the stray spaces (``'Entradas '``, ``'ENTRADAS'``); the
    exact name wins when both are there. Hidden sheets count only when no visible sheet
    matches (an office keeps last year's sheet hidden beside this year's)."""
    if not is_regex:
        if book.has_sheet(name):
            return [name]
        key = _sheet_key(name)
        found = [sheet for sheet in book.sheet_names if _sheet_key(sheet) == key]
    else:
        pattern = re.compile(name, re.IGNORECASE)
        found = [sheet for sheet in book.sheet_names if pattern.search(sheet.strip())]
    hidden: set[str] = getattr(book, "hidden_sheets", set())
    visible = [sheet for sheet in found if sheet not in hidden]
    return visible or found


def detection_matches(book: WorkbookLike, layout: LayoutSpec) -> bool:
    rule = layout.detect
    row, column = _cell_position(rule.cell)
    for sheet in matching_sheets(book, rule.sheet, rule.sheet_regex):
        text = cell_text(book.value(sheet, row, column)) or ""
        if re.search(rule.pattern, text.strip(), re.IGNORECASE):
            return True
    return False


def detect_layout(book: WorkbookLike, specs: Specs, file_name: str) -> LayoutSpec:
    """The one layout whose detection cell matches this workbook."""
    matches = [layout for layout in specs.layouts.values() if detection_matches(book, layout)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        looked = "; ".join(
            sorted({f"{lay.detect.sheet!r}!{lay.detect.cell}" for lay in specs.layouts.values()})
        )
        raise rejected(
            N_(
                "no layout recognises this workbook (looked at {looked}); is the Metadatos sheet "
                "missing or its template cell changed? For a table your institution publishes, "
                "write a layout (migstat layout draft FILE) and retry (migstat load --retry)"
            ),
            file_name,
            rule="STR-LAYOUT",
            looked=looked,
        )
    raise rejected(
        N_("several layouts match this workbook: {layouts}"),
        file_name,
        rule="STR-LAYOUT",
        layouts=", ".join(layout.id for layout in matches),
    )


def parse_workbook(
    book: WorkbookLike,
    layout: LayoutSpec,
    specs: Specs,
    oracle: LabelOracle,
    file_name: str,
) -> ParsedSubmission:
    """Read metadata and every data sheet of ``book`` through ``layout``."""
    found = _find_sheets(book, layout, file_name)
    metadata = _read_metadata(book, layout, file_name, found)
    source = specs.source(layout.source)
    filename_country, filename_year = file_name_parts(file_name)
    tolerance = layout.reading.tolerance
    parsed = ParsedSubmission(
        file_name=file_name,
        layout=layout.id,
        source=source.id,
        country_code=metadata["country"] or "",
        reference_year=int(metadata["year"] or 0),
        first_month=int(metadata.get("first_month") or 1),
        last_month=int(metadata.get("last_month") or 12),
        obs_flag=metadata.get("flag") or None,
        metadata=metadata,
        filename_country=filename_country,
        filename_year=filename_year,
        tolerance_absolute=tolerance.absolute if tolerance else None,
        tolerance_relative=tolerance.relative if tolerance else None,
    )
    for sheet in layout.sheets:
        name = found.get(sheet.name)
        if name is None:
            parsed.sheets.append(
                SheetRecord(sheet.name, sheet.required, False, 0, sheet.name, sheet.rows.dimension)
            )
            continue
        reader = SheetReader(
            book,
            layout,
            sheet,
            name,
            source.dimension_names(),
            oracle,
            file_name,
            {dimension: spec.codelist for dimension, spec in source.dimensions.items()},
        )
        count = reader.read(parsed.cell_columns)
        parsed.rows.extend(sorted(reader.rows, key=lambda row: row.row_number))
        parsed.columns[name] = [
            (cell_ref(0, index).rstrip("1"), labels) for index, labels in reader.columns
        ]
        parsed.sheets.append(
            SheetRecord(name, sheet.required, True, count, sheet.name, sheet.rows.dimension)
        )
    if not any(record.is_present for record in parsed.sheets):
        raise rejected(
            N_("none of the data sheets of layout {layout} is present (expected {expected})"),
            file_name,
            rule="STR-SHEETS",
            layout=layout.id,
            expected=", ".join(sheet.name for sheet in layout.sheets),
        )
    return parsed


def _find_sheets(book: WorkbookLike, layout: LayoutSpec, file_name: str) -> dict[str, str]:
    """Layout sheet name -> the workbook's sheet (absent when the workbook has none)."""
    found: dict[str, str] = {}
    for sheet in layout.sheets:
        names = matching_sheets(book, sheet.name, sheet.name_regex)
        if len(names) > 1:
            raise rejected(
                N_(
                    "several sheets match {wanted!r} of layout {layout}: {names}; a file carries "
                    "one period: save each sheet as its own file"
                ),
                file_name,
                names[1],
                rule="STR-SHEETS",
                wanted=sheet.name,
                layout=layout.id,
                names=", ".join(names),
            )
        if names:
            found[sheet.name] = names[0]
    return found


def _cell_position(ref: str) -> tuple[int, int]:
    match = re.fullmatch(r"([A-Z]+)(\d+)", ref.upper())
    if not match:
        raise ValueError(f"not a cell reference: {ref}")
    return int(match[2]) - 1, column_letter_to_index(match[1])


def _read_reference(
    book: WorkbookLike,
    reference: re.Match[str],
    first_sheet: str | None,
    wanted: Callable[[str], bool] | None = None,
) -> tuple[str | None, tuple[str, str | None]]:
    """The text a ``sheet!cell/regex`` (or ``{sheet}/regex``) reference designates; for a range
    (``sheet!A1:A6``), that of its first cell whose text the regex finds and ``wanted``
    accepts (the last cell's when none does)."""
    sheet = reference["sheet"]
    if sheet == SHEET_TOKEN:
        sheet = first_sheet or sheet
    if reference["cell"] is not None and reference["last"] is not None:
        top, left = _cell_position(reference["cell"])
        bottom, right = _cell_position(reference["last"])
        cells = [
            cell_ref(row, column)
            for row in range(top, bottom + 1)
            for column in range(left, right + 1)
        ][:MAX_RANGE_CELLS]
        best: tuple[str | None, tuple[str, str | None]] = (None, (sheet, reference["cell"]))
        for cell in cells:
            single = REFERENCE.match(
                f"{sheet}!{cell}" + (f"/{reference['regex']}" if reference["regex"] else "")
            )
            assert single is not None
            best = _read_reference(book, single, first_sheet)
            if best[0] and (wanted is None or wanted(best[0])):
                return best
        return best
    if reference["cell"] is None:
        text: str | None = sheet
    else:
        row, column = _cell_position(reference["cell"])
        sheet = next(iter(matching_sheets(book, sheet, False)), sheet)
        text = cell_text(book.value(sheet, row, column)) if book.has_sheet(sheet) else None
    if text and reference["regex"]:
        found = re.search(reference["regex"], text, re.IGNORECASE)
        text = (found.group(1) if found.groups() else found.group(0)) if found else None
    return (text.strip() if text else None), (sheet, reference["cell"])


def _read_metadata(
    book: WorkbookLike, layout: LayoutSpec, file_name: str, found: dict[str, str]
) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    where: dict[str, tuple[str, str | None]] = {}
    first_sheet = next(iter(found.values()), None)
    if layout.metadata is not None:
        sheet = next(iter(matching_sheets(book, layout.metadata.sheet, False)), "")
        if not sheet:
            sheet = layout.metadata.sheet
            raise rejected(N_("the metadata sheet is missing"), file_name, sheet, rule="STR-META")
        for name, ref in layout.metadata.cells.items():
            row, column = _cell_position(ref)
            raw = book.value(sheet, row, column)
            text = cell_text(raw)
            if name == "year" and isinstance(raw, date):
                text = str(_year_of_date(raw))
            values[name] = text.strip() if text else None
            where[name] = (sheet, ref)
    # the period fields the metadata sheet gives: a period read from a title must agree
    declared = {name: (values[name], where[name]) for name in PERIOD_FIELDS if values.get(name)}
    period: tuple[int, int, int] | None = None
    if layout.period:
        reference = REFERENCE.match(layout.period)
        if reference is None:
            values["period_text"] = layout.period
        else:
            values["period_text"], where["period"] = _read_reference(
                book, reference, first_sheet, lambda text: parse_period(text) is not None
            )
            if reference["cell"] and not reference["regex"]:
                period_sheet, period_cell = where["period"]
                row, column = _cell_position(period_cell or "A1")
                raw = book.value(period_sheet, row, column) if book.has_sheet(period_sheet) else ""
                dated = _period_of_date(raw)
                values["period_text"] = dated or values["period_text"]
            where.setdefault("year", where["period"])
        period = parse_period(values["period_text"] or "")
        if period is None:
            year_sheet, year_cell = where.get("period", (None, None))
            raise rejected(
                N_("no year in the period text {text!r}"),
                file_name,
                year_sheet,
                year_cell,
                rule="STR-META",
                text=values["period_text"],
            )
        for name, number in zip(PERIOD_FIELDS, period, strict=True):
            if not values.get(name):
                values[name] = str(number)
    for name, default in layout.defaults.items():
        reference = REFERENCE.match(default)
        literal = reference is None or (
            reference["cell"] is None and reference["sheet"] != SHEET_TOKEN
        )
        if values.get(name):
            if period is not None and name in PERIOD_FIELDS and not literal and reference:
                text, place = _read_reference(book, reference, first_sheet)
                if text:
                    declared[name] = (text, place)
            continue
        if literal or reference is None:
            values[name] = default
            continue
        values[name], where[name] = _read_reference(book, reference, first_sheet)
    if period is not None:
        _check_period(values["period_text"] or "", period, declared, where, file_name)
    if layout.reading.estimates and not values.get("flag"):
        values["flag"] = "e"

    def reject(name: str, message: str, **fields: object) -> WorkbookRejected:
        sheet, ref = where.get(name, (None, None))
        return rejected(message, file_name, sheet, ref, rule="STR-META", **fields)

    for required in ("country", "source", "year"):
        if not values.get(required):
            raise reject(
                required,
                N_("metadata field '{field}' is empty"),
                field=FIELD_NAMES[required],
            )
    country = (values["country"] or "").upper()
    if not re.fullmatch(r"[A-Z]{3}", country):
        country = _country_of_name(values["country"] or "", where.get("country"), file_name)
        country_sheet, country_cell = where.get("country", (None, None))
        said_at = f"{country_sheet}!{country_cell}" if country_sheet and country_cell else "país"
        values["read_as"] = (
            f"{said_at} {values['country']!r} leído como el país {country} / read as country "
            f"{country}"
        )
    values["country"] = country
    if values["source"] != layout.source:
        raise reject(
            "source",
            N_("source {source!r} does not match the template's source {expected!r}"),
            source=values["source"],
            expected=layout.source,
        )
    year_match = METADATA_YEAR.fullmatch(values["year"] or "")
    year_text = year_match[1] if year_match else ""
    year_flag = (year_match[2] or year_match[3]) if year_match else None
    if year_flag and read_flag(year_flag) is None:
        year_text = ""  # "2024 (x)": not a flag letter
    elif year_flag and not values.get("flag"):
        values["flag"] = year_flag  # "2024 (p)": the year, marked provisional
    if not year_text:
        raise reject("year", N_("reference year {year!r} is not a year"), year=values["year"])
    values["year"] = year_text
    for name in ("first_month", "last_month"):
        text = values.get(name)
        if text and not text.isdigit() and codes.normalize(text) in MONTHS:
            text = values[name] = str(MONTHS[codes.normalize(text)])  # "Enero", "DIC."
        if text and not (text.isdigit() and 1 <= int(text) <= 12):
            raise reject(
                name,
                N_("{field} {text!r} is not a month number 1-12"),
                field=FIELD_NAMES[name],
                text=text,
            )
    flag = values.get("flag")
    if flag:
        code = read_flag(flag)
        if code is None:
            raise reject(
                "flag",
                N_("observation flag {flag!r} is not one of {letters}"),
                flag=flag,
                letters=", ".join(flag_letters()),
            )
        values["flag"] = code or None
    return values


NOT_A_COUNTRY = {"XXA", "XXB", "XXC", "XXX", "OTH"}
"""Codes of the countries code list that name no country (stateless, unspecified, others)."""


def _country_of_name(text: str, where: tuple[str, str | None] | None, file_name: str) -> str:
    """The ISO code of a reporting country written by name ("Guatemala", "Rep. Dominicana"),
    resolved like any label of the ``countries`` code list (aliases, variants, word sets).

    A name that resolves only by approximate match, or not at all, is rejected (COD-003) with
    the closest codes: the reporting country decides which published data a file replaces, so
    it is never guessed."""
    match = codes.user_resolver().match("countries", text)
    code = match.code
    is_country = bool(code and re.fullmatch(r"[A-Z]{3}", code) and code not in NOT_A_COUNTRY)
    if code and is_country and match.method == "alias":
        return code  # not "Extranjeros" (XXX) nor "Otros" (OTH): they name no country
    members = codes.user_resolver().members.get("countries", {})
    closest = {lang: match.suggestions_text(lang, members) or "-" for lang in ("es", "en")}
    sheet, ref = where or (None, None)
    raise rejected(
        N_(
            "the country {text!r} is neither an ISO 3166 alpha-3 code nor a country name that "
            "resolves exactly; closest codes: {closest}"
        ),
        file_name,
        sheet,
        ref,
        rule="COD-003",
        text=text,
        closest=ByLanguage(closest),
    )


PERIOD_FIELDS = ("year", "first_month", "last_month")


def _period_number(name: str, text: str) -> int | None:
    """A year or month as the metadata gives it (``2023``, ``2023 (p)``, ``6``, ``Junio``)."""
    if name == "year":
        found = METADATA_YEAR.fullmatch(GROUPED_YEAR.sub(r"\1\2", text))
        return int(found[1]) if found else None
    key = codes.normalize(text)
    if key.isdigit():
        return int(key)
    return MONTHS.get(key)


def _check_period(
    text: str,
    period: tuple[int, int, int],
    declared: dict[str, tuple[str | None, tuple[str, str | None]]],
    where: dict[str, tuple[str, str | None]],
    file_name: str,
) -> None:
    """The period a title names must agree with the period the metadata declares (a metadata
    sheet's cells, or a layout default read from the workbook such as a sheet named after its
    year): the year always, the months when the title names months (STR-010)."""
    read = dict(zip(PERIOD_FIELDS, period, strict=True))
    fields = PERIOD_FIELDS if names_months(text) else PERIOD_FIELDS[:1]
    for name in fields:
        given, place = declared.get(name, (None, ("", None)))
        number = _period_number(name, given) if given else None
        if number is None or number == read[name]:
            continue
        sheet, cell = where.get("period", (None, None))
        message = (
            N_(
                "the period in the title ({text!r}: {field} {read}) disagrees with the metadata "
                "({field} {given!r} in {place_sheet}!{place_cell})"
            )
            if place[1]
            else N_(
                "the period in the title ({text!r}: {field} {read}) disagrees with the metadata "
                "({field} {given!r} in sheet {place_sheet!r})"
            )
        )
        raise rejected(
            message,
            file_name,
            sheet,
            cell,
            rule="STR-010",
            text=text,
            field=FIELD_NAMES[name],
            read=read[name],
            given=given,
            place_sheet=place[0],
            place_cell=place[1],
        )


METADATA_YEAR = re.compile(
    r"\s*((?:19|20)\d{2})(?:\.0+)?\s*(?:\(\s*([a-z])\s*\)|([a-z]))?\s*", re.I
)
"""A reference year as offices type it: 2024, 2024.0, "2024 (p)", "2024p" (a flag letter)."""
EXCEL_EPOCH = datetime(1899, 12, 30)


def _year_of_date(value: date | datetime) -> int:
    """The year a date cell stands for: a year typed into a cell formatted as a date is stored
    as the date of that serial number (2024 -> 1905-07-16); any other date gives its year."""
    moment = datetime(value.year, value.month, value.day)
    if value.year < 1950:
        return (moment - EXCEL_EPOCH).days
    return value.year


HEADER_WITH_YEAR = re.compile(r"(.*?[^\W\d_])[\s\-/.']*(?:19|20)?\d{2}")
"""A header followed by a year: ``Enero 2023``, ``ene/23``, ``Total 2023``."""


def _header_text(value: object) -> str | None:
    """A column header as read: a date (a month typed as "ene-23", stored as 2023-01-01) is
    the name of its month; a month or total followed by its year ("Enero 2023", "ene/23",
    "Total 2023") is that month or total."""
    if isinstance(value, date):
        return MONTH_NAMES_ES.split()[value.month - 1]
    text = cell_text(value)
    if text and text[-1].isdigit():
        found = HEADER_WITH_YEAR.fullmatch(GROUPED_YEAR.sub(r"\1\2", text.strip()))
        if found and codes.normalize(found[1]) in HEADER_WORDS:
            return found[1]
    return text


def _period_of_date(value: object) -> str | None:
    """A period cell holding a date (or an Excel date serial, as an ``.xls`` without its date
    format gives it), as the period text it shows: the first of a month names that month
    ("abr-24" -> ``abril 2024``); any other day is a cut-off date (``cifras al 30 de abril``),
    the year to that month. None for anything else."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        if not (float(value).is_integer() and 25_569 <= value <= 73_415):  # 1970 to 2100
            return None
        value = EXCEL_EPOCH + timedelta(days=int(value))
    if not isinstance(value, date):  # a datetime is a date too
        return None
    names = MONTH_NAMES_ES.split()
    month = names[value.month - 1]
    if value.day == 1:
        return f"{month} {value.year}"
    return f"{names[0]}-{month} {value.year}"


MONTH_NAMES_ES = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre"
MONTH_NAMES_ES += " diciembre"
HEADER_WORDS = frozenset(MONTHS) | {"total", "totales", "total general", "total anual", "anual"}
HEADER_WORDS |= {"ano", "total ano", "enero diciembre", "ene dic", "acumulado", "total acumulado"}
"""Headers a year may follow (``HEADER_WITH_YEAR``): months, and the total of the months."""


def label_matches(labels: LabelSet, label: str, oracle: LabelOracle) -> bool:
    """Whether a row label belongs to a layout's label set (see :class:`LabelSet`)."""
    if labels.is_empty():
        return False
    if labels.labels and not _written_keys(tuple(labels.labels)).isdisjoint(_candidate_keys(label)):
        return True
    if labels.regex:
        text = codes.strip_footnote(codes.clean(label))
        if re.search(labels.regex, text, re.IGNORECASE) or re.search(
            labels.regex, label.strip(), re.IGNORECASE
        ):
            return True
    return labels.codelist is not None and oracle.is_member(labels.codelist, label)


@functools.lru_cache(maxsize=1 << 16)
def _candidate_keys(label: str) -> frozenset[str]:
    """``codes.candidates`` of a label, remembered: the same labels come on every row."""
    return frozenset(codes.candidates(label))


@functools.lru_cache(maxsize=1 << 10)
def _written_keys(written: tuple[str, ...]) -> frozenset[str]:
    """The normalised labels of a label set, remembered per set."""
    return frozenset(codes.normalize(label) for label in written)


def _indentation(label: str | None) -> int:
    """Leading spaces of a label: publishers indent the members of a group."""
    if label is None:
        return 0
    expanded = label.replace("\t", "    ").replace("\u00a0", " ")
    return len(expanded) - len(expanded.lstrip(" "))


@functools.lru_cache(maxsize=1 << 16)
def row_label_key(label: str | None) -> str:
    """A row's label as it identifies the row: normalised, footnote marker dropped."""
    if label is None:
        return ""
    return codes.key(codes.strip_footnote(codes.clean(label)))


@dataclass
class _Open:
    """An aggregate row still open in the hierarchy while rows are read."""

    level: int
    row_number: int
    label: str
    has_values: bool
    indent: int = 0
    child_indent: int | None = None
    """Indentation of the first row placed under it: a later row indented less is not a child."""
    dimensions: dict[str, str] = field(default_factory=dict)
    """Dimension labels it and its ancestors give to the rows under them (``Level.dimension``)."""


_Values = tuple[list[int], list[str | None]]
"""A row's data cells: (their codes from ``CellColumns.code_values``, their texts)."""
_Pending = tuple[int, str | None, str, int, _Values, int | None, _Open | None, dict[str, str]]
"""A data row waiting for the end of its block: (row index, label, role, level, (codes,
texts), parent row, innermost open aggregate, dimension labels its ancestors give it)."""


TEXT_MEMO_SIZE = 65_536
"""Distinct texts a sheet reader remembers answers for (then it starts again)."""

HEADER_WINDOW = 10
"""How many rows above and below its declared row a published table's header is looked for."""


class SheetReader:
    """Reads one data sheet through its layout: rows classified, cells with their hierarchy."""

    def __init__(
        self,
        book: WorkbookLike,
        layout: LayoutSpec,
        sheet: SheetLayout,
        name: str,
        dimensions: list[str],
        oracle: LabelOracle,
        file_name: str,
        codelists: Mapping[str, str] | None = None,
    ) -> None:
        self.grid = book.grid(name)
        self.layout = layout
        self.sheet = sheet
        self.name = name
        self.oracle = oracle
        self.file_name = file_name
        reading = layout.reading
        self.zero_markers = set(reading.zero_markers)
        self.missing_markers = {marker.lower() for marker in reading.missing_markers}
        self.stop = reading.compiled_stop()
        self.note = reading.compiled_note()
        self.continuation = reading.compiled_continuation()
        self.derived = reading.compiled_derived() if layout.kind == "published" else None
        self.codelists: Mapping[str, str] = codelists or {}
        if layout.kind == "published" and codelists is not None:
            sheet = self.sheet = self._located(codelists)
        self.columns = self._paired_sexes(self._read_headers())
        self.header_texts = self._header_texts()
        self.label_column = column_letter_to_index(sheet.rows.label_column)
        self.title_texts = self._title_texts()
        self.levels: list[Level] = list(sheet.rows.levels)
        self.uses_indentation = any(
            _indentation(cell_text(row[self.label_column]))
            for row in self.grid[sheet.rows.first_row - 1 :]
            if self.label_column < len(row)
        )
        """Whether labels are indented: then a row indented no more than an aggregate row (or
        less than its first member) does not belong to it."""
        self.rows: list[RowRecord] = []
        self._text_numbers: dict[str, tuple[float | None, str]] = {}
        """``parse_number`` of each text read so far (the same few texts, "-" and "..", and
        the same small numbers repeat in every row)."""
        self._continues: dict[str, bool] = {}
        """Whether a text matches the continuation pattern, per text read so far."""
        self.base_labels: dict[str, str | None] = dict.fromkeys(dimensions)
        self.base_labels.update(sheet.fixed)
        self.reading_key = (
            tuple(sorted(self.zero_markers)),
            tuple(sorted(self.missing_markers)),
            reading.scale,
        )
        """How this sheet reads a cell value (``CellColumns.code_values``)."""
        indices = [index for index, _ in self.columns]
        self.widest = max(indices) + 1
        self.pick = operator.itemgetter(*indices) if len(indices) > 1 else None
        """The data cells of a row at least ``widest`` long, at once."""

    def _header_score(self, row_index: int, codelist: str) -> tuple[int, int]:
        """(recognised, filled) header cells of a row, from the layout's first data column:
        recognised are labels of the column dimension's code list, totals and derived or
        skipped columns."""
        if row_index < 0 or row_index >= len(self.grid):
            return 0, 0
        columns = self.sheet.columns
        row = self.grid[row_index]
        end = len(row)
        if columns.last_column:
            end = min(end, column_letter_to_index(columns.last_column) + 1)
        recognised = filled = 0
        for value in row[column_letter_to_index(columns.first_column) : end]:
            text = _header_text(value)
            if text is None or not text.strip():
                continue
            filled += 1
            if (
                self.oracle.is_total(text)
                or self.oracle.is_member(codelist, text)
                or label_matches(columns.skip, text, self.oracle)
                or (self.derived is not None and self.derived.search(text) is not None)
            ):
                recognised += 1
        return recognised, filled

    def _header_shaped(self, row_index: int) -> bool:
        """Whether a row reads as a header of labels the code lists do not know (ports as an
        office writes them): text in two or more of its data columns, numbers in the first data
        row under it. Such a header is kept where declared."""
        _, filled = self._header_score(row_index, "")
        below = self.sheet.rows.first_row - 1
        if filled < 2 or below >= len(self.grid):
            return False
        start = column_letter_to_index(self.sheet.columns.first_column)
        zero, missing = self.zero_markers, self.missing_markers
        return any(
            parse_number(value, zero, missing)[1] == "number" for value in self.grid[below][start:]
        )

    def _located(self, codelists: Mapping[str, str]) -> SheetLayout:
        """The sheet's layout with its header and first data rows where the table has them.

        A published table's header row is found by its labels: when the declared row holds
        none (an extra header line, blank rows or the title repeated above it), the nearest row
        within ``HEADER_WINDOW`` rows whose filled cells are mostly labels of the column
        dimension is the header, and the table's rows move with it. When no row qualifies, a
        declared row that still reads as a header (``_header_shaped``) is kept; otherwise one
        STR-HEADER names the sheet and where it looked."""
        sheet = self.sheet
        columns = sheet.columns
        dimension = columns.dimensions[-1]
        codelist = codelists.get(dimension, dimension)
        declared = columns.header_rows[-1] - 1
        if self._header_score(declared, codelist)[0]:
            return sheet
        lowest = max(0, declared - HEADER_WINDOW)
        highest = min(len(self.grid) - 1, declared + HEADER_WINDOW)
        candidates = sorted(range(lowest, highest + 1), key=lambda row: (abs(row - declared), row))
        for row_index in candidates:
            recognised, filled = self._header_score(row_index, codelist)
            offset = row_index - declared
            if recognised and recognised * 2 >= filled and sheet.rows.first_row + offset > 1:
                rows = sheet.rows.model_copy(
                    update={
                        "first_row": sheet.rows.first_row + offset,
                        "last_row": None
                        if sheet.rows.last_row is None
                        else sheet.rows.last_row + offset,
                    }
                )
                moved = columns.model_copy(
                    update={"header_rows": [number + offset for number in columns.header_rows]}
                )
                return sheet.model_copy(update={"rows": rows, "columns": moved})
        if self._header_shaped(declared):
            return sheet  # unknown labels over numbers: each is judged at its cell (COD-001)
        where = f"{columns.first_column}{lowest + 1}:{columns.first_column}{highest + 1}"
        raise rejected(
            N_(
                "no row of {dimension} headers found: the layout declares row {declared}, rows "
                "{lowest} to {highest} were searched from column {column} ({where})"
            ),
            self.file_name,
            self.name,
            cell_ref(declared, column_letter_to_index(columns.first_column)),
            rule="STR-HEADER",
            dimension=dimension,
            declared=declared + 1,
            lowest=lowest + 1,
            highest=highest + 1,
            column=columns.first_column,
            where=where,
        )

    def _paired_sexes(
        self, columns: list[tuple[int, tuple[str, ...]]]
    ) -> list[tuple[int, tuple[str, ...]]]:
        """Sex columns headed "H" and "M" (and no "F") are Hombres and Mujeres: "M" alone is
        ambiguous (Male in English) and resolves to nothing, but beside "H" it is Mujeres."""
        for position, dimension in enumerate(self.sheet.columns.dimensions):
            if self.codelists.get(dimension) != "sex":
                continue
            written = {labels[position].strip().upper() for _, labels in columns}
            if not ({"H", "M"} <= written and "F" not in written):
                continue
            columns = [
                (
                    index,
                    tuple(
                        "Mujeres" if at == position and label.strip().upper() == "M" else label
                        for at, label in enumerate(labels)
                    ),
                )
                for index, labels in columns
            ]
        return columns

    def _title_texts(self) -> set[str]:
        """Normalised texts above the first data row: a row repeating one of them is a
        repeated title or header of a table printed over pages."""
        texts = set()
        for row in self.grid[: self.sheet.rows.first_row - 1]:
            for value in row[: max(self.label_column + 1, 1)]:
                key = row_label_key(cell_text(value))
                if key:
                    texts.add(key)
        return texts

    def _header_texts(self) -> set[str]:
        texts = set()
        for number in self.sheet.columns.header_rows:
            if number - 1 < len(self.grid):
                for value in self.grid[number - 1]:
                    key = row_label_key(cell_text(value))
                    if key:
                        texts.add(key)
        return texts

    def _classify(self, label: str | None, texts: list[str | None]) -> str:
        """``data``, ``header`` (repeated title or header), ``note``, ``empty`` (a label without
        values) or ``blank``, from the label and the texts of the row's data cells."""
        filled = [text for text in texts if text is not None and text.strip()]
        if label is not None and self.continuation.search(label):
            return "header"
        continues = self._continues
        for text in filled:
            known = continues.get(text)
            if known is None:
                known = continues[text] = self.continuation.search(text) is not None
                if len(continues) > TEXT_MEMO_SIZE:
                    continues.clear()
            if known:
                return "header"
        if any(self._number(text)[1] in ("number", "zero_marker") for text in filled):
            return "data"
        if label is not None and row_label_key(label) in self.title_texts:
            return "header"
        if filled and label is not None and self.note.search(label.strip()):
            return "note"  # "Fuente:" in the label column, its text in the next cells
        if filled:
            headerish = sum(row_label_key(text) in self.header_texts for text in filled)
            return "header" if headerish * 2 >= len(filled) else "data"
        if label is None:
            return "blank"
        if self.note.search(label.strip()):
            return "note"
        return "empty"

    def _number(self, value: object) -> tuple[float | None, str]:
        """``parse_number`` with this sheet's markers, remembered per text."""
        if type(value) is not str:
            return parse_number(value, self.zero_markers, self.missing_markers)
        known = self._text_numbers.get(value)
        if known is None:
            known = parse_number(value, self.zero_markers, self.missing_markers)
            if len(self._text_numbers) > TEXT_MEMO_SIZE:
                self._text_numbers.clear()
            self._text_numbers[value] = known
        return known

    def _cells(
        self, raw_values: list[object]
    ) -> tuple[list[str | None], list[float | None], list[str]]:
        """(texts, numbers, statuses) of raw cell values: each one's text as written, its
        number (scaled by the layout) and whether it is a number, a marker, blank or text."""
        number = self._number
        parsed = [
            (float(raw), "number")
            if type(raw) is int or (type(raw) is float and isfinite(raw))
            else number(raw)
            for raw in raw_values
        ]
        numbers: list[float | None] = [value for value, _ in parsed]
        scale = self.layout.reading.scale
        if scale != 1:
            numbers = [None if value is None else round(value * scale, 6) for value in numbers]
        return _texts(raw_values), numbers, [status for _, status in parsed]

    def read(self, into: CellColumns) -> int:
        """Append the sheet's cells to ``into``; returns how many."""
        before = len(into)
        for pending, block_label in self._blocks(into):
            self._emit(pending, block_label, into)
        return len(into) - before

    def _blocks(self, into: CellColumns) -> Iterator[tuple[list[_Pending], str | None]]:
        """The sheet's data rows, one block (of stacked blocks) at a time, with its label."""
        rows = self.sheet.rows
        last = len(self.grid) if rows.last_row is None else min(rows.last_row, len(self.grid))
        blocks = rows.blocks
        block_label: str | None = None
        block: list[_Pending] = []
        stack: list[_Open] = []
        totals_seen: set[tuple[str, tuple[str | None, ...]]] = set()
        for row_index in range(rows.first_row - 1, last):
            row = self.grid[row_index]
            label = cell_text(row[self.label_column]) if self.label_column < len(row) else None
            if label is not None and not label.strip():
                label = None
            if label is not None and self.stop is not None and self.stop.match(label.strip()):
                break
            if self.pick is not None and len(row) >= self.widest:
                raw_values: Sequence[object] = self.pick(row)
            else:
                raw_values = [row[index] if index < len(row) else "" for index, _ in self.columns]
            codes = into.code_values(self.reading_key, list(raw_values), self._cells)
            texts = list(map(into.value_texts.__getitem__, codes))
            kind = self._classify(label, texts)
            if kind == "blank":
                continue
            if kind == "data" and label and self.derived and self.derived.search(label):
                kind = "note"  # "Variación %" under the table: derived, not data
            if (
                label is not None
                and blocks is not None
                and kind in ("empty", "data")
                and label_matches(blocks.heading, label, self.oracle)
            ):
                yield block, block_label
                block, stack = [], []
                totals_seen = set()
                block_label = self._block_label(label)
                self._row(row_index, "block", label, block=block_label)
                continue
            if kind in ("header", "note"):
                self._row(row_index, kind, label, block=block_label)
                continue
            has_values = kind == "data"
            if not has_values and self.layout.kind == "template":
                has_values = True
            role, level = self._place(label)
            if role == "total" and has_values:
                repeated = (row_label_key(label), tuple(texts))
                if repeated in totals_seen:
                    # the grand total printed again under the table, same numbers: skipped
                    self._row(row_index, "header", label, block=block_label)
                    continue
                totals_seen.add(repeated)
            indent = _indentation(label)
            if role in ("aggregate", "member", "total"):
                self._pop(stack, level)
            while self.uses_indentation and stack and stack[-1].level > 0:
                top = stack[-1]
                limit = top.indent + 1 if top.child_indent is None else top.child_indent
                if indent >= limit:
                    break
                stack.pop()
            if stack and stack[-1].child_indent is None:
                stack[-1].child_indent = indent
            if not has_values:
                if role == "aggregate" and label is not None:
                    stack.append(self._open(stack, level, row_index, label, False, indent))
                    self._row(row_index, "heading", label, level, block=block_label)
                else:
                    kind = "note" if kind == "note" else "ignored"
                    self._row(row_index, kind, label, block=block_label)
                continue
            parent = next((entry for entry in reversed(stack) if entry.has_values), None)
            structural = stack[-1] if stack else None
            parent_row = parent.row_number if parent else None
            closes = role == "aggregate" and self.levels[level - 1].position == "last"
            if role in ("aggregate", "total"):
                stack.append(self._open(stack, level, row_index, label or "", True, indent))
            given = stack[-1].dimensions if role == "aggregate" else {}
            if structural is not None and not given:
                given = structural.dimensions
            if closes:
                self._adopt(block, stack.pop(), level, parent_row)
            values = (codes, texts)
            block.append((row_index, label, role, level, values, parent_row, structural, given))
        yield block, block_label

    def _adopt(
        self, block: list[_Pending], closing: _Open, level: int, enclosing: int | None
    ) -> None:
        """A subtotal written after its members ("Total Centroamérica" below its countries):
        the rows since the last row of its level or an outer one, that stood directly under
        the enclosing aggregate, add up into it instead."""
        start = 0
        for position, entry in enumerate(block):
            if entry[2] in ("aggregate", "member", "total") and entry[3] <= level:
                start = position + 1
        for position in range(start, len(block)):
            row_index, label, role, row_level, values, parent_row, _, given = block[position]
            if parent_row == enclosing:
                dimensions = {**closing.dimensions, **given}
                block[position] = (
                    row_index,
                    label,
                    role,
                    row_level,
                    values,
                    closing.row_number,
                    closing,
                    dimensions,
                )

    def _open(
        self,
        stack: list[_Open],
        level: int,
        row_index: int,
        label: str,
        has_values: bool,
        indent: int,
    ) -> _Open:
        """A new open aggregate, with the dimension labels it gives to the rows under it."""
        dimensions = dict(stack[-1].dimensions) if stack else {}
        if 1 <= level <= len(self.levels) and self.levels[level - 1].dimension:
            dimensions[self.levels[level - 1].dimension or ""] = label.strip()
        return _Open(level, row_index + 1, label, has_values, indent, dimensions=dimensions)

    def _pop(self, stack: list[_Open], level: int) -> None:
        while stack and stack[-1].level >= level:
            stack.pop()

    def _place(self, label: str | None) -> tuple[str, int]:
        """(role, level) of a labelled row: total (level 0), aggregate or member of a declared
        level (1, 2, ...), or detail (below every level)."""
        if label is None:
            return "detail", len(self.levels) + 1
        if self.oracle.is_total(label):
            return "total", 0
        for number, level in enumerate(self.levels, start=1):
            if label_matches(level.aggregates, label, self.oracle):
                return "aggregate", number
            if label_matches(level.members, label, self.oracle):
                return "member", number
        return "detail", len(self.levels) + 1

    def _block_label(self, heading: str) -> str | None:
        blocks = self.sheet.rows.blocks
        assert blocks is not None
        if label_matches(blocks.total, heading, self.oracle):
            return None
        if blocks.value_regex:
            found = re.search(blocks.value_regex, heading, re.IGNORECASE)
            if found:
                return (found.group(1) if found.groups() else found.group(0)).strip()
        return heading.strip()

    def _row(
        self,
        row_index: int,
        kind: str,
        label: str | None,
        level: int | None = None,
        parent_row: int | None = None,
        block: str | None = None,
        cells: int = 0,
    ) -> None:
        self.rows.append(
            RowRecord(self.name, row_index + 1, kind, label, level, parent_row, block, cells)
        )

    def _emit(self, block: list[_Pending], block_label: str | None, into: CellColumns) -> None:
        """The cells of one block, once its rows are known: rows without a parent add up into
        the block's total row, wherever it stands (first or last)."""
        total_row = next((index + 1 for index, _, role, *_ in block if role == "total"), None)
        is_total_block = self.sheet.rows.blocks is not None and block_label is None
        grouping = {entry[6].row_number for entry in block if entry[6] is not None}
        grouping |= {entry[5] for entry in block if entry[5] is not None}
        paths: dict[int, str] = {}
        column_is_total = [
            any(self.oracle.is_total(t) for t in labels) for _, labels in self.columns
        ]
        column_numbers = [index + 1 for index, _ in self.columns]
        column_dimensions = self.sheet.columns.dimensions
        column_labels = {
            dimension: [labels[position] for _, labels in self.columns]
            for position, dimension in enumerate(column_dimensions)
        }
        detail_roles = ["total" if total else "detail" for total in column_is_total]
        subtotal_roles = ["subtotal"] * len(self.columns)
        total_roles = ["total"] * len(self.columns)
        for row_index, label, role, level, values, parent_row, structural, given in block:
            codes, _ = values
            if parent_row is None and role != "total" and total_row is not None:
                parent_row = total_row
            if role == "aggregate" and row_index + 1 not in grouping:
                role = "detail"  # an aggregate label with no rows under it stands for itself
            own_key = row_label_key(label)
            if structural is not None and structural.row_number in paths:
                path = f"{paths[structural.row_number]}/{own_key}"
            elif structural is not None and role != "total":
                path = f"{row_label_key(structural.label)}/{own_key}"
            else:
                path = own_key
            paths[row_index + 1] = path
            parent_label = structural.label if structural is not None else None
            kind = {"aggregate": "aggregate", "total": "total", "member": "member"}.get(
                role, "detail"
            )
            self._row(row_index, kind, label, level, parent_row, block_label, len(codes))
            labels = dict(self.base_labels)
            labels[self.sheet.rows.dimension] = label
            if self.sheet.rows.blocks is not None:
                labels[self.sheet.rows.blocks.dimension] = block_label
            labels.update(given)
            if role == "aggregate":
                roles = subtotal_roles
            elif role == "total" or is_total_block:
                roles = total_roles
            else:
                roles = detail_roles
            into.add_row(
                sheet=self.name,
                row_number=row_index + 1,
                measure=self.sheet.measure,
                parent_row=parent_row,
                parent_label=parent_label,
                row_key=path,
                labels=labels,
                column_labels=column_labels,
                cells=None,  # each its column's letters and the row number
                column_numbers=column_numbers,
                roles=roles,
                value_codes=codes,
            )

    def _read_headers(self) -> list[tuple[int, tuple[str, ...]]]:
        """(column index, labels per column dimension) for every data column of the sheet."""
        sheet = self.sheet
        grid = self.grid
        header_rows = [number - 1 for number in sheet.columns.header_rows]
        first_column = column_letter_to_index(sheet.columns.first_column)
        lowest = header_rows[-1]
        if lowest >= len(grid):
            raise rejected(
                N_("the sheet ends before its header row"),
                self.file_name,
                self.name,
                cell_ref(lowest, first_column),
                rule="STR-HEADER",
            )
        end = len(grid[lowest])
        if sheet.columns.last_column:
            end = min(end, column_letter_to_index(sheet.columns.last_column) + 1)
        columns: list[tuple[int, tuple[str, ...]]] = []
        upper: str | None = None
        for column_index in range(first_column, end):
            lower = _header_text(grid[lowest][column_index])
            if len(header_rows) == 2:
                row_above = grid[header_rows[0]]
                above = (
                    cell_text(row_above[column_index]) if column_index < len(row_above) else None
                )
                if above and above.strip():
                    upper = above
            if lower is None or not lower.strip():
                continue
            if label_matches(sheet.columns.skip, lower, self.oracle):
                continue
            if self.derived and self.derived.search(lower):
                continue  # "Var. %" beside the total: derived, not data
            if len(header_rows) == 2:
                if upper is None:
                    raise rejected(
                        N_("column header {header!r} has no {dimension} label above it"),
                        self.file_name,
                        self.name,
                        cell_ref(header_rows[0], column_index),
                        rule="STR-HEADER",
                        header=lower,
                        dimension=sheet.columns.dimensions[0],
                    )
                columns.append((column_index, (upper, lower)))
            else:
                columns.append((column_index, (lower,)))
        if not columns:
            raise rejected(
                N_("no column headers found in row {row} (expected {dimensions} labels)"),
                self.file_name,
                self.name,
                cell_ref(lowest, first_column),
                rule="STR-HEADER",
                row=lowest + 1,
                dimensions=" x ".join(sheet.columns.dimensions),
            )
        return columns
