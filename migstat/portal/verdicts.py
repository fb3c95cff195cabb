"""What the portal shows about submissions: reports, sheet previews, annotated workbooks and the
coordinator's matrix. Everything reads the published warehouse read-only, the history and the
archive; nothing here writes the home."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migstat.archive import find_archived
from migstat.errors import MigstatError
from migstat.home import Home
from migstat.report import Problem, Report, read_report
from migstat.status import home_status

CELL = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,7})")
PREVIEW_RADIUS = 3
PREVIEW_LIMIT = 25


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def parse_cell(cell: str | None) -> tuple[int, int] | None:
    """``(row, column)`` of the first cell a reference names (``B50``, ``B50:C52``)."""
    found = CELL.match((cell or "").strip().upper())
    if not found:
        return None
    return int(found.group(2)), column_number(found.group(1))


def submissions(home: Home) -> list[dict[str, Any]]:
    return home_status(home)["submissions"]


def submission(home: Home, submission_id: int) -> dict[str, Any] | None:
    for item in submissions(home):
        if item["id"] == submission_id:
            return item
    return None


def report(home: Home, submission_id: int) -> Report | None:
    try:
        return read_report(home.published_db, submission_id)
    except MigstatError:
        return None


def workbook_path(home: Home, item: dict[str, Any]) -> Path | None:
    """The archived copy of a submission's file."""
    sha256 = item.get("sha256")
    return find_archived(home.root, sha256) if sha256 else None


@dataclass
class Preview:
    problem: Problem
    sheet: str
    cell: str
    columns: list[str]
    rows: list[tuple[int, list[tuple[str, bool]]]]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}".replace(",", " ")
    return str(value)


def previews(path: Path | None, problems: list[Problem]) -> list[Preview]:
    """The sheet around each failing cell (``PREVIEW_RADIUS`` rows and columns each side)."""
    if path is None or not path.exists():
        return []
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception:  # a workbook the reader cannot open has no preview
        return []
    grids: dict[str, list[list[object]]] = {}
    found: list[Preview] = []
    for problem in problems:
        place = parse_cell(problem.cell)
        if place is None or not problem.sheet or len(found) >= PREVIEW_LIMIT:
            continue
        if problem.sheet not in grids:
            try:
                sheet = book.get_sheet_by_name(problem.sheet)
                grids[problem.sheet] = [list(row) for row in sheet.to_python(skip_empty_area=False)]
            except Exception:  # a sheet that is not there has no preview
                grids[problem.sheet] = []
        grid = grids[problem.sheet]
        row, column = place
        first_row, first_column = max(1, row - PREVIEW_RADIUS), max(1, column - PREVIEW_RADIUS)
        numbers = range(first_column, column + PREVIEW_RADIUS + 1)
        rows = []
        for number in range(first_row, row + PREVIEW_RADIUS + 1):
            values = grid[number - 1] if number - 1 < len(grid) else []
            rows.append(
                (
                    number,
                    [
                        (
                            _text(values[c - 1] if c - 1 < len(values) else None),
                            number == row and c == column,
                        )
                        for c in numbers
                    ],
                )
            )
        found.append(
            Preview(
                problem,
                problem.sheet,
                f"{column_letters(column)}{row}",
                [column_letters(c) for c in numbers],
                rows,
            )
        )
    return found


def annotated(path: Path, problems: list[Problem]) -> bytes:
    """The office's own workbook with each failing cell filled red and commented with the rule,
    the expected and the found value (Spanish, then English). Only .xlsx/.xlsm can be written."""
    from openpyxl import load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise MigstatError(f"{path.name}: only .xlsx and .xlsm workbooks can be annotated")
    book = load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm")
    fill = PatternFill("solid", start_color="FFFF9999", end_color="FFFF9999")
    notes: dict[tuple[str, str], list[str]] = {}
    for problem in problems:
        place = parse_cell(problem.cell)
        if place is None or not problem.sheet or problem.sheet not in book.sheetnames:
            continue
        reference = f"{column_letters(place[1])}{place[0]}"
        notes.setdefault((problem.sheet, reference), []).append(
            f"Regla {problem.rule_id}: esperado {problem.expected or '-'}, encontrado "
            f"{problem.found or '-'}. {problem.message_es}\n"
            f"Rule {problem.rule_id}: expected {problem.expected or '-'}, found "
            f"{problem.found or '-'}. {problem.message_en}"
        )
    for (sheet, reference), texts in notes.items():
        cell = book[sheet][reference]
        cell.fill = fill
        comment = Comment("\n\n".join(texts), "migstat")
        comment.width, comment.height = 420, 160
        cell.comment = comment
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def report_xlsx(item: Report) -> bytes:
    import tempfile

    from migstat.report import write_xlsx

    with tempfile.TemporaryDirectory() as folder:
        path = write_xlsx(item, Path(folder) / "report.xlsx")
        return path.read_bytes()


MATRIX_TEXT = {
    "published": ("publicado", "published"),
    "quarantined": ("en cuarentena", "quarantined"),
    "rejected": ("rechazado", "rejected"),
    "received": ("recibido", "received"),
    "missing": ("falta", "missing"),
}


def matrix(home: Home, countries: list[str], sources: list[str]) -> dict[str, Any]:
    """Country x source x period: received, accepted, quarantined versions, or missing."""
    items = submissions(home)
    periods = sorted({str(i["period"]) for i in items if i["period"]}) or []
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    for country in countries:
        for source in sources:
            for period in periods:
                cells[(country, source, period)] = {
                    "received": 0,
                    "accepted": 0,
                    "quarantined": 0,
                    "published_id": None,
                    "last_id": None,
                }
    for item in items:
        key = (item["country"], item["source"], str(item["period"]))
        if key not in cells:
            continue
        cell = cells[key]
        cell["received"] += 1
        cell["last_id"] = item["id"]
        if item["status"] in ("accepted", "superseded"):
            cell["accepted"] += 1
        if item["status"] == "quarantined":
            cell["quarantined"] += 1
        if item["is_published"]:
            cell["published_id"] = item["id"]
    for cell in cells.values():
        if cell["published_id"] is not None:
            cell["state"] = "published"
        elif cell["quarantined"]:
            cell["state"] = "quarantined"
        elif cell["received"]:
            cell["state"] = "received"
        else:
            cell["state"] = "missing"
        cell["text"] = MATRIX_TEXT[cell["state"]]
    return {"periods": periods, "cells": cells}
