"""The standardized template writer and the sample submissions, checked from the openpyxl cells."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from migstat.codes import display_label
from migstat.errors import SpecError
from migstat.specs import Specs, column_letter_to_index, load_specs
from migstat.workbooks.samples import (
    FLAWS,
    PUBLISHED_FILE,
    PUBLISHED_REGIONS,
    RESUBMISSION,
    SampleMaker,
    aggregate,
    make_file,
    parse_years,
    planned_files,
)
from migstat.workbooks.samples.sources import generic_tables
from migstat.workbooks.template import (
    TOTAL,
    column_keys,
    header_label,
    row_members,
    sheet_grid,
    write_template,
)

SPECS = load_specs()
SOURCES = sorted(SPECS.sources)
CLEAN = [f"GTM_{source}_2023.xlsx" for source in SOURCES] + [
    "MEX_entries_exits_2022.xlsx",
    "CRI_asylum_2024.xlsx",
    "PAN_irregular_foreigners_2024.xlsx",
]


def number(value: object) -> int:
    if value == "-":
        return 0
    assert isinstance(value, int), value
    return value


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    maker = SampleMaker(seed=7)
    names = [*CLEAN, *(flaw.file for flaw in FLAWS), RESUBMISSION, PUBLISHED_FILE]
    for name in names:
        make_file(maker, name, out, last_year=2024)
    return out


@pytest.mark.parametrize("source_id", SOURCES)
def test_template_structure(tmp_path: Path, source_id: str) -> None:
    path = write_template(source_id, "HND", 2025, tmp_path / "t.xlsx")
    book = load_workbook(path)
    layout = SPECS.template_layout(source_id)
    source, country = SPECS.source(source_id), SPECS.country("HND")
    assert book.sheetnames[:2] == ["Instrucciones", "Metadatos"]
    assert [s.name for s in layout.sheets] == book.sheetnames[2:-1]
    meta = book["Metadatos"]
    assert layout.metadata is not None
    cells = layout.metadata.cells
    assert meta[cells["template"]].value == layout.id == meta["B9"].value
    assert meta[cells["country"]].value == "HND"
    assert meta[cells["year"]].value == 2025
    assert meta[cells["source"]].value == source_id
    assert len(meta.data_validations.dataValidation) >= 4
    assert meta["A3"].value.startswith("País")

    for sheet in layout.sheets:
        ws = book[sheet.name]
        grid = sheet_grid(sheet, source, country)
        first_column = column_letter_to_index(sheet.columns.first_column) + 1
        label_column = column_letter_to_index(sheet.rows.label_column) + 1
        low = sheet.columns.header_rows[-1]
        assert ws.cell(low, first_column).value == "Total"
        if len(sheet.columns.header_rows) == 2:
            top = sheet.columns.header_rows[0]
            codelist = source.dimensions[sheet.columns.dimensions[0]].codelist
            first_outer = column_keys(sheet, source, country)[0][0]
            assert ws.cell(top, first_column).value == header_label(codelist, first_outer)
            assert ws.merged_cells.ranges
        members = row_members(sheet, source, country)
        codelist = source.dimensions[sheet.rows.dimension].codelist
        first = ws.cell(sheet.rows.first_row, label_column)
        assert first.value == display_label(codelist, members[0], "es")
        assert ws.cell(grid.rows[TOTAL], label_column).value == "Total"
        assert len(grid.extra_rows) == sheet.rows.extra_rows
        assert ws.protection.sheet
        assert first.protection.locked
        assert ws.cell(low, first_column).protection.locked
        data = ws.cell(sheet.rows.first_row, first_column)
        assert not data.protection.locked
        assert data.number_format == "#,##0"
        assert ws.freeze_panes == f"{get_column_letter(label_column + 1)}{sheet.rows.first_row}"
        if sheet.rows.extra_rows:
            assert ws.data_validations.dataValidation
            assert not ws.cell(grid.extra_rows[0], label_column).protection.locked
    assert_no_formulas(book)


def assert_no_formulas(book: object) -> None:
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and value.startswith("=")), value


def test_ports_rows_are_the_country_ports(tmp_path: Path) -> None:
    book = load_workbook(write_template("entries_exits", "CRI", 2024, tmp_path / "t.xlsx"))
    layout = SPECS.template_layout("entries_exits")
    sheet = layout.sheet("ENTRADAS_PUERTO")
    ws = book[sheet.name]
    ports = SPECS.country("CRI").ports
    labels = [ws.cell(sheet.rows.first_row + i, 1).value for i in range(len(ports))]
    assert labels == [display_label("ports", port.code, "es") for port in ports]
    assert ws.cell(sheet.rows.first_row + len(ports), 1).value == "Total"


def test_values_fill_cells_text_and_extra_rows(tmp_path: Path) -> None:
    values = {
        "POR_PAIS": {
            ("USA", "01"): 120,
            ("USA", TOTAL): "n.d.",
            ("Alemania", "02"): 3,
            (TOTAL, TOTAL): 123,
        }
    }
    book = load_workbook(write_template("returns", "GTM", 2024, tmp_path / "t.xlsx", values))
    sheet = SPECS.template_layout("returns").sheet("POR_PAIS")
    ws = book["POR_PAIS"]
    grid = sheet_grid(sheet, SPECS.source("returns"), SPECS.country("GTM"))
    assert ws.cell(grid.rows["USA"], grid.columns[("01",)]).value == 120
    assert ws.cell(grid.rows["USA"], grid.columns[(TOTAL,)]).value == "n.d."
    assert ws.cell(grid.extra_rows[0], 1).value == "Alemania"
    assert ws.cell(grid.extra_rows[0], grid.columns[("02",)]).value == 3
    assert ws.cell(grid.rows[TOTAL], grid.columns[(TOTAL,)]).value == 123
    with pytest.raises(ValueError, match="no sheet"):
        write_template("returns", "GTM", 2024, tmp_path / "x.xlsx", {"NOPE": {}})


def read_sheet(ws: Worksheet, grid: object, keys: list[tuple[str, ...]]) -> dict:
    return {
        (row_code, *key): number(ws.cell(row, grid.columns[key]).value)
        for row_code, row in grid.rows.items()
        for key in keys
    }


def margins(cells: dict, dimensions: list[str], dimension: str) -> dict[str, int]:
    """Reported totals of one dimension (all other dimensions at _T) read from a sheet."""
    position = dimensions.index(dimension)
    return {
        key[position]: value
        for key, value in cells.items()
        if key[position] != TOTAL and all(k == TOTAL for i, k in enumerate(key) if i != position)
    }


@pytest.mark.parametrize("name", CLEAN)
def test_clean_samples_are_additive_and_agree_across_sheets(samples: Path, name: str) -> None:
    country_code, rest = name.split("_", 1)
    source_id = rest.rsplit("_", 1)[0]
    source, country = SPECS.source(source_id), SPECS.country(country_code)
    layout = SPECS.template_layout(source_id)
    book = load_workbook(samples / name)
    assert_no_formulas(book)
    sheets: dict[str, tuple[list[str], dict]] = {}
    for sheet in layout.sheets:
        grid = sheet_grid(sheet, source, country)
        keys = column_keys(sheet, source, country)
        cells = read_sheet(book[sheet.name], grid, keys)
        dimensions = [sheet.rows.dimension, *sheet.columns.dimensions]
        sheets[sheet.name] = (dimensions, cells)
        for position in range(len(dimensions)):
            sums: dict[tuple[str, ...], int] = {}
            for key, value in cells.items():
                if key[position] != TOTAL:
                    rolled = (*key[:position], TOTAL, *key[position + 1 :])
                    sums[rolled] = sums.get(rolled, 0) + value
            for rolled, total in sums.items():
                assert cells[rolled] == total, (sheet.name, rolled)
        assert all(value >= 0 for value in cells.values())
    grand = {name: cells[tuple(TOTAL for _ in dims)] for name, (dims, cells) in sheets.items()}
    for group in source.cross_table:
        first_dims, first_cells = sheets[group.sheets[0]]
        for other in group.sheets[1:]:
            assert grand[other] == grand[group.sheets[0]]
            dims, cells = sheets[other]
            for dimension in group.dimensions:
                if dimension in first_dims and dimension in dims:
                    expected = margins(first_cells, first_dims, dimension)
                    assert margins(cells, dims, dimension) == expected, (other, dimension)


def test_clean_sample_magnitudes_and_metadata(samples: Path) -> None:
    book = load_workbook(samples / "MEX_entries_exits_2022.xlsx")
    layout = SPECS.template_layout("entries_exits")
    sheet = layout.sheet("ENTRADAS_NAC")
    grid = sheet_grid(sheet, SPECS.source("entries_exits"), SPECS.country("MEX"))
    ws = book[sheet.name]
    total = number(ws.cell(grid.rows[TOTAL], grid.columns[(TOTAL, TOTAL)]).value)
    assert 20_000_000 < total < 90_000_000
    usa = number(ws.cell(grid.rows["USA"], grid.columns[(TOTAL, TOTAL)]).value)
    nationals = number(ws.cell(grid.rows["MEX"], grid.columns[(TOTAL, TOTAL)]).value)
    assert usa > 0.3 * (total - nationals)
    september = number(ws.cell(grid.rows[TOTAL], grid.columns[("09", TOTAL)]).value)
    december = number(ws.cell(grid.rows[TOTAL], grid.columns[("12", TOTAL)]).value)
    assert september < december
    meta = book["Metadatos"]
    assert meta["B3"].value == "MEX"
    assert meta["B4"].value == "Instituto Nacional de Migración"
    assert meta["B13"].value == 1


def test_samples_are_deterministic(tmp_path: Path) -> None:
    def cells(seed: int, folder: str) -> list[tuple]:
        path = make_file(SampleMaker(seed), "NIC_returns_2023.xlsx", tmp_path / folder, 2024)
        book = load_workbook(path)
        return [row for ws in book.worksheets for row in ws.iter_rows(values_only=True)]

    assert cells(11, "a") == cells(11, "b")
    assert cells(11, "a") != cells(12, "c")


def test_planned_files() -> None:
    names = planned_files(SPECS, parse_years("2022-2024"))
    assert len(names) == len(SPECS.countries) * len(SPECS.sources) * 3 + 2
    assert {flaw.file for flaw in FLAWS} <= set(names)
    assert RESUBMISSION in names and PUBLISHED_FILE in names
    assert parse_years("2021,2023-2024") == [2021, 2023, 2024]


def flaw(kind: str) -> object:
    return next(f for f in FLAWS if f.kind == kind)


def test_flaw_total_off(samples: Path) -> None:
    found = flaw("total_off")
    ws = load_workbook(samples / found.file)[found.sheet]
    sheet = SPECS.template_layout("entries_exits").sheet(found.sheet)
    grid = sheet_grid(sheet, SPECS.source("entries_exits"), SPECS.country("GTM"))
    column = grid.columns[("01", TOTAL)]
    assert ws[found.cell].row == grid.rows[TOTAL] and ws[found.cell].column == column
    detail = sum(
        number(ws.cell(row, column).value) for code, row in grid.rows.items() if code != TOTAL
    )
    assert number(ws[found.cell].value) == detail + 1000


def test_flaw_missing_month(samples: Path) -> None:
    found = flaw("missing_month")
    book = load_workbook(samples / found.file)
    assert book[found.sheet][found.cell].value is None
    assert book[found.sheet][found.cell].offset(column=-1).value is not None
    assert all(cell.value is None for cell in book["POR_MES_SEXO"][11][1:4])


def test_flaw_unknown_label_text_and_structure(samples: Path) -> None:
    unknown = flaw("unknown_label")
    book = load_workbook(samples / unknown.file)
    assert book[unknown.sheet][unknown.cell].value == "Wakanda"
    assert book["POR_NAC_SEXO"][unknown.cell].value == "Wakanda"
    text = flaw("text_in_number")
    value = load_workbook(samples / text.file)[text.sheet][text.cell].value
    assert isinstance(value, str) and re.fullmatch(r"\d+o", value)
    deleted = flaw("metadata_deleted")
    assert deleted.sheet not in load_workbook(samples / deleted.file).sheetnames
    wiped = flaw("header_wiped")
    ws = load_workbook(samples / wiped.file)[wiped.sheet]
    assert all(cell.value is None for row in ws.iter_rows(min_row=5, max_row=6) for cell in row)


def test_flaw_cross_table_and_resubmission(samples: Path) -> None:
    found = flaw("cross_table")
    source, country = SPECS.source("residence_permits"), SPECS.country("PAN")
    layout = SPECS.template_layout("residence_permits")

    def grand_totals(path: Path) -> tuple[int, int]:
        book = load_workbook(path)
        totals = []
        for name in ("POR_NACIONALIDAD", found.sheet):
            grid = sheet_grid(layout.sheet(name), source, country)
            ws = book[name]
            totals.append(number(ws.cell(grid.rows[TOTAL], grid.columns[(TOTAL, TOTAL)]).value))
        return totals[0], totals[1]

    nationality, month = grand_totals(samples / found.file)
    assert month == nationality + 250
    nationality, month = grand_totals(samples / RESUBMISSION)
    assert month == nationality
    first = load_workbook(samples / found.file)["Metadatos"]
    second = load_workbook(samples / RESUBMISSION)["Metadatos"]
    assert (first["B13"].value, second["B13"].value) == (1, 2)
    assert second["B11"].value > first["B11"].value
    assert second["B12"].value == "r"


def test_published_mexico_subtotals_add_up(samples: Path) -> None:
    layout = SPECS.layouts["mex_published_entries_nationality"]
    book = load_workbook(samples / PUBLISHED_FILE)
    assert "Metadatos" not in book.sheetnames
    ws = book[layout.detect.sheet]
    assert re.search(layout.detect.pattern, ws[layout.detect.cell].value, re.IGNORECASE)
    sheet_name, rest = layout.defaults["year"].split("!", 1)
    cell, regex = rest.split("/", 1)
    assert re.search(regex, book[sheet_name][cell].value).group(1) == "2021"
    rows = [
        (row[0], [number(v) for v in row[1:]])
        for row in ws.iter_rows(min_row=layout.sheets[0].rows.first_row, values_only=True)
        if row[0] and row[1] is not None
    ]
    regions = {name for name, _ in PUBLISHED_REGIONS}
    grand = rows[0][1]
    countries_sum = [0] * len(grand)
    current: tuple[str, list[int]] | None = None
    region_sums: dict[str, list[int]] = {}
    for label, values in rows[1:]:
        if label in regions:
            current = (label, values)
            region_sums[label] = [0] * len(values)
            continue
        countries_sum = [a + b for a, b in zip(countries_sum, values, strict=True)]
        if current and label.startswith("  "):
            region_sums[current[0]] = [
                a + b for a, b in zip(region_sums[current[0]], values, strict=True)
            ]
        assert values[0] == sum(values[1:]), label
    assert countries_sum == grand
    for label, values in rows:
        if label in regions:
            assert region_sums[label] == values, label
    labels = [label for label, _ in rows]
    assert "  Estados Unidos1" in labels and "  Canadá 2" in labels
    assert any(str(v) == "-" for row in ws.iter_rows(values_only=True) for v in row)


@pytest.mark.parametrize("source_id", SOURCES)
def test_the_generic_draw_fills_every_sheet_of_any_layout_consistently(source_id: str) -> None:
    """A source without a shaped draw is drawn from its layout alone: every sheet gets numbers,
    and sheets of the same measure add up to the same grand total (drawing every shipped source
    this way stands in for a new one)."""
    maker = SampleMaker(3)
    layout = SPECS.template_layout(source_id)
    draw_tables = maker.tables(source_id, "CRI", 2023)
    generic = generic_tables(maker.draw(source_id, "CRI", 2023), layout)
    assert draw_tables and generic
    totals: dict[str, set[int]] = {}
    for sheet in layout.sheets:
        table = next(table for table in generic if table.draws(sheet))
        axes = [sheet.rows.dimension, *sheet.columns.dimensions]
        grand = aggregate(table, axes, sheet.fixed)[tuple(TOTAL for _ in axes)]
        assert grand > 0, sheet.name
        if not sheet.fixed:
            totals.setdefault(sheet.measure, set()).add(grand)
    assert all(len(values) == 1 for values in totals.values()), totals


def test_a_dimension_without_its_code_list_stops_the_template(tmp_path: Path) -> None:
    """The seventh-source fixture overlaid without its code list: the template names the spec
    file and the missing code list instead of writing codes where labels belong."""
    fixture = Path(__file__).parent / "fixtures" / "seventh_source"
    for folder in ("sources", "layouts"):
        (tmp_path / folder).mkdir()
        for path in (fixture / folder).glob("*.yml"):
            (tmp_path / folder / path.name).write_text(path.read_text())
    specs = Specs(overlay=tmp_path)
    with pytest.raises(SpecError, match="code list 'study_levels', which has no codes") as error:
        write_template("student_permits", "GTM", 2023, tmp_path / "t.xlsx", specs=specs)
    assert error.value.file and error.value.file.endswith("student_permits.yml")
