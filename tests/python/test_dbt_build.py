"""dbt on real files: samples -> load -> `migstat build`, checked against the workbooks themselves.

One session-scoped build serves every test here (CI time is shared): the sample workbooks, plus
two resubmissions made in the test: a clean one (the first version must become superseded) and
one with a single detail cell changed (quarantined, naming the cell, while the first version
stays published). A second, small build from the raw fixture checks `--strict` on clean data.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import duckdb
import openpyxl
import pytest
from fixtures import raw_fixture
from fixtures.cli import migstat

from migstat.codes import resolve
from migstat.home import PROJECT_ROOT, Home
from migstat.workbooks.samples import FLAWS, RESUBMISSION, write_samples

pytestmark = pytest.mark.slow

CHANGED = "GTM_returns_2023_v2.xlsx"
"""Resubmission of GTM returns 2023 with one detail cell changed (totals untouched)."""
CLEAN_RESUBMISSION = "CRI_work_permits_2023_v2.xlsx"
FAMILY_PREFIX = {
    "additivity": "ADD-",
    "completeness": "CMP-",
    "codes": "COD-",
    "values": "VAL-",
    "structure": "STR-",
    "cross-table": "XTB-",
    "cross_table": "XTB-",
}


def column_of(cell: str) -> str:
    return re.match(r"[A-Z]+", cell).group(0)


def find_cell(sheet, row_label_row: int, header_row: int, header: str, row: int) -> str:
    """The reference of the cell in ``row`` under the first column whose header is ``header``."""
    for cell in sheet[header_row]:
        if cell.value == header:
            return f"{cell.column_letter}{row}"
    raise AssertionError(f"no column {header!r} in row {header_row}")


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("dbt_home")
    inbox = home / "inbox"
    write_samples(inbox)
    # A clean resubmission: same numbers, version 2 -> accepted, the first becomes superseded.
    book = openpyxl.load_workbook(inbox / "CRI_work_permits_2023.xlsx")
    book["Metadatos"]["B13"] = 2
    book.save(inbox / CLEAN_RESUBMISSION)
    # A resubmission with one detail cell changed and the totals left as they were.
    book = openpyxl.load_workbook(inbox / "GTM_returns_2023.xlsx")
    sheet = book["POR_MES_SEXO"]
    ref = find_cell(sheet, 6, 5, "Hombres", 8)
    original = sheet[ref].value
    sheet[ref] = original + 37
    book["Metadatos"]["B13"] = 2
    book.save(inbox / CHANGED)
    loaded = migstat(home, "load", str(inbox))
    assert loaded.returncode in (0, 1), loaded.stderr
    build = migstat(home, "build", "--strict", "--json")
    result = json.loads(build.stdout)
    return {
        "home": home,
        "inbox": inbox,
        "exit_code": build.returncode,
        "progress": build.stderr,
        "result": result,
        "warehouse": home / "warehouse" / "migstat.duckdb",
        "changed_cell": ref,
        "changed_value": original + 37,
        "original_value": original,
    }


def query(built: dict, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def statuses(built: dict) -> dict[str, tuple[int, str, bool]]:
    rows = query(
        built,
        "select file_name, submission_id, status, is_published from marts.quality_submissions",
    )
    return {name: (sid, status, published) for name, sid, status, published in rows}


def test_build_passes_publishes_and_strict_fails_on_quarantine(built):
    assert built["result"]["passed"], built["result"]["failed_nodes"]
    assert built["warehouse"].exists()
    assert built["exit_code"] == 1, "--strict must exit 1 when a submission is quarantined"
    assert not list((built["home"] / "warehouse").glob("build-*.duckdb")), (
        "passing build swapped in"
    )


def test_build_shows_one_line_per_model_as_it_finishes(built):
    """dbt runs through dbtRunner; its event callback gives one progress line per model."""
    lines = [
        line.strip()
        for line in built["progress"].splitlines()
        if re.match(r"\d+/\d+ model ", line.strip())
    ]
    assert "build: full" in built["progress"], "the build says its mode"
    names = {line.split(" model ", 1)[1].split(":", 1)[0] for line in lines}
    assert {"stg_raw__submissions", "fct_observations", "quality_submissions"} <= names, lines[:5]
    assert len(lines) == len(names), "one line per model"
    first = re.match(r"(\d+)/(\d+) model \S+: success \(\d+\.\d s\)$", lines[0])
    assert first and 0 < int(first.group(1)) <= int(first.group(2)), lines[0]
    assert " test " not in built["progress"], "tests only with -v"


@pytest.mark.parametrize("flaw", FLAWS, ids=lambda flaw: flaw.file)
def test_every_flaw_is_caught_by_its_rule_at_its_cell(built, flaw):
    sid, status, published = statuses(built)[flaw.file]
    failures = query(
        built,
        "select rule_id, sheet, cell from marts.quality_rule_failures "
        "where submission_id = ? and severity = 'error'",
        [sid],
    )
    prefix = FAMILY_PREFIX[flaw.rule_family]
    matching = [f for f in failures if f[0].startswith(prefix)]
    assert matching, f"{flaw.file}: no {prefix}* failure in {failures}"
    if flaw.rule_family == "structure":
        assert status == "rejected"
    else:
        assert status == "quarantined"
    assert not published
    if flaw.rule_family in ("structure", "cross-table", "cross_table"):
        # A rejection names where reading stopped; a cross-table rule can only name the
        # disagreeing total of the sheet (the same column as the flawed detail cell).
        if flaw.cell and any(f[1] for f in matching):
            assert any(
                f[1] == flaw.sheet and f[2] and column_of(f[2]) == column_of(flaw.cell)
                for f in matching
            ), matching
    else:
        assert any(f[1] == flaw.sheet and f[2] == flaw.cell for f in matching), matching


def test_nothing_else_is_quarantined_or_rejected(built):
    expected = {flaw.file for flaw in FLAWS} | {CHANGED}
    bad = {
        name
        for name, (_, status, _) in statuses(built).items()
        if status in ("quarantined", "rejected")
    }
    assert bad == expected


def test_corrected_resubmission_replaces_the_quarantined_version(built):
    table = statuses(built)
    assert table[RESUBMISSION][1] == "accepted" and table[RESUBMISSION][2]
    assert table["PAN_residence_permits_2024.xlsx"][1] == "quarantined"


def test_clean_resubmission_supersedes_the_first_version(built):
    table = statuses(built)
    first, second = table["CRI_work_permits_2023.xlsx"], table[CLEAN_RESUBMISSION]
    assert second[1:] == ("accepted", True)
    assert first[1:] == ("superseded", False)
    published = query(
        built,
        "select distinct submission_id from marts.fct_observations "
        "where reporting_country_code = 'CRI' and source = 'work_permits' and year = 2023",
    )
    assert published == [(second[0],)]


def test_changed_detail_cell_is_named_and_the_accepted_version_stays_published(built):
    table = statuses(built)
    changed_id, status, published = table[CHANGED]
    first_id, first_status, first_published = table["GTM_returns_2023.xlsx"]
    assert (status, published) == ("quarantined", False)
    assert (first_status, first_published) == ("accepted", True)
    suspects = query(
        built,
        "select sheet, cell, expected, found from marts.quality_rule_failures "
        "where submission_id = ? and rule_id = 'ADD-003'",
        [changed_id],
    )
    assert (
        "POR_MES_SEXO",
        built["changed_cell"],
        str(built["original_value"]),
        str(built["changed_value"]),
    ) in suspects
    published_ids = query(
        built,
        "select distinct submission_id from marts.fct_observations "
        "where reporting_country_code = 'GTM' and source = 'returns' and year = 2023",
    )
    assert published_ids == [(first_id,)]


def detail_sums(path: Path, sheet_name: str, header_row: int, first_row: int, codelist: str):
    """Sum a template sheet's detail cells by row code and column label (from the workbook)."""
    sheet = openpyxl.load_workbook(path, data_only=True)[sheet_name]
    headers = [cell.value for cell in sheet[header_row]]
    sums: dict[tuple[str, str], float] = {}
    for row in sheet.iter_rows(min_row=first_row, values_only=True):
        label = row[0]
        if label is None:
            continue
        code = resolve(codelist, str(label))
        if code in (None, "_T"):
            continue
        for header, value in zip(headers[1:], row[1:], strict=False):
            if header is None or not isinstance(value, int | float):
                continue
            key = (code, str(header))
            sums[key] = sums.get(key, 0) + value
    return sums


def test_marts_reproduce_indicators_computed_from_the_workbook(built):
    country, year = "CRI", 2023
    path = built["inbox"] / f"{country}_entries_exits_{year}.xlsx"
    # ENTRADAS_NAC: rows nationality from row 7, row 5 months, row 6 Total / Hombres / Mujeres.
    sheet = openpyxl.load_workbook(path, data_only=True)["ENTRADAS_NAC"]
    months = [cell.value for cell in sheet[5]]
    month = None
    month_of_column = []
    for value in months:
        month = value if value is not None else month
        month_of_column.append(month)
    sexes = [cell.value for cell in sheet[6]]
    nationals = foreigners = women = men = 0.0
    for row in sheet.iter_rows(min_row=7, values_only=True):
        if row[0] is None:
            continue
        code = resolve("countries", str(row[0]))
        if code in (None, "_T"):
            continue
        for index, value in enumerate(row[1:], start=1):
            if month_of_column[index] in (None, "Total") or sexes[index] not in (
                "Hombres",
                "Mujeres",
            ):
                continue
            number = value if isinstance(value, int | float) else 0
            if code == country:
                nationals += number
            else:
                foreigners += number
            if sexes[index] == "Mujeres":
                women += number
            else:
                men += number
    (mart,) = query(
        built,
        "select entries_nationals, entries_foreigners, entries_women_share, counting_unit "
        "from marts.movements_yearly where reporting_country_code = ? and year = ?",
        [country, year],
    )
    assert mart[0] == pytest.approx(nationals)
    assert mart[1] == pytest.approx(foreigners)
    assert mart[2] == pytest.approx(women / (women + men))
    assert mart[3] == "events"

    # Asylum decisions by type from RESOLUCIONES (row 5 decision labels, rows from 6).
    asylum = built["inbox"] / f"{country}_asylum_{year}.xlsx"
    sums = detail_sums(asylum, "RESOLUCIONES", 5, 6, "countries")
    by_decision: dict[str, float] = {}
    for (_, header), value in sums.items():
        decision = resolve("asylum_decisions", header)
        if decision not in (None, "_T"):
            by_decision[decision] = by_decision.get(decision, 0) + value
    rec, cpr, rej = (by_decision.get(code, 0) for code in ("REC", "CPR", "REJ"))
    (row,) = query(
        built,
        "select decisions_recognised, decisions_total, recognition_rate from marts.asylum_yearly "
        "where reporting_country_code = ? and year = ?",
        [country, year],
    )
    assert row[0] == pytest.approx(rec)
    assert row[1] == pytest.approx(sum(by_decision.values()))
    assert row[2] == pytest.approx(rec / (rec + cpr + rej))

    (long_value,) = query(
        built,
        "select value from marts.indicators where indicator_id = 'entries_nationals' "
        "and reporting_country_code = ? and year = ?",
        [country, year],
    )[0]
    assert long_value == pytest.approx(nationals)


def test_report_lists_problems_in_spanish_then_english(built, tmp_path):
    sid = statuses(built)["CRI_asylum_2022.xlsx"][0]
    html = tmp_path / "report.html"
    done = migstat(built["home"], "report", str(sid), "-o", str(html))
    assert done.returncode == 0, done.stderr
    text = html.read_text(encoding="utf-8")
    assert text.index("Informe de validación") < text.index("Validation report")
    assert "C8" in text and "VAL-003" in text and "1578o" in text
    xlsx = tmp_path / "report.xlsx"
    assert migstat(built["home"], "report", str(sid), "-o", str(xlsx)).returncode == 0
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["Informe", "Report"]
    values = [cell for row in book["Informe"].iter_rows(values_only=True) for cell in row]
    assert "VAL-003" in values and "C8" in values


def test_strict_build_exits_zero_when_nothing_is_quarantined(tmp_path):
    home = tmp_path / "home"
    clean = [s for s in raw_fixture.default_submissions() if not s.flaws][:6]
    raw_fixture.write(Home(home).ensure().raw_db, clean)
    done = migstat(home, "build", "--strict", "--json")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    verdicts = {item["verdict"] for item in json.loads(done.stdout)["submissions"]}
    assert verdicts <= {"accepted", "accepted with warnings"}


def test_a_failed_build_keeps_the_published_warehouse(tmp_path):
    paths = Home(tmp_path / "home").ensure()
    home = paths.root
    published = paths.published_db
    published.write_bytes(b"previous warehouse")
    paths.raw_db.write_bytes(b"not a duckdb file")
    done = migstat(home, "build")
    assert done.returncode != 0
    assert published.read_bytes() == b"previous warehouse"


def relabel(dimension: str, old: str, new: str):
    """A fixture flaw: write every ``old`` label of a dimension as ``new``."""

    def apply(cells):
        return [
            dataclasses.replace(cell, labels={**cell.labels, dimension: new})
            if cell.labels.get(dimension) == old
            else cell
            for cell in cells
        ]

    return apply


def test_labels_resolve_through_the_python_resolution_table(tmp_path):
    """`migstat build` resolves every label with migstat/codes.py (raw.label_resolutions):
    variants and ports per reporting country by alias, a misspelling by fuzzy match with a
    COD-002 warning naming code and score, an unknown label as COD-001 with suggestions."""
    home = Home(tmp_path / "home").ensure()
    flaws = [
        relabel("nationality", "DOM", "Dominicana, Rep."),
        relabel("nationality", "HND", "Hondura"),
        relabel("nationality", "CUB", "Wakandaa"),
        relabel("port", "MEX-CZM", "Otros"),
        relabel("port", "MEX-CUN", "Cancún, A.I."),
    ]
    raw_fixture.write(
        home.raw_db, [raw_fixture.Submission("MEX", "entries_exits", 2023, seed=5, flaws=flaws)]
    )
    done = migstat(home.root, "build", "--json")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with duckdb.connect(str(home.published_db), read_only=True) as con:
        codes = dict(
            con.execute(
                "select distinct nationality_label, coalesce(nationality_code, '?') "
                "from staging.stg_entries_exits__cells "
                "where nationality_label in ('Dominicana, Rep.', 'Hondura', 'Wakandaa') "
                "union all "
                "select distinct port_label, coalesce(port_code, '?') "
                "from staging.stg_entries_exits__cells "
                "where port_label in ('Otros', 'Cancún, A.I.')"
            ).fetchall()
        )
        failures = con.execute(
            "select rule_id, severity, cell, expected, found, message_es, message_en "
            "from marts.quality_rule_failures where rule_id like 'COD-%' order by rule_id, found"
        ).fetchall()
    assert codes == {
        "Dominicana, Rep.": "DOM",
        "Hondura": "HND",
        "Wakandaa": "?",
        "Otros": "MEX-OTH",
        "Cancún, A.I.": "MEX-CUN",
    }
    by_rule = {(rule, found): rest for rule, *rest in failures for found in [rest[3]]}
    assert {key[0] for key in by_rule} == {"COD-001", "COD-002"}
    assert {found for rule, found in by_rule if rule == "COD-002"} == {"Hondura"}
    assert {found for rule, found in by_rule if rule == "COD-001"} == {"Wakandaa"}
    severity, _, expected, _, message_es, message_en = by_rule[("COD-002", "Hondura")]
    assert (severity, expected) == ("warn", "HND")
    assert re.search(
        r"código HND por coincidencia aproximada \(similitud 9\d sobre 100\)", message_es
    )
    assert "approximate match (similarity 9" in message_en
    severity, _, _, _, message_es, message_en = by_rule[("COD-001", "Wakandaa")]
    assert severity == "error"
    suggestions = message_es.split("Códigos más cercanos: ")[1].rstrip(".")
    assert suggestions.count(";") == 2 and re.match(r"[A-Z_]{2,3} \S", suggestions), message_es
    assert suggestions in message_en


def test_dbt_docs_reach_the_products_site_offline_with_every_mart(built, tmp_path):
    from migstat.dbt_docs import external_resources

    site = tmp_path / "site"
    done = migstat(built["home"], "publish", "-o", str(site))
    assert done.returncode == 0, done.stderr[-2000:]
    html = (site / "docs" / "index.html").read_text(encoding="utf-8")
    assert external_resources(html) == []
    marts = {path.stem for path in (PROJECT_ROOT / "models" / "marts").glob("*/*.sql")}
    assert len(marts) == 22
    for mart in marts:
        assert f'"model.migstat.{mart}"' in html, mart


def test_country_profile_charts_by_sex_read_their_mart_and_return_the_former_rows(built):
    """The country profile's two charts by sex read their marts (movements_by_nationality_sex,
    movements_by_nationality_sex_age), not the fact table, and return the rows their former
    query on fct_observations returned: unfiltered and under each native filter of the dashboard
    that reaches them (both on the built sample). A filter whose column the chart's dataset does
    not have is out of the chart's scope (the bundle excludes it), as are the filters listing
    the chart in `exclude`."""
    from test_superset import direct_sql

    from migstat.superset.spec import load_project

    project = load_project()
    dashboard = next(d for d in project.dashboards if d.slug == "country-profile")
    former = {
        "sex_by_flow": {"source": "entries_exits", "sheet": ["ENTRADAS_NAC", "SALIDAS_NAC"]},
        "sex_age_pyramid": {"source": "entries_exits", "sheet": "ENTRADAS_EDAD"},
    }
    marts = {
        "sex_by_flow": "movements_by_nationality_sex",
        "sex_age_pyramid": "movements_by_nationality_sex_age",
    }
    country, year, nationality = query(
        built,
        "select reporting_country_code, year, nationality_code from marts.fct_observations "
        "where sheet = 'ENTRADAS_NAC' group by all order by sum(value) desc limit 1",
    )[0]
    filters = [
        {},
        {"reporting_country_code": country},
        {"year": year},
        {"month": [1, 7]},
        {"sex_code": "F"},
        {"age_group_code": ["Y15T19", "Y_GE65"]},
        {"nationality_code": [nationality, "USA"]},
    ]
    assert {f.column for f in dashboard.filters} == {c for f in filters for c in f}
    for key, where in former.items():
        chart = dashboard.charts[key]
        assert chart.dataset == marts[key]
        old = chart.model_copy(update={"dataset": "fct_observations", "where": where})
        columns = project.dataset_columns(chart.dataset)
        excluded = {
            f.column for f in dashboard.filters if key in f.exclude or f.column not in columns
        }
        reached = 0
        for extra in filters:
            if set(extra) & excluded:
                continue
            reached += 1
            rows = {
                name: sorted((*row[:-1], round(row[-1], 6)) for row in query(built, sql))
                for name, sql in (
                    ("mart", direct_sql(project, chart, extra, limit=False)),
                    ("fact", direct_sql(project, old, extra, limit=False)),
                )
            }
            assert rows["mart"] == rows["fact"], (key, extra)
            if not extra:
                assert rows["mart"], key
        # sex_by_flow: country, year, month, sex and nationality; the pyramid: all but nationality.
        assert reached == {"sex_by_flow": 6, "sex_age_pyramid": 6}[key], key
