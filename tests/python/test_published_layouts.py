"""Reading published tables through layouts, without dbt: every gallery table's rows take
their place in its hierarchy (each row adds up into its parent, column by column), repeated
headers and notes are skipped, periods come from titles; plus the period parser on its own."""

from __future__ import annotations

import copy
import shutil
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import yaml
from gallery import GALLERY, LAYOUTS_DIR, MONTHS_SHORT, Table
from limits_corpus import filled_template

from loaders.limits import Limits
from loaders.load import CodeListOracle
from loaders.parse import parse_period, parse_workbook
from loaders.workbook import Workbook
from loaders.workers import parse_file
from migstat.errors import WorkbookRejected
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


# --- Tables as offices really save them -----------------------------------------------------
# Each case writes a gallery table the way an office's spreadsheet habits change it (numbers
# typed as text with the separators of its locale, sheet names with stray spaces, last year's
# sheet kept hidden, the period as a date) and expects exactly the numbers and period of the
# clean table, with no rule failing. Found by the hostile-table sweep: each of these was a false
# alarm (VAL-003 on every number, STR-LAYOUT or a wrong/rejected period) before the fix.

BY_NAME = {table.name: table for table in TABLES}
ES_MONTH_END = {4: datetime(2024, 4, 30), 6: datetime(2024, 6, 30)}


def _numbers_as_text(write: Callable[[float], str]) -> Callable[[Table, list[list[object]]], None]:
    def change(table: Table, grid: list[list[object]]) -> None:
        for row in grid:
            for column, value in enumerate(row):
                if column and isinstance(value, int | float) and not isinstance(value, bool):
                    row[column] = write(float(value))

    return change


def _grouped(separator: str) -> Callable[[float], str]:
    return lambda value: f"{round(value):,}".replace(",", separator)


def _decimal(thousands: str, point: str) -> Callable[[float], str]:
    def write(value: float) -> str:
        text = f"{value:,.1f}".replace(",", "\0").replace(".", point)
        return text.replace("\0", thousands)

    return write


def _period(value: object) -> Callable[[Table, list[list[object]]], None]:
    def change(table: Table, grid: list[list[object]]) -> None:
        grid[1][0] = value

    return change


def _total_again_below(table: Table, grid: list[list[object]]) -> None:
    """The grand total printed a second time under the last row (before the notes)."""
    total = list(grid[table.root.written_at[0] - 1])
    grid.insert(len(grid) - len(table.notes) - 1, total)


def _months_as_dates(table: Table, grid: list[list[object]]) -> None:
    """Month headers typed as "ene-23" (stored as the first day of each month)."""
    header = grid[len(table.title) + 1]
    for column, text in enumerate(header):
        if isinstance(text, str) and text.rstrip(".") in [m.rstrip(".") for m in MONTHS_SHORT]:
            month = [m.rstrip(".") for m in MONTHS_SHORT].index(text.rstrip(".")) + 1
            header[column] = datetime(table.year, month, 1)


def _variation_below(table: Table, grid: list[list[object]]) -> None:
    """A row of percentage changes under the total, as bulletins print it."""
    width = len(grid[table.root.written_at[0] - 1])
    changes = [round(-7.5 + 1.3 * column, 1) for column in range(1, width)]
    grid.insert(len(grid) - len(table.notes) - 1, ["Variación % 2023/2022", *changes])


def _share_column(table: Table, grid: list[list[object]]) -> None:
    """A "Var. %" column beside the total."""
    header = len(table.title) + 1
    grid[header].append("Var. %")
    for row in grid[header + 1 :]:
        if len(row) > 2:
            row.append(3.2)


def _excel_serial(moment: datetime) -> float:
    return float((moment - datetime(1899, 12, 30)).days)


def _hide_last_year(path: Path) -> None:
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    old = book.copy_worksheet(sheet)
    old.title = str(int(sheet.title) - 1)
    old["B6"] = 1  # last year's numbers: never read
    old.sheet_state = "hidden"
    book.move_sheet(old, offset=-1)
    book.save(path)


def _relabel(labels: dict[str, str]) -> Callable[[Table, list[list[object]]], None]:
    """Row labels written otherwise (footnote markers, stray spaces), matched after any
    indentation."""

    def change(table: Table, grid: list[list[object]]) -> None:
        for row in grid[len(table.title) + 2 :]:
            if row and isinstance(row[0], str) and row[0].strip() in labels:
                indent = row[0][: len(row[0]) - len(row[0].lstrip(" "))]
                row[0] = indent + labels[row[0].strip()]

    return change


def _headers(write: Callable[[str], str]) -> Callable[[Table, list[list[object]]], None]:
    """Every header row (repeated ones too) with its column headers written otherwise."""

    def change(table: Table, grid: list[list[object]]) -> None:
        header = table.header_rows[0]
        for row in grid:
            if row == header:
                row[1:] = [write(text) for text in row[1:]]

    return change


def _notes_across(table: Table, grid: list[list[object]]) -> None:
    """Notes with the word in the label column and the text in the next cells."""
    grid += [
        ["Fuente:", "Dirección de Estadística, con datos de los puestos fronterizos."],
        ["Nota:", "Cifras preliminares, sujetas a revisión."],
        ["¹ Incluye a los residentes temporales."],
        ["n.d.: no disponible; -: cero."],
    ]


def _zeros_mixed(table: Table, grid: list[list[object]]) -> None:
    """Zeros written as 0 in some rows and "-" in others."""
    for number, row in enumerate(grid):
        if number % 2:
            row[1:] = [0 if cell == "-" else cell for cell in row[1:]]


@dataclass
class Saved:
    """One way an office saves a gallery table."""

    name: str
    table: str
    change: Callable[[Table, list[list[object]]], None] | None = None
    sheet: str | None = None
    suffix: str | None = None
    after: Callable[[Path], None] | None = None
    period: tuple[int, int, int] | None = None
    """The period expected when the case changes it (else the table's own)."""


SAVED = [
    # --- second sweep (each was a false alarm before its fix)
    Saved(
        "several footnote markers and superscripts on labels",
        "costa_rica",
        _relabel(
            {
                "Nicaragua": "Nicaragua 1/ 2/",
                "Panamá": "Panamá¹ ²",
                "Cuba": "Cuba (1)(2)",
                "España": "España* 3/",
            }
        ),
    ),
    Saved(
        "trailing and no-break spaces on labels (.xls)",
        "mexico_ytd",
        _relabel({"Colombia": "Colombia\u00a0", "Perú": "Perú   ", "Japón": "\u00a0Japón"}),
    ),
    Saved(
        "numbers kept as text by a leading apostrophe",
        "nicaragua_totals_below",
        _numbers_as_text(lambda value: f"'{round(value)}"),
    ),
    Saved(
        "month headers with their year (Ene. 2023), Total 2023",
        "costa_rica",
        _headers(lambda text: f"{text} 2023"),
    ),
    Saved(
        "month headers as ene/23",
        "costa_rica",
        _headers(lambda text: f"{text.rstrip('.').lower()}/23"),
    ),
    Saved(
        "total column headed 'Año 2.023'",
        "costa_rica",
        _headers(lambda text: "Año 2.023" if text == "Total" else text),
    ),
    Saved(
        "total column headed 'Acumulado 2024' (.xls)",
        "mexico_ytd",
        _headers(lambda text: "Acumulado 2024" if text == "Total" else text),
    ),
    Saved(
        "sex headed H and M",
        "panama_sex",
        _headers(lambda text: {"Hombres": "H", "Mujeres": "M"}.get(text, text)),
    ),
    Saved(
        "sex headed Masc. and Fem.",
        "panama_sex",
        _headers(lambda text: {"Hombres": "Masc.", "Mujeres": "Fem."}.get(text, text)),
    ),
    Saved("notes with their text in the next cells", "belize_english", _notes_across),
    Saved(
        "grand total labelled 'Gran total 1/'",
        "costa_rica",
        _relabel({"Total general": "Gran total 1/"}),
    ),
    Saved("zeros as 0 and as - in one table (.xls)", "mexico_ytd", _zeros_mixed),
    # --- first sweep
    Saved("thousands as text with dots", "costa_rica", _numbers_as_text(_grouped("."))),
    Saved(
        "thousands as text with commas", "nicaragua_totals_below", _numbers_as_text(_grouped(","))
    ),
    Saved(
        "thousands with no-break spaces (.xls)",
        "mexico_ytd",
        _numbers_as_text(_grouped("\u00a0")),
    ),
    Saved(
        "thousands with narrow no-break spaces",
        "guatemala_blocks",
        _numbers_as_text(_grouped("\u202f")),
    ),
    Saved("thousands with apostrophes", "panama_sex", _numbers_as_text(_grouped("'"))),
    Saved(
        "estimates as text, 1.234,5",
        "el_salvador_estimates",
        _numbers_as_text(_decimal(".", ",")),
        suffix=".xlsx",
    ),
    Saved(
        "estimates as text, 1,234.5", "el_salvador_estimates", _numbers_as_text(_decimal(",", "."))
    ),
    Saved("sheet name with a trailing space", "costa_rica", sheet="Entradas "),
    Saved("sheet name in capitals", "belize_english", sheet="TABLE 5"),
    Saved("last year's sheet kept hidden", "panama_sex", after=_hide_last_year),
    Saved("grand total printed again under the table", "costa_rica", _total_again_below),
    Saved("month headers typed as dates", "costa_rica", _months_as_dates),
    Saved("a row of percentage changes under the table", "costa_rica", _variation_below),
    Saved("a 'Var. %' column beside the total", "costa_rica", _share_column),
    Saved(
        "period as an Excel serial (cut-off date, .xls)",
        "mexico_ytd",
        _period(_excel_serial(ES_MONTH_END[4])),
    ),
    Saved(
        "period as a date cell (cut-off date, .xlsx)",
        "mexico_ytd",
        _period(ES_MONTH_END[4]),
        suffix=".xlsx",
    ),
    Saved(
        "period as the first of a month (that month)",
        "honduras_returns",
        _period(_excel_serial(datetime(2024, 6, 1))),
        period=(2024, 6, 6),
    ),
]


def _values(parsed: object) -> dict[tuple[int, int], float | None]:
    return {(c.row_number, c.column_number): c.value for c in parsed.cells}  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", SAVED, ids=lambda case: case.name)
def test_a_table_saved_as_offices_do_reads_as_the_clean_one(case: Saved, tmp_path: Path) -> None:
    clean = copy.deepcopy(BY_NAME[case.table])
    (tmp_path / "clean").mkdir()
    expected = parse(clean, tmp_path / "clean")
    table = copy.deepcopy(clean)
    table.file_name = f"saved_{Path(clean.file_name).stem}{case.suffix or clean.suffix}"
    table.sheet = case.sheet or table.sheet
    folder = tmp_path / "saved"
    folder.mkdir()
    path = table.write(folder, (lambda grid: case.change(table, grid)) if case.change else None)
    if case.after:
        case.after(path)
    home = tmp_path / "home"
    shutil.copytree(LAYOUTS_DIR, home / "specs" / "layouts")
    result = check_file(path, Specs(overlay=home / "specs"))
    assert result.findings == [], result.findings
    assert (result.year, result.first_month, result.last_month) == (
        case.period or (clean.year, *clean.months)
    )
    parsed = parse_workbook(
        Workbook(path),
        load_layout_file(LAYOUTS_DIR / f"{table.layout_id}.yml"),
        Specs(),
        CodeListOracle(load_layout_file(LAYOUTS_DIR / f"{table.layout_id}.yml")),
        path.name,
    )
    got = _values(parsed)
    want = _values(expected)
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-9) if value is not None else got[key] is None
    assert [record.sheet for record in parsed.sheets if record.is_present] == [table.sheet]


@pytest.mark.parametrize(
    "written", ["\u2026", "n/d", "s/d", "N.D.", "...", "ND", "n.a.", "N/A", "no disp."]
)
def test_not_available_as_offices_write_it(written: str, tmp_path: Path) -> None:
    """'…' (Excel's autocorrect of '...'), 'n/d', 's/d': not available (VAL-004, a warning),
    never a text error (VAL-003) that would quarantine the whole table."""
    table = copy.deepcopy(BY_NAME["costa_rica"])
    leaf = list(table.root.leaves())[2]
    table.grid()  # numbers, and where each row is written

    def change(grid: list[list[object]]) -> None:
        grid[leaf.written_at[0] - 1][3] = written

    path = table.write(tmp_path, change)
    parsed = parse_workbook(
        Workbook(path),
        load_layout_file(LAYOUTS_DIR / f"{table.layout_id}.yml"),
        Specs(),
        CodeListOracle(load_layout_file(LAYOUTS_DIR / f"{table.layout_id}.yml")),
        path.name,
    )
    cell = next(
        c for c in parsed.cells if (c.row_number, c.column_number) == (leaf.written_at[0], 4)
    )
    assert (cell.value, cell.value_status) == (None, "missing_marker")


def test_a_blank_grand_total_over_numbers_is_a_warning_named_at_its_cell(tmp_path: Path) -> None:
    """The grand total's corner left blank (typed by hand, or a formula that lost its value):
    ADD-004 once, at that cell, with what its parts add up to; nothing else fails."""
    table = copy.deepcopy(BY_NAME["costa_rica"])
    table.grid()  # numbers, and where each row is written
    row = table.root.written_at[0]
    corner = f"N{row}"

    def change(grid: list[list[object]]) -> None:
        grid[row - 1][13] = None

    path = table.write(tmp_path, change)
    home = tmp_path / "home"
    shutil.copytree(LAYOUTS_DIR, home / "specs" / "layouts")
    result = check_file(path, Specs(overlay=home / "specs"))
    assert [(f.rule, f.cell, f.found) for f in result.findings] == [("ADD-004", corner, None)]
    assert result.findings[0].expected == str(round(sum(table.root.values)))


# --- The header row moved down (issue 9 leftover) ---------------------------------------------
# An office adds a line above the table's header (a heading over the months, blank rows, the
# title printed again): the header is found by its labels within HEADER_WINDOW rows of the row
# the layout declares, and the table moves with it. Before, the labels of the header row were
# read as data (COD-001 / VAL-003 at B5 and on).

MOVED_HEADERS = [
    ("a heading over the months", "costa_rica", [["", "Meses"]]),
    ("two blank rows", "mexico_ytd", [[], []]),
    ("the title printed again", "nicaragua_totals_below", [["{title}"]]),
    ("a unit line and a heading", "panama_sex", [["(personas)"], ["", "", "Sexo"]]),
    ("one row less (blank row deleted)", "honduras_returns", None),
]


def _move_header(table: Table, lines: list[list[object]] | None) -> Callable[[list], None]:
    def change(grid: list[list[object]]) -> None:
        header = len(table.title) + 1
        if lines is None:
            del grid[header - 1]  # the blank row under the title
            return
        for line in reversed(lines):
            grid.insert(header, [table.title[0] if cell == "{title}" else cell for cell in line])

    return change


@pytest.mark.parametrize(("name", "table_name", "lines"), MOVED_HEADERS, ids=lambda v: str(v))
def test_a_header_moved_down_is_found_by_its_labels(
    name: str, table_name: str, lines: list[list[object]] | None, tmp_path: Path
) -> None:
    clean = copy.deepcopy(BY_NAME[table_name])
    (tmp_path / "clean").mkdir()
    want = _values(parse(clean, tmp_path / "clean"))
    table = copy.deepcopy(clean)
    folder = tmp_path / "moved"
    folder.mkdir()
    path = table.write(folder, _move_header(table, lines))
    offset = -1 if lines is None else len(lines)
    home = tmp_path / "home"
    shutil.copytree(LAYOUTS_DIR, home / "specs" / "layouts")
    result = check_file(path, Specs(overlay=home / "specs"))
    assert result.findings == [], result.findings
    layout = load_layout_file(LAYOUTS_DIR / f"{table.layout_id}.yml")
    parsed = parse_workbook(Workbook(path), layout, Specs(), CodeListOracle(layout), path.name)
    got = {(row - offset, column): value for (row, column), value in _values(parsed).items()}
    assert got == want


def test_a_header_that_cannot_be_found_is_one_str_header_naming_where_it_looked(
    tmp_path: Path,
) -> None:
    """A heading line above a header whose labels are no months: no row near the declared one
    holds month labels, and the declared row ("Meses" alone) is no header. One STR-HEADER
    naming the sheet, the declared header cell and the rows searched; not a cascade of cell
    errors at B5 and on."""
    table = copy.deepcopy(BY_NAME["costa_rica"])
    header = len(table.title) + 1

    def change(grid: list[list[object]]) -> None:
        grid[header] = ["Nacionalidad", *[f"Columna {n}" for n in range(1, 14)]]
        grid.insert(header, ["", "Meses"])

    path = table.write(tmp_path, change)
    layout = load_layout_file(LAYOUTS_DIR / f"{table.layout_id}.yml")
    with pytest.raises(WorkbookRejected) as caught:
        parse_workbook(Workbook(path), layout, Specs(), CodeListOracle(layout), path.name)
    error = caught.value
    assert (error.rule, error.sheet, error.cell) == ("STR-HEADER", "Entradas", "B4")
    assert "rows 1 to 14 were searched" in str(error)
    assert error.message_es and "filas 1 a 14" in error.message_es


def test_a_header_of_labels_the_code_lists_do_not_know_stays_where_declared(
    tmp_path: Path,
) -> None:
    """Headers no code list knows (ports as an office writes them) over numbers: the declared
    row is kept and each label is judged at its own cell, as before."""
    table = copy.deepcopy(BY_NAME["costa_rica"])
    header = len(table.title) + 1

    def change(grid: list[list[object]]) -> None:
        grid[header] = ["Nacionalidad", *[f"Paso {n}" for n in range(1, 14)]]

    path = table.write(tmp_path, change)
    layout = load_layout_file(LAYOUTS_DIR / f"{table.layout_id}.yml")
    parsed = parse_workbook(Workbook(path), layout, Specs(), CodeListOracle(layout), path.name)
    assert [labels for _, labels in parsed.columns["Entradas"]][:2] == [("Paso 1",), ("Paso 2",)]


# --- The period written inside a title (issue 9 leftover) -------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Año 2.023", (2023, 1, 12)),
        ("AÑO 2,023", (2023, 1, 12)),
        ("Enero - Diciembre 2.023", (2023, 1, 12)),
        ("Enero-diciembre de 2023p", (2023, 1, 12)),
        ("Cuadro 5. Entradas de extranjeros por nacionalidad, 2023", (2023, 1, 12)),
        ("Cuadro 2.5 Entradas", None),
    ],
)
def test_years_as_number_formats_write_them(text: str, expected: object) -> None:
    assert parse_period(text) == expected


def _layout_with(table: Table, home: Path, **changes: object) -> None:
    """The table's gallery layout, with top-level keys changed, as the home's own layout."""
    data = yaml.safe_load((LAYOUTS_DIR / f"{table.layout_id}.yml").read_text(encoding="utf-8"))
    data.update(changes)
    folder = home / "specs" / "layouts"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{table.layout_id}.yml").write_text(yaml.safe_dump(data), encoding="utf-8")


def _check(table: Table, path: Path, home: Path):
    specs = Specs(overlay=home / "specs")
    layout = specs.layouts[table.layout_id]
    return parse_workbook(Workbook(path), layout, specs, CodeListOracle(layout), path.name)


def test_a_period_line_anywhere_in_the_title_block_is_read(tmp_path: Path) -> None:
    """``period: 'Sheet!A1:A3'``: the first cell of the range that names a year ("Año 2.023"
    under a title without one), wherever the edition put it."""
    table = copy.deepcopy(BY_NAME["dominican_residence"])
    table.title = [table.title[0], "(Cifras preliminares)", "Año 2.023"]
    table.file_name = "bcrd_sin_fila_de_periodo.xls"
    home = tmp_path / "home"
    _layout_with(table, home, period="Llegadas!A1:A3")
    path = table.write(tmp_path)  # one title line more: the header is found one row lower
    parsed = _check(table, path, home)
    assert (parsed.reference_year, parsed.first_month, parsed.last_month) == (2023, 1, 12)
    assert parsed.metadata["period_text"] == "Año 2.023"
    assert len(parsed.cells) == len(_values(parse(BY_NAME["dominican_residence"], tmp_path)))


@pytest.mark.parametrize(
    ("title", "error"),
    [
        ("Panamá: entrada de extranjeros por nacionalidad y sexo. Año 2023", None),
        ("Panamá: entrada de extranjeros por nacionalidad y sexo. Año 2.023", None),
        (
            "Panamá: entrada de extranjeros por nacionalidad y sexo. Año 2022",
            "year 2022) disagrees with the metadata (year '2023' in sheet '2023')",
        ),
    ],
)
def test_a_period_in_the_title_is_checked_against_the_metadata(
    title: str, error: str | None, tmp_path: Path
) -> None:
    """Panama's sheet is named after its year (the layout's metadata: ``year: '{sheet}/...'``)
    and its title names the year too (``period: '{sheet}!A1'``): they must agree (STR-010)."""
    table = copy.deepcopy(BY_NAME["panama_sex"])
    table.title = [title]
    home = tmp_path / "home"
    _layout_with(table, home, period="{sheet}!A1")
    path = table.write(tmp_path)
    if error is None:
        parsed = _check(table, path, home)
        assert (parsed.reference_year, parsed.first_month, parsed.last_month) == (2023, 1, 12)
        return
    with pytest.raises(WorkbookRejected) as caught:
        _check(table, path, home)
    assert (caught.value.rule, caught.value.sheet, caught.value.cell) == ("STR-010", "2023", "A1")
    assert error in str(caught.value)
    assert caught.value.message_es and "no coincide con el de los metadatos" in (
        caught.value.message_es
    )


def test_months_in_the_title_are_checked_against_a_metadata_sheet(tmp_path: Path) -> None:
    """A template whose layout also reads a period line: "Enero-junio 2023" in a title cell
    against Metadatos saying months 1-12 is STR-010; a title naming only the year is not
    compared on months."""
    home = tmp_path / "home"
    layout = load_layout_file(Path(__file__).resolve().parents[2] / "specs/layouts/std_returns.yml")
    data = layout.model_dump(exclude_defaults=True)
    data["period"] = "Metadatos!A1"
    folder = home / "specs" / "layouts"
    folder.mkdir(parents=True)
    (folder / "std_returns.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    specs = Specs(overlay=home / "specs")
    for text, rejected in (("Retornados, año 2023", False), ("Enero-junio 2023", True)):
        path = filled_template(tmp_path / text[:5], "GTM_returns_2023.xlsx")
        book = openpyxl.load_workbook(path)
        book["Metadatos"]["A1"] = text
        book.save(path)
        if not rejected:
            assert parse_file(path, specs, Limits()).reference_year == 2023
            continue
        with pytest.raises(WorkbookRejected) as caught:
            parse_file(path, specs, Limits())
        assert (caught.value.rule, caught.value.cell) == ("STR-010", "A1")
        assert "last month 6) disagrees with the metadata (last month '12' in Metadatos!B8)" in str(
            caught.value
        )
