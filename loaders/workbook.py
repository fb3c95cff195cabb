"""Reading a workbook file (.xlsx, .xlsm, .xls, .ods) into grids of cell values, within limits.

Only the used range of a sheet is read (python-calamine's ``to_python()`` skips the empty rows and
columns before the data); ``SheetGrid`` puts it back at its absolute position, so ``grid[0][0]``
is still cell A1 without materialising the empty rectangle above and to the left of the data.
Before python-calamine sees a zip-based workbook, ``loaders.limits`` checks its zip directory, its
shared strings and each sheet's declared and used extent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import cast, overload

from python_calamine import CalamineWorkbook, SheetVisibleEnum

from loaders.limits import Limits, ZipWorkbook, check_file_size, reject, rejected
from migstat.errors import WorkbookRejected
from migstat.specs import cell_ref, column_letter_to_index, index_to_column_letter
from migstat.translations import N_

SUPPORTED_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")

Grid = Sequence[Sequence[object]]
"""Rows of cell values; ``grid[0][0]`` is cell A1 (empty cells are ``""``)."""


class _ShiftedRow(Sequence[object]):
    """A row of the used range seen from column A: ``""`` left of the data."""

    __slots__ = ("_offset", "_values")

    def __init__(self, values: Sequence[object], offset: int) -> None:
        self._values = values
        self._offset = offset

    def __len__(self) -> int:
        return self._offset + len(self._values)

    @overload
    def __getitem__(self, index: int) -> object: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[object]: ...

    def __getitem__(self, index: int | slice) -> object:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return "" if index < self._offset else self._values[index - self._offset]


class _BlankRow(Sequence[object]):
    """A row above the used range: as wide as the others, every cell empty."""

    __slots__ = ("_width",)

    def __init__(self, width: int) -> None:
        self._width = width

    def __len__(self) -> int:
        return self._width

    @overload
    def __getitem__(self, index: int) -> object: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[object]: ...

    def __getitem__(self, index: int | slice) -> object:
        if isinstance(index, slice):
            return [""] * len(range(*index.indices(self._width)))
        if not -self._width <= index < self._width:
            raise IndexError(index)
        return ""


class SheetGrid(Sequence[Sequence[object]]):
    """The used range of a sheet at its absolute position: ``grid[r][c]`` is zero-based (r, c).

    Every row has the same length (the used range's last column + 1), as in a full rectangle;
    rows above and cells left of the used range are ``""`` and take no memory.
    """

    def __init__(self, rows: Sequence[Sequence[object]], first_row: int, first_column: int) -> None:
        self.first_row = first_row
        self.first_column = first_column
        width = first_column + (len(rows[0]) if rows else 0)
        self._blank = _BlankRow(width)
        self._rows: list[Sequence[object]] = (
            list(rows) if first_column == 0 else [_ShiftedRow(row, first_column) for row in rows]
        )

    def __len__(self) -> int:
        return self.first_row + len(self._rows) if self._rows else 0

    @overload
    def __getitem__(self, index: int) -> Sequence[object]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Sequence[object]]: ...

    def __getitem__(self, index: int | slice) -> Sequence[object] | Sequence[Sequence[object]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(index)
        if index < self.first_row:
            return self._blank
        return self._rows[index - self.first_row]

    def __iter__(self) -> Iterator[Sequence[object]]:
        for index in range(len(self)):
            yield self[index]

    def used_cells(self) -> int:
        return sum(len(row) - self.first_column for row in self._rows)


def column_row(ref: str) -> tuple[int, int]:
    """Zero-based (row, column) of a reference such as ``B18``."""
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters) :]) - 1, column_letter_to_index(letters)


def _overlay(
    rows: Sequence[Sequence[object]], first_row: int, first_column: int, cells: dict[str, str]
) -> tuple[list[list[object]], int, int]:
    """The used range with ``cells`` (reference -> text) written in, grown to hold them.

    python-calamine reads an error value or a formula without a computed value as an empty
    cell; written back as text (``#REF!``, ``=SUM(C6:D6)``), the values rules name the cell
    instead of taking it for a blank."""
    positions = {column_row(ref): text for ref, text in cells.items()}
    width = len(rows[0]) if rows else 0
    top = min([first_row if rows else 1 << 62, *(r for r, _ in positions)])
    left = min([first_column if rows else 1 << 62, *(c for _, c in positions)])
    bottom = max([first_row + len(rows) - 1, *(r for r, _ in positions)])
    right = max([first_column + width - 1, *(c for _, c in positions)])
    grown: list[list[object]] = [[""] * (right - left + 1) for _ in range(bottom - top + 1)]
    for index, values in enumerate(rows):
        offset = first_column - left
        grown[first_row - top + index][offset : offset + len(values)] = values
    for (r, c), text in positions.items():
        grown[r - top][c - left] = text
    return grown, top, left


class Workbook:
    """A workbook read lazily, sheet by sheet, with absolute cell positions, within ``limits``."""

    def __init__(
        self,
        path: Path,
        limits: Limits | None = None,
        on_sheet: Callable[[str], None] | None = None,
    ) -> None:
        """``on_sheet(name)`` is called just before a sheet is handed to python-calamine."""
        self.path = path
        self.limits = limits = limits or Limits()
        self._on_sheet = on_sheet
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise rejected(
                N_("unsupported file type {suffix} (expected one of {suffixes})"),
                path.name,
                rule="STR-READ",
                suffix=repr(path.suffix),
                suffixes=", ".join(SUPPORTED_SUFFIXES),
            )
        check_file_size(path, limits)
        self._zip: ZipWorkbook | None = None
        self._parts: dict[str, str] = {}
        if suffix in (".xlsx", ".xlsm"):
            self._zip = ZipWorkbook(path, limits)
            self._parts = self._zip.sheet_parts()
            self._check_shared_strings()
        elif suffix == ".ods":
            ZipWorkbook(path, limits)
        try:
            self._book = CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # calamine raises several unrelated types for broken files
            raise rejected(
                N_("not a readable workbook: {error}"), path.name, rule="STR-READ", error=exc
            ) from exc
        self.sheet_names: list[str] = list(self._book.sheet_names)
        self.hidden_sheets: set[str] = {
            meta.name
            for meta in self._book.sheets_metadata
            if meta.visible != SheetVisibleEnum.Visible
        }
        """Sheets hidden in the workbook (an old edition kept out of sight, a lookup list)."""
        self._grids: dict[str, SheetGrid] = {}
        self._cells_read = 0

    def _check_shared_strings(self) -> None:
        assert self._zip is not None
        long = self._zip.long_shared_strings()
        if not long:
            return
        limit = self.limits.max_string_chars
        for sheet, part in self._parts.items():
            for cell, index in self._zip.cells_with_shared_strings(part, set(long)):
                reject(
                    N_("the cell's text has {length} characters, over the limit of {limit}"),
                    self.path.name,
                    sheet,
                    cell,
                    length=f"{long[index]:,}",
                    limit=f"{limit:,}",
                )
        index, length = next(iter(long.items()))
        reject(
            N_("shared string number {number} has {length} characters, over the limit of {limit}"),
            self.path.name,
            number=index + 1,
            length=f"{length:,}",
            limit=f"{limit:,}",
        )

    def has_sheet(self, name: str) -> bool:
        return name in self.sheet_names

    def grid(self, name: str) -> SheetGrid:
        if name not in self._grids:
            self._grids[name] = self._read(name)
        return self._grids[name]

    def _read(self, name: str) -> SheetGrid:
        limits = self.limits
        file = self.path.name
        part = self._parts.get(name)
        extent = None
        if self._zip is not None and part is not None:
            extent = self._zip.scan_sheet(part, name)
            self._count(extent.area, name)
        if self._on_sheet is not None:
            self._on_sheet(name)
        try:
            sheet = self._book.get_sheet_by_name(name)
            start = sheet.start
            end = sheet.end
            if end is not None:
                last_row, last_column = end
                if last_row + 1 > limits.max_rows or last_column + 1 > limits.max_columns:
                    reject(
                        N_(
                            "the sheet uses cell {ref}, beyond the limit of {rows} rows x "
                            "{columns} columns"
                        ),
                        file,
                        name,
                        cell_ref(last_row, last_column),
                        ref=cell_ref(last_row, last_column),
                        rows=f"{limits.max_rows:,}",
                        columns=f"{limits.max_columns:,}",
                    )
                if part is None:
                    self._count(sheet.height * sheet.width, name)
            rows: Sequence[Sequence[object]] = (
                sheet.to_python(skip_empty_area=True) if start is not None else []
            )
        except WorkbookRejected:
            raise
        except MemoryError:
            reject(N_("the reader ran out of memory reading this sheet"), file, name)
        except Exception as exc:
            raise rejected(
                N_("sheet cannot be read: {error}"), file, name, rule="STR-READ", error=exc
            ) from exc
        first_row, first_column = start if start is not None else (0, 0)
        if self._zip is not None and part is not None and extent and extent.has_formulas_or_errors:
            uncomputed = self._zip.uncomputed_cells(part)
            if uncomputed:
                rows, first_row, first_column = _overlay(rows, first_row, first_column, uncomputed)
        self._check_strings(name, rows, first_row, first_column)
        return SheetGrid(rows, first_row, first_column)

    def _count(self, cells: int, sheet: str) -> None:
        self._cells_read += cells
        if self._cells_read > self.limits.max_cells:
            reject(
                N_("the sheets read so far span {cells} cells, over the limit of {limit}"),
                self.path.name,
                sheet,
                cells=f"{self._cells_read:,}",
                limit=f"{self.limits.max_cells:,}",
            )

    def _check_strings(
        self, sheet: str, rows: Sequence[Sequence[object]], first_row: int, first_column: int
    ) -> None:
        limit = self.limits.max_string_chars
        is_text = str.__instancecheck__
        for row_index, row in enumerate(rows):
            texts = cast("Iterator[str]", filter(is_text, row))  # is_text narrows, unseen by mypy
            if max(map(len, texts), default=0) <= limit:
                continue
            for column_index, value in enumerate(row):
                if value.__class__ is str and len(value) > limit:  # type: ignore[arg-type]
                    ref = (
                        f"{index_to_column_letter(first_column + column_index)}"
                        f"{first_row + row_index + 1}"
                    )
                    length = len(value)  # type: ignore[arg-type]
                    reject(
                        N_("the cell's text has {length} characters, over the limit of {limit}"),
                        self.path.name,
                        sheet,
                        ref,
                        length=f"{length:,}",
                        limit=f"{limit:,}",
                    )

    def value(self, sheet: str, row: int, column: int) -> object:
        """The value at zero-based (row, column), ``""`` outside the used area."""
        grid = self.grid(sheet)
        if row < len(grid):
            cells = grid[row]
            if column < len(cells):
                return cells[column]
        return ""
