"""One bad file never blocks the build, and what publishes must be right (issue 9, dbt side).

One module-scoped home, built once with a real `migstat load` + `migstat build` on real
workbooks (the standard templates filled with sample numbers), holds every case:

* MEX returns with a pasted 20-digit id (1e19) in a data cell, and GTM returns with a stray
  number at row 30,000: each used to make every build fail (a cast to BIGINT, an INT32
  overflow); now each is quarantined naming its cell, and the build publishes the others;
* a Honduran entries workbook relabelled Costa Rica (file name and metadata): its ports are
  Honduran, so it is quarantined;
* Costa Rican asylum for 2031 (future period) and a metadata country XYZ (not configured);
* Panama returns 2023 version 2, then version 1 received later: version 2 stays published;
* El Salvador returns 2023, then a version 2 that moves every country into "Otros": published,
  with revision warnings shown in the quality report;
* written straight into the raw store (no workbook, so no loader limit stops it), Dominican
  irregular foreigners with 1e300 in cell XFD1048576, Excel's last cell: every rule model stays
  total over it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest
from fixtures import raw_fixture
from fixtures.cli import migstat

from loaders.parse import CellRecord
from migstat.home import Home
from migstat.specs import load_specs
from migstat.workbooks.samples import SampleMaker, clean_submission, write_submission

pytestmark = pytest.mark.slow

LAST_YEAR = 2024
CLEAN = ["CRI_returns_2023.xlsx", "GTM_asylum_2023.xlsx"]
HUGE = "MEX_returns_2023.xlsx"
STRAY = "GTM_returns_2023.xlsx"
RELABELLED = "CRI_entries_exits_2023.xlsx"
FUTURE = "CRI_asylum_2031.xlsx"
UNKNOWN_COUNTRY = "XYZ_returns_2022.xlsx"
NEWER = "PAN_returns_2023_v2.xlsx"
OLDER_RECEIVED_LATER = "PAN_returns_2023_v1.xlsx"
INTO_OTHERS = "SLV_returns_2023_v2.xlsx"
LAST_CELL = "DOM_irregular_foreigners_2023.xlsx"


def edit(path: Path, change: Callable[[openpyxl.Workbook], None], to: Path | None = None) -> None:
    book = openpyxl.load_workbook(path)
    change(book)
    book.save(to or path)
    if to is not None:
        path.unlink()


def set_cell(sheet: str, cell: str, value: object) -> Callable[[openpyxl.Workbook], None]:
    def change(book: openpyxl.Workbook) -> None:
        book[sheet][cell] = value

    return change


def into_others(values: dict[str, dict]) -> dict[str, dict]:
    """POR_PAIS with every country's numbers moved into OTH (totals unchanged)."""
    by_country = values["POR_PAIS"]
    moved: dict[tuple[str, str], int] = {}
    for (country, month), value in by_country.items():
        if country == "_T":
            moved[(country, month)] = value
            continue
        number = value if isinstance(value, int) else 0
        moved[("OTH", month)] = moved.get(("OTH", month), 0) + number
        if country != "OTH":
            moved[(country, month)] = 0
    return {**values, "POR_PAIS": moved}


def last_cell_of_excel(cells: list[CellRecord]) -> list[CellRecord]:
    """A raw fixture flaw: 1e300 in XFD1048576 of the first sheet, in a row without label."""
    first = cells[0]
    labels = {**first.labels, "nationality": None}
    far = replace(
        first,
        cell="XFD1048576",
        row_number=1_048_576,
        column_number=16_384,
        labels=labels,
        raw_text="1e300",
        value=1e300,
        cell_role="detail",
    )
    return [*cells, far]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("guards_home")
    inbox, late = home / "inbox", home / "late"
    specs = load_specs()
    maker = SampleMaker(0, specs)

    def write(source: str, country: str, year: int, folder: Path = inbox, **changes) -> Path:
        submission = clean_submission(maker, source, country, year, LAST_YEAR)
        for name, value in changes.items():
            setattr(submission, name, value)
        suffix = f"_v{submission.version}" if "version" in changes else ""
        return write_submission(
            submission, folder / f"{country}_{source}_{year}{suffix}.xlsx", specs
        )

    for name in CLEAN:
        country, source, year = name[:3], name[4:-10], int(name[-9:-5])
        write(source, country, year)
    edit(write("returns", "MEX", 2023), set_cell("POR_PAIS", "B6", 10**19))
    edit(write("returns", "GTM", 2023), set_cell("POR_PAIS", "C30000", 5))
    edit(
        write("entries_exits", "HND", 2023),
        set_cell("Metadatos", "B3", "CRI"),
        to=inbox / RELABELLED,
    )
    write("asylum", "CRI", 2031)
    edit(
        write("returns", "CRI", 2022),
        set_cell("Metadatos", "B3", "XYZ"),
        to=inbox / UNKNOWN_COUNTRY,
    )
    write("returns", "PAN", 2023, version=2, submitted_on=date(2024, 3, 1))
    write("returns", "SLV", 2023)
    first = migstat(home, "load", str(inbox))
    assert first.returncode in (0, 1), first.stderr
    # Received later: an older version (numbered 1, dated before version 2) and a version 2
    # that moves every country into "Otros".
    older = write("returns", "PAN", 2023, late, version=1, submitted_on=date(2024, 1, 15))
    slv = clean_submission(maker, "returns", "SLV", 2023, LAST_YEAR)
    slv.values = into_others(slv.values)
    slv.version = 2
    write_submission(slv, late / INTO_OTHERS, specs)
    assert older.name == OLDER_RECEIVED_LATER
    second = migstat(home, "load", str(late))
    assert second.returncode in (0, 1), second.stderr
    raw_fixture.write(
        Home(home).raw_db,
        [
            raw_fixture.Submission(
                "DOM", "irregular_foreigners", 2023, seed=5, flaws=[last_cell_of_excel]
            )
        ],
    )
    build = migstat(home, "build", "--json")
    return {
        "home": home,
        "exit_code": build.returncode,
        "result": json.loads(build.stdout),
        "stderr": build.stderr,
        "warehouse": home / "warehouse" / "migstat.duckdb",
    }


def query(guarded: dict, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(guarded["warehouse"]), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def submission(guarded: dict, file_name: str) -> tuple[int, str, bool, str | None]:
    (row,) = query(
        guarded,
        "select submission_id, status, is_published, publication_reason "
        "from marts.quality_submissions where file_name = ?",
        [file_name],
    )
    return row


def failures(guarded: dict, file_name: str, severity: str = "error") -> list[tuple]:
    return query(
        guarded,
        "select rule_id, sheet, cell, message_es, message_en "
        "from marts.quality_rule_failures "
        "where file_name = ? and severity = ? order by rule_id, sheet, cell",
        [file_name, severity],
    )


def published_ids(guarded: dict, country: str, source: str, year: int) -> set[int]:
    rows = query(
        guarded,
        "select distinct submission_id from marts.fct_observations "
        "where reporting_country_code = ? and source = ? and year = ?",
        [country, source, year],
    )
    return {row[0] for row in rows}


def test_the_build_passes_and_publishes_every_other_submission(guarded):
    result = guarded["result"]
    assert guarded["exit_code"] == 0, guarded["stderr"][-3000:]
    assert result["passed"], result["failed_nodes"]
    for name in [*CLEAN, NEWER, INTO_OTHERS]:
        _, status, published, _ = submission(guarded, name)
        assert (status, published) == ("accepted", True), name
    sid = submission(guarded, "CRI_returns_2023.xlsx")[0]
    assert published_ids(guarded, "CRI", "returns", 2023) == {sid}


def test_a_pasted_20_digit_id_is_quarantined_at_its_cell(guarded):
    _, status, published, _ = submission(guarded, HUGE)
    assert (status, published) == ("quarantined", False)
    named = [f for f in failures(guarded, HUGE) if f[:3] == ("VAL-006", "POR_PAIS", "B6")]
    assert named, failures(guarded, HUGE)
    assert "10000000000000000000" in named[0][3] and "B6" in named[0][4]
    assert published_ids(guarded, "MEX", "returns", 2023) == set()


def test_a_stray_number_at_row_30000_is_quarantined_at_its_cell(guarded):
    _, status, published, _ = submission(guarded, STRAY)
    assert (status, published) == ("quarantined", False)
    found = failures(guarded, STRAY)
    unlabelled = [f for f in found if f[:3] == ("STR-009", "POR_PAIS", "A30000")]
    assert unlabelled and "C30000 = 5" in unlabelled[0][3], found
    assert not [f for f in found if f[0] == "STR-004"], "an empty label is no repeated label"
    assert published_ids(guarded, "GTM", "returns", 2023) == set()


def test_a_honduran_workbook_relabelled_costa_rica_is_quarantined(guarded):
    _, status, published, _ = submission(guarded, RELABELLED)
    assert (status, published) == ("quarantined", False)
    # STR-008 (a port of another country); COD-001 if ports resolve per reporting country.
    ports = [f for f in failures(guarded, RELABELLED) if f[0] in ("STR-008", "COD-001")]
    assert ports, failures(guarded, RELABELLED)
    assert {f[1] for f in ports} >= {"ENTRADAS_PUERTO", "SALIDAS_PUERTO"}
    assert all(f[2].startswith("A") for f in ports), ports
    assert published_ids(guarded, "CRI", "entries_exits", 2023) == set()
    published_ports = query(
        guarded,
        "select count(*) from marts.fct_observations "
        "where reporting_country_code = 'CRI' and port_code like 'HND-%'",
    )
    assert published_ports == [(0,)]


def test_a_future_year_and_an_unconfigured_country_are_quarantined(guarded):
    for name, rule, cell in [(FUTURE, "STR-006", "B6"), (UNKNOWN_COUNTRY, "STR-005", "B3")]:
        _, status, published, _ = submission(guarded, name)
        assert (status, published) == ("quarantined", False), name
        assert any(f[:3] == (rule, "Metadatos", cell) for f in failures(guarded, name)), name
    assert published_ids(guarded, "CRI", "asylum", 2031) == set()
    assert query(
        guarded, "select count(*) from marts.fct_observations where reporting_country_code = 'XYZ'"
    ) == [(0,)]


def test_an_older_version_received_later_does_not_replace_the_newer(guarded):
    newer_id, status, published, reason = submission(guarded, NEWER)
    assert (status, published, reason) == ("accepted", True, "version")
    older_id, status, published, _ = submission(guarded, OLDER_RECEIVED_LATER)
    assert older_id > newer_id, "the older version must be the one received last"
    assert (status, published) == ("superseded", False)
    assert published_ids(guarded, "PAN", "returns", 2023) == {newer_id}


def test_detail_moved_into_others_is_flagged_and_reported(guarded, tmp_path):
    sid, status, published, reason = submission(guarded, INTO_OTHERS)
    assert (status, published, reason) == ("accepted", True, "version")
    warnings = failures(guarded, INTO_OTHERS, "warn")
    rules = {f[0] for f in warnings}
    assert {"REV-001", "REV-002", "REV-003"} <= rules, warnings
    residual = next(f for f in warnings if f[0] == "REV-002")
    assert residual[1] == "POR_PAIS" and "OTH" in residual[4], residual
    html = tmp_path / "report.html"
    done = migstat(guarded["home"], "report", str(sid), "-o", str(html))
    assert done.returncode == 0, done.stderr
    text = html.read_text(encoding="utf-8")
    assert "REV-002" in text and "REV-003" in text and "códigos residuales" in text


def test_1e300_in_the_last_cell_of_excel_is_quarantined_at_its_cell(guarded):
    _, status, published, _ = submission(guarded, LAST_CELL)
    assert (status, published) == ("quarantined", False)
    found = failures(guarded, LAST_CELL)
    sheet = found[0][1]
    assert ("VAL-006", sheet, "XFD1048576") in [f[:3] for f in found], found
    assert ("STR-009", sheet, "A1048576") in [f[:3] for f in found], found
    assert published_ids(guarded, "DOM", "irregular_foreigners", 2023) == set()
