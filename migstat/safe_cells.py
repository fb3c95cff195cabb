"""Spreadsheet cells that no spreadsheet evaluates: the one guard against formula injection.

A label written by a country office (``=HYPERLINK("http://x","y")``, ``+1+1``, ``@SUM(A1)``,
``-2+3``) travels through the warehouse into quality reports and product downloads. Excel and
LibreOffice treat text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a
formula when they read a CSV file or when a cell is stored as one. Every CSV and XLSX cell migstat
writes for people goes through this module:

* CSV: formula-like text gets a leading apostrophe (``'=HYPERLINK(...)``), which spreadsheets show
  and never evaluate (the OWASP rule);
* XLSX: formula-like text is stored as a text cell with Excel's "quote prefix" style, so the exact
  text is shown, never evaluated, and stays text when someone edits the cell.

Numbers stay numbers; a genuine negative number written as text (``-12``, ``-0.5``) is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TypeGuard

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

CellValue = str | float | datetime | None
"""What a cell can hold here: text, a number, a time, or nothing."""

#: First characters a spreadsheet reads as the start of a formula (full-width forms included:
#: some East Asian Excel versions accept them too).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def is_formula_like(value: object) -> TypeGuard[str]:
    """True for text a spreadsheet would evaluate (leading spaces do not hide it)."""
    if not isinstance(value, str):
        return False
    text = value.lstrip(" ")
    return text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text)


def csv_value(value: object) -> object:
    """A CSV field: formula-like text with a leading apostrophe, everything else unchanged."""
    return f"'{value}" if is_formula_like(value) else value


def csv_row(values: Iterable[object]) -> list[object]:
    return [csv_value(value) for value in values]


def xlsx_cell(sheet: Worksheet, value: CellValue, **style: object) -> Cell:
    """A cell to ``sheet.append`` (normal or write-only workbook) holding ``value`` as data.

    Formula-like text keeps its exact characters but is stored as text (never ``<f>``) with the
    quote prefix; ``style`` sets cell attributes such as ``font`` or ``number_format``.
    """
    cell = WriteOnlyCell(sheet, value)
    if cell.data_type == "f" or is_formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def xlsx_row(sheet: Worksheet, values: Iterable[object]) -> list[object]:
    """A row to ``sheet.append``: formula-like text as :func:`xlsx_cell`, other values as they
    are (plain values keep openpyxl's streaming mode fast)."""
    return [xlsx_cell(sheet, value) if is_formula_like(value) else value for value in values]
