"""Downloadable tables: CSV (long, one value per line, one per language) and XLSX (bilingual:
the table as shown and the long data, per language).

Both carry the title, counting unit, observation flags, footnotes, source and extraction date
in a metadata block above the numbers. Values are written exactly as the marts hold them; every
text cell goes through :mod:`migstat.safe_cells` (no cell a spreadsheet would evaluate).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from migstat.publish.data import ProductTable
from migstat.publish.i18n import UI
from migstat.safe_cells import CellValue, csv_row, xlsx_cell, xlsx_row

BOLD = Font(bold=True)
PLAIN = Font()
TITLE = Font(bold=True, size=13)
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
HEADER_ALIGNMENT = Alignment(horizontal="right", wrap_text=True)
"""Styles of the table sheet, made once (openpyxl hashes a style each time a cell takes it)."""

MEMORY_FOLDER = Path("/dev/shm")
"""Where openpyxl's per-sheet temporary files go when it exists: a folder in memory. Each
workbook writes and removes one file per sheet, and on a disk busy with the open data a
removal alone took ~10 ms, more than the CPU time of a small workbook."""


@dataclass(frozen=True)
class Metadata:
    """What travels with every number, in the language of the file."""

    lang: str
    title: str
    subtitle: str
    row_title: str
    column_title: str
    counting_unit: str
    unit: str
    flags_legend: str
    flags_present: str
    footnotes: list[str]
    source: str
    extracted: str
    product_id: str

    def lines(self) -> list[tuple[str, str]]:
        t = UI[self.lang]
        lines = [
            (t["product"], self.product_id),
            ("Título" if self.lang == "es" else "Title", self.title),
            ("Ámbito" if self.lang == "es" else "Scope", self.subtitle),
            (t["counting_unit"], self.counting_unit),
            (t["unit"], self.unit),
            (t["flags"], self.flags_legend),
            (t["flags_in_product"], self.flags_present),
        ]
        lines += [(f"{t['notes']} {i}", note) for i, note in enumerate(self.footnotes, 1)]
        lines += [(t["source_label"], self.source), (t["extracted"], self.extracted)]
        return lines


def plain_number(value: float | None) -> int | float | None:
    """Integers as integers (``1234``, not ``1234.0``); other values unchanged."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def data_header(meta: Metadata) -> list[str]:
    t = UI[meta.lang]
    return [
        f"{meta.row_title} ({t['code']})",
        meta.row_title,
        f"{meta.column_title} ({t['code']})",
        meta.column_title,
        t["value"],
        t["flag"],
    ]


def data_rows(table: ProductTable, lang: str) -> list[list[object]]:
    rows: list[list[object]] = []
    for row in table.rows:
        for column in table.columns:
            cell = table.cell(row.code, column.code)
            rows.append(
                [
                    row.code,
                    row.label(lang),
                    column.code,
                    column.label(lang),
                    plain_number(cell.value),
                    cell.flag or "",
                ]
            )
    return rows


def write_csv(path: Path, table: ProductTable, meta: Metadata) -> None:
    """Metadata lines, one blank line, then one line per value (UTF-8 with BOM for Excel)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows(csv_row(line) for line in meta.lines())
        writer.writerow([])
        writer.writerow(csv_row(data_header(meta)))
        writer.writerows(csv_row(row) for row in data_rows(table, meta.lang))


def _number_format(flag: str | None, percent: bool, decimals: int) -> str:
    base = "0.0%" if percent else ("#,##0" if decimals == 0 else "#,##0." + "0" * decimals)
    return f'{base}" {flag}"' if flag else base


def write_xlsx(path: Path, table: ProductTable, metas: list[Metadata], decimals: int) -> None:
    """One workbook per product, in every language (Spanish first): per language, the table as
    shown (flags after each number) and the long data (one line per value, with its flag).

    Written in openpyxl's streaming mode; one bilingual file halves the per-file cost.
    """
    with _temporaries_in_memory():
        book = Workbook(write_only=True)
        for meta in metas:
            _table_sheet(book, table, meta, decimals)
            data = book.create_sheet(UI[meta.lang]["data_sheet"])
            data.append(xlsx_row(data, data_header(meta)))
            for values in data_rows(table, meta.lang):
                data.append(xlsx_row(data, values))
        book.save(path)


@contextmanager
def _temporaries_in_memory() -> Iterator[None]:
    """Temporary files of this process in :data:`MEMORY_FOLDER` while the block runs (when that
    folder exists and is writable; the usual temporary folder otherwise)."""
    if not os.access(MEMORY_FOLDER, os.W_OK):
        yield
        return
    before = tempfile.tempdir
    tempfile.tempdir = str(MEMORY_FOLDER)
    try:
        yield
    finally:
        tempfile.tempdir = before


def _table_sheet(book: Workbook, table: ProductTable, meta: Metadata, decimals: int) -> None:
    sheet = book.create_sheet(UI[meta.lang]["table"])
    sheet.column_dimensions["A"].width = 34
    for j in range(2, len(table.columns) + 2):
        sheet.column_dimensions[get_column_letter(j)].width = 16

    def styled(value: CellValue, **style: object) -> Cell:
        return xlsx_cell(sheet, value, **style)

    sheet.append([styled(meta.title, font=TITLE)])
    sheet.append(xlsx_row(sheet, [meta.subtitle]))
    sheet.append([])
    for key, value in meta.lines():
        sheet.append([styled(key, font=BOLD), styled(value)])
    sheet.append([])
    sheet.append(
        [styled(meta.row_title, font=BOLD, fill=HEADER_FILL)]
        + [
            styled(c.label(meta.lang), font=BOLD, fill=HEADER_FILL, alignment=HEADER_ALIGNMENT)
            for c in table.columns
        ]
    )
    formats: dict[str | None, str] = {}
    for row in table.rows:
        line: list[object] = [
            styled(row.label(meta.lang), font=BOLD if row.code == "_T" else PLAIN)
        ]
        for column in table.columns:
            entry = table.cell(row.code, column.code)
            if entry.flag not in formats:
                formats[entry.flag] = _number_format(entry.flag, table.is_percent, decimals)
            line.append(styled(plain_number(entry.value), number_format=formats[entry.flag]))
        sheet.append(line)
