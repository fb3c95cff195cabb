"""Reading a workbook file (.xlsx, .xlsm, .xls, .ods) into plain grids of cell values."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from python_calamine import CalamineWorkbook

from migstat.errors import WorkbookRejected

SUPPORTED_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")

Grid = Sequence[Sequence[object]]
"""Rows of cell values; ``grid[0][0]`` is cell A1 (empty cells are ``""``)."""


class Workbook:
    """A workbook read lazily, sheet by sheet, with absolute cell positions."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise WorkbookRejected(
                f"unsupported file type {path.suffix!r} (expected one of "
                f"{', '.join(SUPPORTED_SUFFIXES)})",
                file=path.name,
                rule="STR-READ",
            )
        try:
            self._book = CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # calamine raises several unrelated types for broken files
            raise WorkbookRejected(
                f"not a readable workbook: {exc}", file=path.name, rule="STR-READ"
            ) from exc
        self.sheet_names: list[str] = list(self._book.sheet_names)
        self._grids: dict[str, Grid] = {}

    def has_sheet(self, name: str) -> bool:
        return name in self.sheet_names

    def grid(self, name: str) -> Grid:
        if name not in self._grids:
            try:
                sheet = self._book.get_sheet_by_name(name)
                self._grids[name] = sheet.to_python(skip_empty_area=False)
            except Exception as exc:
                raise WorkbookRejected(
                    f"sheet cannot be read: {exc}", file=self.path.name, sheet=name, rule="STR-READ"
                ) from exc
        return self._grids[name]

    def value(self, sheet: str, row: int, column: int) -> object:
        """The value at zero-based (row, column), ``""`` outside the used area."""
        grid = self.grid(sheet)
        if row < len(grid) and column < len(grid[row]):
            return grid[row][column]
        return ""
