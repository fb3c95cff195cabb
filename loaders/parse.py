"""Turning a workbook into raw records through a layout spec.

Pure: a ``Workbook`` (or anything with the same four methods) and specs in, records out. Every
structural problem raises ``WorkbookRejected`` naming the file, sheet and cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from loaders.workbook import Grid
from migstat.errors import WorkbookRejected
from migstat.specs import (
    LayoutSpec,
    SheetLayout,
    Specs,
    cell_ref,
    column_letter_to_index,
)

OBSERVATION_FLAGS = {
    "p": "p",
    "provisional": "p",
    "preliminar": "p",
    "e": "e",
    "estimado": "e",
    "estimated": "e",
    "b": "b",
    "ruptura de serie": "b",
    "break in series": "b",
    "r": "r",
    "revisado": "r",
    "revised": "r",
    "c": "c",
    "confidencial": "c",
    "confidential": "c",
    "definitivo": "",
    "final": "",
    "definitive": "",
}
FILE_NAME = re.compile(r"^(?P<country>[A-Z]{3})_(?P<source>[a-z_]+?)_(?P<year>\d{4})(?:_.*)?$")
THOUSANDS = re.compile(r"^-?\d{1,3}(?:([,.\s\u00a0])\d{3})(?:\1\d{3})*$")
PLAIN_NUMBER = re.compile(r"^-?(?:\d+(?:[.,]\d+)?|[.,]\d+)$")
REFERENCE = re.compile(r"^(?P<sheet>[^!]+)!(?P<cell>[A-Z]+\d+)(?:/(?P<regex>.+))?$")


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


@dataclass(frozen=True)
class SheetRecord:
    sheet: str
    is_required: bool
    is_present: bool
    cell_count: int


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
    cells: list[CellRecord] = field(default_factory=list)
    sheets: list[SheetRecord] = field(default_factory=list)


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
    lowered = stripped.lower()
    if stripped in zero_markers:
        return 0.0, "zero_marker"
    if lowered in missing_markers:
        return None, "missing_marker"
    match = THOUSANDS.match(stripped)
    if match:
        return float(re.sub(r"[,.\s\u00a0]", "", stripped)), "number"
    if PLAIN_NUMBER.match(stripped):
        return float(stripped.replace(",", ".")), "number"
    return None, "text"


def file_name_parts(file_name: str) -> tuple[str | None, int | None]:
    stem = file_name.rsplit(".", 1)[0]
    match = FILE_NAME.match(stem)
    if not match:
        return None, None
    return match["country"], int(match["year"])


def detect_layout(book: WorkbookLike, specs: Specs, file_name: str) -> LayoutSpec:
    """The one layout whose detection cell matches this workbook."""
    matches = []
    for layout in specs.layouts.values():
        rule = layout.detect
        if not book.has_sheet(rule.sheet):
            continue
        row, column = _cell_position(rule.cell)
        text = cell_text(book.value(rule.sheet, row, column)) or ""
        if re.search(rule.pattern, text.strip(), re.IGNORECASE):
            matches.append(layout)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        looked = "; ".join(
            sorted(
                {
                    f"sheet {lay.detect.sheet!r} cell {lay.detect.cell}"
                    for lay in specs.layouts.values()
                }
            )
        )
        raise WorkbookRejected(
            f"no layout recognises this workbook (looked at {looked}); "
            "is the Metadatos sheet missing or its template cell changed?",
            file=file_name,
            rule="STR-LAYOUT",
        )
    ids = ", ".join(layout.id for layout in matches)
    raise WorkbookRejected(f"several layouts match this workbook: {ids}", file=file_name)


def parse_workbook(
    book: WorkbookLike,
    layout: LayoutSpec,
    specs: Specs,
    oracle: LabelOracle,
    file_name: str,
) -> ParsedSubmission:
    """Read metadata and every data sheet of ``book`` through ``layout``."""
    metadata = _read_metadata(book, layout, file_name)
    source = specs.source(layout.source)
    filename_country, filename_year = file_name_parts(file_name)
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
    )
    for sheet in layout.sheets:
        if not book.has_sheet(sheet.name):
            parsed.sheets.append(SheetRecord(sheet.name, sheet.required, False, 0))
            continue
        cells = list(_read_sheet(book, layout, sheet, source.dimension_names(), oracle, file_name))
        parsed.cells.extend(cells)
        parsed.sheets.append(SheetRecord(sheet.name, sheet.required, True, len(cells)))
    if not any(record.is_present for record in parsed.sheets):
        expected = ", ".join(sheet.name for sheet in layout.sheets)
        raise WorkbookRejected(
            f"none of the data sheets of layout {layout.id} is present (expected {expected})",
            file=file_name,
            rule="STR-SHEETS",
        )
    return parsed


def _cell_position(ref: str) -> tuple[int, int]:
    match = re.fullmatch(r"([A-Z]+)(\d+)", ref.upper())
    if not match:
        raise ValueError(f"not a cell reference: {ref}")
    return int(match[2]) - 1, column_letter_to_index(match[1])


def _read_metadata(book: WorkbookLike, layout: LayoutSpec, file_name: str) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    where: dict[str, tuple[str, str]] = {}
    if layout.metadata is not None:
        sheet = layout.metadata.sheet
        if not book.has_sheet(sheet):
            raise WorkbookRejected(
                "the metadata sheet is missing", file=file_name, sheet=sheet, rule="STR-META"
            )
        for name, ref in layout.metadata.cells.items():
            row, column = _cell_position(ref)
            text = cell_text(book.value(sheet, row, column))
            values[name] = text.strip() if text else None
            where[name] = (sheet, ref)
    for name, default in layout.defaults.items():
        if values.get(name):
            continue
        reference = REFERENCE.match(default)
        if reference is None:
            values[name] = default
            continue
        sheet, ref = reference["sheet"], reference["cell"]
        where[name] = (sheet, ref)
        row, column = _cell_position(ref)
        text = cell_text(book.value(sheet, row, column)) if book.has_sheet(sheet) else None
        if text and reference["regex"]:
            found = re.search(reference["regex"], text)
            text = found.group(1) if found else None
        values[name] = text.strip() if text else None

    def reject(name: str, message: str) -> WorkbookRejected:
        sheet, ref = where.get(name, (None, None))
        return WorkbookRejected(message, file=file_name, sheet=sheet, cell=ref, rule="STR-META")

    for required in ("country", "source", "year"):
        if not values.get(required):
            raise reject(required, f"metadata field '{required}' is empty")
    country = (values["country"] or "").upper()
    if not re.fullmatch(r"[A-Z]{3}", country):
        raise reject("country", f"country {values['country']!r} is not an ISO 3166 alpha-3 code")
    values["country"] = country
    if values["source"] != layout.source:
        raise reject(
            "source",
            f"source {values['source']!r} does not match the template's source {layout.source!r}",
        )
    year_text = (values["year"] or "").split(".")[0]
    if not re.fullmatch(r"(19|20)\d{2}", year_text):
        raise reject("year", f"reference year {values['year']!r} is not a year")
    values["year"] = year_text
    for name in ("first_month", "last_month"):
        text = values.get(name)
        if text and not (text.isdigit() and 1 <= int(text) <= 12):
            raise reject(name, f"{name.replace('_', ' ')} {text!r} is not a month number 1-12")
    flag = values.get("flag")
    if flag:
        code = OBSERVATION_FLAGS.get(flag.strip().lower())
        if code is None:
            raise reject("flag", f"observation flag {flag!r} is not one of p, e, b, r, c")
        values["flag"] = code or None
    return values


def _read_sheet(
    book: WorkbookLike,
    layout: LayoutSpec,
    sheet: SheetLayout,
    dimensions: list[str],
    oracle: LabelOracle,
    file_name: str,
) -> Iterator[CellRecord]:
    grid = book.grid(sheet.name)
    reading = layout.reading
    zero_markers = set(reading.zero_markers)
    missing_markers = {marker.lower() for marker in reading.missing_markers}
    stop = reading.compiled_stop()
    columns = _read_headers(grid, sheet, file_name)
    column_is_total = [any(oracle.is_total(text) for text in labels) for _, labels in columns]
    label_column = column_letter_to_index(sheet.rows.label_column)
    base_labels: dict[str, str | None] = dict.fromkeys(dimensions)
    base_labels.update(sheet.fixed)
    for row_index in range(sheet.rows.first_row - 1, len(grid)):
        row = grid[row_index]
        label = cell_text(row[label_column]) if label_column < len(row) else None
        if label is not None and not label.strip():
            label = None
        if label is not None and stop.match(label.strip()):
            break
        raw_values = [row[index] if index < len(row) else "" for index, _ in columns]
        if label is None and all(cell_text(value) is None for value in raw_values):
            continue
        row_is_total = label is not None and oracle.is_total(label)
        row_is_subtotal = (
            not row_is_total
            and label is not None
            and sheet.subtotal_codelist is not None
            and oracle.is_member(sheet.subtotal_codelist, label)
        )
        for (column_index, column_labels), is_total_column, raw in zip(
            columns, column_is_total, raw_values, strict=True
        ):
            labels = dict(base_labels)
            labels[sheet.rows.dimension] = label
            labels.update(zip(sheet.columns.dimensions, column_labels, strict=True))
            if row_is_subtotal:
                role = "subtotal"
            elif row_is_total or is_total_column:
                role = "total"
            else:
                role = "detail"
            value, status = parse_number(raw, zero_markers, missing_markers)
            yield CellRecord(
                sheet=sheet.name,
                cell=cell_ref(row_index, column_index),
                row_number=row_index + 1,
                column_number=column_index + 1,
                measure=sheet.measure,
                labels=labels,
                raw_text=cell_text(raw),
                value=value,
                value_status=status,
                cell_role=role,
            )


def _read_headers(
    grid: Grid, sheet: SheetLayout, file_name: str
) -> list[tuple[int, tuple[str, ...]]]:
    """(column index, labels per column dimension) for every data column of the sheet."""
    header_rows = [number - 1 for number in sheet.columns.header_rows]
    first_column = column_letter_to_index(sheet.columns.first_column)
    lowest = header_rows[-1]
    if lowest >= len(grid):
        raise WorkbookRejected(
            "the sheet ends before its header row",
            file=file_name,
            sheet=sheet.name,
            cell=cell_ref(lowest, first_column),
            rule="STR-HEADER",
        )
    columns: list[tuple[int, tuple[str, ...]]] = []
    upper: str | None = None
    for column_index in range(first_column, len(grid[lowest])):
        lower = cell_text(grid[lowest][column_index])
        if len(header_rows) == 2:
            above = cell_text(grid[header_rows[0]][column_index])
            if above and above.strip():
                upper = above
        if lower is None or not lower.strip():
            continue
        if len(header_rows) == 2:
            if upper is None:
                raise WorkbookRejected(
                    f"column header {lower!r} has no {sheet.columns.dimensions[0]} label above it",
                    file=file_name,
                    sheet=sheet.name,
                    cell=cell_ref(header_rows[0], column_index),
                    rule="STR-HEADER",
                )
            columns.append((column_index, (upper, lower)))
        else:
            columns.append((column_index, (lower,)))
    if not columns:
        raise WorkbookRejected(
            f"no column headers found in row {lowest + 1} "
            f"(expected {' x '.join(sheet.columns.dimensions)} labels)",
            file=file_name,
            sheet=sheet.name,
            cell=cell_ref(lowest, first_column),
            rule="STR-HEADER",
        )
    return columns
