"""The limits scan of long sheets: cell references read all at once (numpy) bound a sheet exactly
as the cell-by-cell regex does, and a far cell hidden in a long sheet is still named."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from limits_corpus import minimal_xlsx, sheet_xml

import loaders.limits as limits_module
from loaders.limits import (
    _CELL_PLAIN,
    AT_ONCE_BYTES,
    FORMULA_OR_ERROR_MARKS,
    Limits,
    ZipWorkbook,
    _cells_at_once,
    _marks_at_once,
)
from loaders.workbook import Workbook
from migstat.errors import WorkbookRejected
from migstat.specs import column_letter_to_index, index_to_column_letter


def by_regex(buffer: bytes) -> tuple[int, int, int, int, int] | None:
    """What ``_cells_at_once`` must answer, from the regex the scan uses cell by cell."""
    refs = _CELL_PLAIN.findall(buffer)
    if not refs:
        return 0, 0, 0, 0, 0
    if (b"", b"") in refs or buffer.count(b"<c ") != buffer.count(b'<c r="'):
        return None
    rows = [int(number) - 1 for _, number in refs]
    columns = [column_letter_to_index(letters.decode()) for letters, _ in refs]
    return len(refs), min(rows), max(rows), min(columns), max(columns)


def long_rows(count: int, seed: int, far: str | None = None) -> str:
    """``count`` rows of 20 usual cells (values, shared strings, styles), ``far`` among them."""
    chooser = random.Random(seed)
    rows = []
    for row in range(1, count + 1):
        cells = []
        for column in range(chooser.randrange(0, 3), 20):
            ref = f"{index_to_column_letter(column)}{row}"
            if chooser.random() < 0.3:
                cells.append(f'<c r="{ref}" t="s"><v>{chooser.randrange(50)}</v></c>')
            else:
                cells.append(f'<c r="{ref}" s="2"><v>{chooser.randrange(10_000)}</v></c>')
        if far is not None and row == count // 2:
            cells.append(f'<c r="{far}"><v>1</v></c>')
        rows.append(f'<row r="{row}" spans="1:20">{"".join(cells)}</row>')
    return "".join(rows)


@pytest.mark.parametrize("seed", range(6))
def test_cells_read_at_once_agree_with_the_regex(seed: int) -> None:
    chooser = random.Random(seed)
    pieces = []
    for _ in range(2_000):
        letters = "".join(chooser.choice("ABCXYZ") for _ in range(chooser.randint(1, 3)))
        ref = f"{letters}{chooser.randint(1, 10 ** chooser.randint(1, 7))}"
        pieces.append(chooser.choice([f'<c r="{ref}"><v>1</v></c>', f'<c r="{ref}" t="s"/>']))
    usual = "".join(pieces).encode()
    assert _cells_at_once(usual) == by_regex(usual) is not None
    odd_ones = [
        "<c><v>1</v></c>",  # no reference: takes the next column
        "<c r='B4'/>",  # other quotes
        '<c  r="B4"/>',  # other spacing
        '<c t="s" r="B4"/>',  # reference not first
        '<c r="ABCDE4"/>',  # five letters
        '<c r="A123456789"/>',  # nine digits
        '<c r="a4"/>',  # lower case
        '<c r="A"/>',  # no row
    ]
    for odd in odd_ones:
        buffer = usual[: len(usual) // 2] + odd.encode() + usual[len(usual) // 2 :]
        assert _cells_at_once(buffer) is None, odd
    assert _cells_at_once(b"<col/><cols><row/>") == (0, 0, 0, 0, 0)


def test_a_long_sheet_is_bounded_as_by_the_regex(tmp_path: Path) -> None:
    rows = long_rows(2_000, seed=1)
    path = minimal_xlsx(tmp_path / "long.xlsx", sheet_xml(rows, "A1:T2000"))
    book = ZipWorkbook(path, Limits())
    part = book.sheet_parts()["Metadatos"]
    assert len(b"".join(book.stream(part))) > 4 * AT_ONCE_BYTES
    extent = book.scan_sheet(part, "Metadatos")
    saved = limits_module.AT_ONCE_BYTES
    limits_module.AT_ONCE_BYTES = 1 << 62  # the cell-by-cell regex only
    try:
        assert book.scan_sheet(part, "Metadatos") == extent
    finally:
        limits_module.AT_ONCE_BYTES = saved
    assert (extent.first_row, extent.last_row, extent.last_column) == (0, 1_999, 19)


@pytest.mark.parametrize("far", ["XFD77", "BXY3", "A200001"])
def test_a_far_cell_inside_a_long_sheet_is_named(tmp_path: Path, far: str) -> None:
    path = minimal_xlsx(tmp_path / "far.xlsx", sheet_xml(long_rows(2_000, seed=2, far=far)))
    with pytest.raises(WorkbookRejected) as caught:
        Workbook(path).grid("Metadatos")
    assert (caught.value.rule, caught.value.sheet, caught.value.cell) == (
        "STR-LIMIT",
        "Metadatos",
        far,
    )


def test_too_many_cells_in_a_long_sheet_are_rejected(tmp_path: Path) -> None:
    path = minimal_xlsx(tmp_path / "many.xlsx", sheet_xml(long_rows(2_000, seed=3)))
    with pytest.raises(WorkbookRejected) as caught:
        Workbook(path, Limits(max_cells=10_000)).grid("Metadatos")
    assert caught.value.rule == "STR-LIMIT"
    assert caught.value.sheet == "Metadatos"
    assert "cells" in caught.value.message


@pytest.mark.parametrize("seed", range(3))
def test_formula_and_error_marks_found_at_once_agree_with_the_searches(seed: int) -> None:
    chooser = random.Random(seed)
    pieces = ["<", ">", ":", "f", "e", "t", "=", '"', "'", " ", "x", "c"]
    for _ in range(20_000):
        buffer = "".join(chooser.choice(pieces) for _ in range(chooser.randint(0, 12))).encode()
        expected = any(mark in buffer for mark in FORMULA_OR_ERROR_MARKS)
        assert _marks_at_once(buffer) is expected, buffer


@pytest.mark.parametrize(
    "mark", ['<c r="K1000"><f>SUM(A1:B2)</f></c>', '<c r="K1000" t="e"><v>#REF!</v></c>']
)
def test_a_formula_or_error_deep_in_a_long_sheet_is_seen(tmp_path: Path, mark: str) -> None:
    rows = long_rows(2_000, seed=4)
    middle = rows.index('<row r="1000"')
    rows = rows[:middle] + f'<row r="1000">{mark}</row>' + rows[middle:]
    path = minimal_xlsx(tmp_path / "marked.xlsx", sheet_xml(rows))
    book = ZipWorkbook(path, Limits())
    part = book.sheet_parts()["Metadatos"]
    assert len(b"".join(book.stream(part))) > 4 * AT_ONCE_BYTES
    assert book.scan_sheet(part, "Metadatos").has_formulas_or_errors
    plain = minimal_xlsx(tmp_path / "plain.xlsx", sheet_xml(long_rows(2_000, seed=4)))
    plain_book = ZipWorkbook(plain, Limits())
    assert not plain_book.scan_sheet(part, "Metadatos").has_formulas_or_errors
