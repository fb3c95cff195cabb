"""Reading published tables through layouts, without dbt: every gallery table's rows take
their place in its hierarchy (each row adds up into its parent, column by column), repeated
headers and notes are skipped, periods come from titles; plus the period parser on its own."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from gallery import GALLERY, LAYOUTS_DIR, Table

from loaders.load import CodeListOracle
from loaders.parse import parse_period, parse_workbook
from loaders.workbook import Workbook
from migstat.specs import Specs, load_layout_file
from migstat.workbench import check_file

TABLES = [make() for make in GALLERY]


def parse(table: Table, folder: Path):
    path = table.write(folder)
    layout = load_layout_file(LAYOUTS_DIR / f"{table.layout_id}.yml")
    specs = Specs()
    return parse_workbook(Workbook(path), layout, specs, CodeListOracle(layout), path.name)


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_every_row_adds_up_into_its_parent(table, tmp_path):
    parsed = parse(table, tmp_path)
    values = {(c.row_number, c.column_number): c.value or 0.0 for c in parsed.cells}
    sums: dict[tuple[int, int], float] = defaultdict(float)
    for cell in parsed.cells:
        if cell.parent_row is not None:
            sums[(cell.parent_row, cell.column_number)] += cell.value or 0.0
    assert sums, "the table has a hierarchy"
    tolerance = 0.5 if not table.decimals else table.scale
    for (row, column), total in sums.items():
        assert abs(values[(row, column)] - total) <= tolerance * 4, (row, column)
    data_rows = {number for row in table.root.walk() for number in row.written_at}
    read_rows = {c.row_number for c in parsed.cells}
    assert read_rows == data_rows, "exactly the table's data rows are read"


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_parents_are_the_tables_own(table, tmp_path):
    parsed = parse(table, tmp_path)
    parents = {c.row_number: c.parent_row for c in parsed.cells}
    for row in table.root.walk():
        for block, number in enumerate(row.written_at):
            for child in row.children:
                assert parents[child.written_at[block]] == number, (row.label, child.label)


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_period_and_flags_come_from_the_table(table, tmp_path):
    parsed = parse(table, tmp_path)
    assert (parsed.reference_year, parsed.first_month, parsed.last_month) == (
        table.year,
        *table.months,
    )
    assert parsed.obs_flag == ("e" if table.decimals else None)
    skipped = {row.row_number for row in parsed.rows if row.kind in ("header", "note")}
    if table.page_rows:
        assert skipped, "repeated titles, headers and page notes are skipped"


def test_a_text_cell_fails_only_the_checks_that_involve_it(tmp_path, monkeypatch):
    """VAL-003 names the cell; the totals of its row and column are not checked, every
    other total still is (a wrong cell elsewhere is still found)."""
    table = TABLES[1]
    home = tmp_path / "home"
    shutil.copytree(LAYOUTS_DIR, home / "specs" / "layouts")
    monkeypatch.setenv("MIGSTAT_HOME", str(home))
    leaves = list(table.root.leaves())
    table.fill()

    def change(grid: list[list[object]]) -> None:
        grid[leaves[0].written_at[0] - 1][2] = "ver nota"
        grid[leaves[3].written_at[0] - 1][5] = 999_999

    path = table.write(tmp_path, change)
    result = check_file(path, Specs(overlay=home / "specs"), table.layout_id)
    rules = {(finding.rule, finding.cell) for finding in result.findings}
    assert ("VAL-003", f"C{leaves[0].written_at[0]}") in rules
    wrong_row = leaves[3].written_at[0]
    assert ("ADD-001", f"N{wrong_row}") in rules
    text_row = leaves[0].written_at[0]
    total_row = table.root.written_at[0]
    involved = {f"C{text_row}", f"N{text_row}", f"C{total_row}"}
    assert not {cell for rule, cell in rules if rule.startswith("ADD")} & involved


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Enero-abril 2024", (2024, 1, 4)),
        ("enero a abril de 2024", (2024, 1, 4)),
        ("ENE.-SEP. 2021", (2021, 1, 9)),
        ("Año 2023 (cifras preliminares)", (2023, 1, 12)),
        ("Primer semestre de 2024", (2024, 1, 6)),
        ("II trimestre 2022", (2022, 4, 6)),
        ("Table 5: Arrivals by nationality and month, 2022", (2022, 1, 12)),
        ("January-June 2020", (2020, 1, 6)),
        ("Diciembre 2019", (2019, 12, 12)),
        ("Cuadro 3.1 Entradas de extranjeros", None),
    ],
)
def test_periods_as_titles_write_them(text, expected):
    assert parse_period(text) == expected


def test_a_file_rejected_for_want_of_a_layout_loads_on_retry(tmp_path):
    """No layout recognises the table: rejected (STR-LAYOUT). Once the statistician adds the
    layout under $MIGSTAT_HOME/specs/layouts, `migstat load --retry` reads it again; the
    rejection stays in the history."""
    import os
    import subprocess
    import sys

    import duckdb

    table = TABLES[0]
    home = tmp_path / "home"
    path = table.write(tmp_path)
    migstat = str(Path(sys.executable).with_name("migstat"))
    env = {**os.environ, "MIGSTAT_HOME": str(home)}

    def load(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [migstat, "load", *args], env=env, capture_output=True, text=True, check=False
        )

    first = load(str(path))
    assert first.returncode == 1 and "STR-LAYOUT" in first.stderr
    layouts = home / "specs" / "layouts"
    layouts.mkdir(parents=True)
    shutil.copy(LAYOUTS_DIR / f"{table.layout_id}.yml", layouts)
    again = load(str(path))
    assert "skipped" in again.stdout, "without --retry, a received content is not read again"
    retried = load("--retry")
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert f"using {layouts / (table.layout_id + '.yml')}" in retried.stderr
    with duckdb.connect(str(home / "warehouse" / "landing.duckdb"), read_only=True) as con:
        history = con.execute(
            "select status, error_rule, layout from raw.submissions order by submission_id"
        ).fetchall()
    assert history == [("rejected", "STR-LAYOUT", None), ("loaded", None, table.layout_id)]
    assert "0 loaded, 0 skipped, 0 rejected" in load("--retry").stdout, "nothing left to retry"
