"""The loader: round trips through every template, rejections, idempotence, other file types."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from fixtures.cli import migstat as run_cli
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from limits_corpus import filled_template

from loaders.load import load_paths
from loaders.parse import parse_number
from migstat.specs import load_specs
from migstat.workbooks.template import sheet_grid, write_template

SPECS = load_specs()
ZERO = set(SPECS.layouts["std_entries_exits"].reading.zero_markers)
MISSING = {m.lower() for m in SPECS.layouts["std_entries_exits"].reading.missing_markers}


def raw_cells(db: Path, source: str) -> dict[tuple[str, str], tuple[str | None, float | None]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(f"select sheet, cell, raw_text, value from raw.{source}").fetchall()
    return {(sheet, cell): (text, value) for sheet, cell, text, value in rows}


def table_digest(db: Path) -> str:
    """A digest of every row of every raw table except the submissions log."""
    digest = hashlib.sha256()
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' and table_name <> 'submissions' order by 1"
            ).fetchall()
        ]
        for table in tables:
            for row in con.execute(f"select * from raw.{table} order by all").fetchall():
                digest.update(repr(row).encode())
        for row in con.execute(
            "select * exclude (loaded_at) from raw.submissions where status = 'loaded' order by 1"
        ).fetchall():
            digest.update(repr(row).encode())
    return digest.hexdigest()


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from([",", ".", " ", ""]))
def test_integers_read_back_with_any_thousands_separator(number: int, separator: str) -> None:
    text = f"{number:,}".replace(",", separator)
    assert parse_number(text, ZERO, MISSING) == (float(number), "number")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-", (0.0, "zero_marker")),
        ("n.d.", (None, "missing_marker")),
        ("", (None, "blank")),
        ("  ", (None, "blank")),
        ("12o", (None, "text")),
        ("12,5", (12.5, "number")),
        (3.0, (3.0, "number")),
        (True, (None, "text")),
    ],
)
def test_cell_text_is_read_as_offices_write_it(text: object, expected: tuple) -> None:
    assert parse_number(text, ZERO, MISSING) == expected


SPECIAL_TEXTS = ("-", "n.d.", None, "12o")


def draw_cell(rng: random.Random) -> object:
    """Mostly counts of any magnitude, sometimes what offices also type."""
    if rng.random() < 0.1:
        return rng.choice(SPECIAL_TEXTS)
    return rng.choice([rng.randint(0, 9), rng.randint(0, 50_000), rng.randint(0, 50_000_000)])


@pytest.mark.parametrize("source_id", sorted(SPECS.sources))
@settings(
    max_examples=3,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_round_trip_every_cell_of_every_source(
    source_id: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Template -> filled workbook -> load -> the raw numbers are what was written, cell by cell."""
    folder = tmp_path_factory.mktemp(source_id)
    source = SPECS.source(source_id)
    country = SPECS.country(data.draw(st.sampled_from(sorted(SPECS.countries))))
    rng = random.Random(data.draw(st.integers(min_value=0, max_value=2**32)))
    layout = SPECS.template_layout(source_id)
    values: dict[str, dict[tuple[str, ...], object]] = {}
    expected: dict[tuple[str, str], object] = {}
    for sheet in layout.sheets:
        grid = sheet_grid(sheet, source, country)
        sheet_values = {}
        for row_code, row_number in grid.rows.items():
            for column_key, column_number in grid.columns.items():
                value = draw_cell(rng)
                sheet_values[(row_code, *column_key)] = value
                ref = f"{openpyxl.utils.get_column_letter(column_number)}{row_number}"
                expected[(sheet.name, ref)] = value
        values[sheet.name] = sheet_values
    path = write_template(source_id, country.code, 2024, folder / "filled.xlsx", values)
    outcomes = load_paths([path], folder / "landing.duckdb", SPECS)
    assert [o.status for o in outcomes] == ["loaded"], outcomes
    loaded = raw_cells(folder / "landing.duckdb", source_id)
    assert set(loaded) == set(expected)
    for key, written in expected.items():
        text, value = loaded[key]
        if isinstance(written, int):
            assert value == written, key
        elif written == "-":
            assert value == 0, key
        else:
            assert value is None, key
            assert text == written, key


def test_reloading_the_same_file_is_skipped_and_changes_nothing(tmp_path: Path) -> None:
    path = filled_template(tmp_path)
    home = tmp_path / "home"
    first = run_cli(home, "load", str(path))
    assert first.returncode == 0, first.stderr
    before = table_digest(home / "warehouse" / "landing.duckdb")
    second = run_cli(home, "load", str(path))
    assert second.returncode == 0, second.stderr
    assert "skipped" in second.stdout
    assert "already received as submission 1" in second.stdout
    assert table_digest(home / "warehouse" / "landing.duckdb") == before


def broken_workbooks(folder: Path) -> dict[str, tuple[Path, str, str | None, str | None]]:
    """name -> (file, words the message must contain, sheet, cell)."""
    folder.mkdir(parents=True, exist_ok=True)
    not_a_workbook = folder / "HND_asylum_2024.xlsx"
    not_a_workbook.write_bytes(b"this is not a zip file")

    no_metadata = filled_template(folder, "GTM_returns_2022.xlsx")
    book = openpyxl.load_workbook(no_metadata)
    del book["Metadatos"]
    book.save(no_metadata)

    wiped_header = filled_template(folder, "GTM_returns_2021.xlsx")
    book = openpyxl.load_workbook(wiped_header)
    sheet = book["POR_MES_SEXO"]
    for cell in sheet[5]:
        cell.value = None
    book.save(wiped_header)

    bad_year = filled_template(folder, "GTM_returns_2020.xlsx")
    book = openpyxl.load_workbook(bad_year)
    book["Metadatos"]["B6"] = "dos mil veinte"
    book.save(bad_year)
    return {
        "not a workbook": (not_a_workbook, "not a readable workbook", None, None),
        "metadata sheet deleted": (no_metadata, "no layout recognises", None, None),
        "header wiped": (wiped_header, "no column headers", "POR_MES_SEXO", "B5"),
        "year not a year": (bad_year, "is not a year", "Metadatos", "B6"),
    }


def test_rejected_files_leave_the_warehouse_data_unchanged_and_others_still_load(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    good = filled_template(tmp_path / "good")
    assert run_cli(home, "load", str(good)).returncode == 0
    db = home / "warehouse" / "landing.duckdb"
    before = table_digest(db)

    broken = broken_workbooks(tmp_path / "broken")
    run = run_cli(home, "load", *(str(path) for path, *_ in broken.values()))
    assert run.returncode == 1
    assert table_digest(db) == before
    for path, words, sheet, cell in broken.values():
        line = next(line for line in run.stderr.splitlines() if path.name in line)
        assert words in line
        if sheet:
            assert f"sheet {sheet}" in line and f"cell {cell}" in line

    another = filled_template(tmp_path / "another", "GTM_returns_2019.xlsx")
    mixed = run_cli(home, "load", str(another), str(broken["header wiped"][0]))
    assert mixed.returncode == 0, "an already rejected file is skipped, not rejected again"
    status = json.loads(run_cli(home, "status", "--json").stdout)
    by_file = {item["file"]: item for item in status["submissions"]}
    assert by_file["GTM_returns_2019.xlsx"]["status"] == "loaded"
    assert {by_file[p.name]["status"] for p, *_ in broken.values()} == {"rejected"}
    assert status["warehouse"].endswith("migstat.duckdb")
    assert set(by_file["GTM_returns_2019.xlsx"]) >= {
        "id",
        "file",
        "sha256",
        "country",
        "source",
        "period",
        "status",
    }


def grid_copy(xlsx: Path, target: Path) -> Path:
    """Write every sheet of ``xlsx`` cell for cell into another file type (.ods or .xls)."""
    engine = {".ods": "odf", ".xls": None}[target.suffix]
    sheets = pd.read_excel(xlsx, sheet_name=None, header=None, engine="calamine")
    if target.suffix == ".xls":
        import xlwt

        book = xlwt.Workbook()
        for name, frame in sheets.items():
            sheet = book.add_sheet(name)
            for (row, column), value in frame.stack().items():
                if pd.notna(value):
                    sheet.write(row, column, value)
        book.save(str(target))
        return target
    with pd.ExcelWriter(target, engine=engine) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, header=False, index=False)
    return target


@pytest.mark.parametrize("suffix", [".ods", ".xls"])
def test_ods_and_xls_load_like_the_xlsx_they_copy(tmp_path: Path, suffix: str) -> None:
    xlsx = filled_template(tmp_path)
    other = grid_copy(xlsx, tmp_path / f"GTM_returns_2023{suffix}")
    load_paths([xlsx], tmp_path / "a.duckdb", SPECS)
    outcome = load_paths([other], tmp_path / "b.duckdb", SPECS)
    assert outcome[0].status == "loaded", outcome
    assert raw_cells(tmp_path / "a.duckdb", "returns") == raw_cells(
        tmp_path / "b.duckdb", "returns"
    )


def test_a_published_hierarchical_table_loads_through_its_layout_file_only(tmp_path: Path) -> None:
    """Mexico's own "Cuadro 3.1": title block, region subtotal rows, spacer rows, footnote
    markers glued to labels, "-" for zero, notes below, no metadata sheet."""
    from migstat.workbooks.samples import SampleMaker, write_published_mexico

    path = write_published_mexico(SampleMaker(seed=5), tmp_path / "MEX_entries_exits_2021.xlsx")
    outcomes = load_paths([path], tmp_path / "landing.duckdb", SPECS)
    assert outcomes[0].status == "loaded", outcomes
    with duckdb.connect(str(tmp_path / "landing.duckdb"), read_only=True) as con:
        submission = con.execute(
            "select layout, country_code, reference_year, source from raw.submissions"
        ).fetchone()
        assert submission == ("mex_published_entries_nationality", "MEX", 2021, "entries_exits")
        roles = dict(
            con.execute(
                "select nationality_label, any_value(cell_role) from raw.entries_exits "
                "where month_label = 'Total' group by 1"
            ).fetchall()
        )
        assert roles["América del Norte"] == "subtotal"
        assert roles["  Estados Unidos1"] == "total"
        assert not any(label.startswith(("Fuente", "Nota")) for label in roles)
        sums = con.execute(
            "select sum(value) filter (where cell_role = 'detail'), "
            "sum(value) filter (where cell_role = 'total' and nationality_label <> 'Total' "
            "and month_label = 'Total'), "
            "sum(value) filter (where nationality_label = 'Total' and month_label = 'Total'), "
            "count(*) filter (where value_status = 'zero_marker') "
            "from raw.entries_exits"
        ).fetchone()
    detail, row_totals, grand_total, zeros = sums
    assert detail == row_totals == grand_total > 1_000_000
    assert zeros >= 1


def test_files_in_a_folder_that_are_not_workbooks_are_reported_not_skipped_silently(
    tmp_path: Path,
) -> None:
    """An office's folder holds its workbook, the bulletin as PDF, a CSV export and the system's
    own clutter: the workbook loads, the PDF and the CSV are reported (bilingual, on stderr and
    in --json as ``ignored``), the load still succeeds, nothing about them is recorded; hidden
    files, Office lock files and Thumbs.db are not mentioned."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    filled_template(inbox)
    (inbox / "boletin_marzo.pdf").write_bytes(b"%PDF-1.4\n")
    (inbox / "export_sistema.csv").write_text("pais;total\nGTM;12\n", encoding="utf-8")
    (inbox / ".DS_Store").write_bytes(b"\0")
    (inbox / "~$GTM_returns_2023.xlsx").write_bytes(b"lock")
    (inbox / "Thumbs.db").write_bytes(b"\0")
    home = tmp_path / "home"
    done = run_cli(home, "load", str(inbox))
    assert done.returncode == 0, done.stderr
    ignored = [line for line in done.stderr.splitlines() if line.startswith("ignored: ")]
    assert [line.split(": ")[1].rsplit("/", 1)[-1] for line in ignored] == [
        "boletin_marzo.pdf",
        "export_sistema.csv",
    ]
    assert all("no es un libro de cálculo" in line and "not a workbook" in line for line in ignored)
    assert "1 loaded, 0 skipped, 0 rejected" in done.stdout
    assert "2 ignored (not workbooks)" in done.stdout
    again = json.loads(run_cli(home, "load", str(inbox), "--json").stdout)
    assert [(Path(o["file"]).name, o["status"], o["id"]) for o in again] == [
        ("GTM_returns_2023.xlsx", "skipped", 1),
        ("boletin_marzo.pdf", "ignored", None),
        ("export_sistema.csv", "ignored", None),
    ]
    with duckdb.connect(str(home / "warehouse" / "landing.duckdb"), read_only=True) as con:
        files = con.execute("select file_name from raw.submissions").fetchall()
    assert files == [("GTM_returns_2023.xlsx",)]
