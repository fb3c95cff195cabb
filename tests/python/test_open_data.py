"""Open data: SDMX and JSON-stat files, the static data API, the table builder and ranked search.

The files are exported from a small published warehouse in the marts' shape (``fixtures/marts.py``,
three years). Every SDMX file is read back with sdmx1, a library independent of pysdmx that
wrote them, and checked against its own structure; JSON-stat values are decoded and compared
with the marts queried directly. Browser tests drive Debian's Chromium through Playwright.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import sdmx

from migstat.publish import PublishResult, publish
from migstat.publish.datasets import INDICATOR, dimension_specs
from migstat.publish.export import FORMATS, export
from migstat.specs import load_specs

sys.path.insert(0, str(Path(__file__).parent))
from fixtures.marts import build_fixture_warehouse

YEARS = (2022, 2023, 2024)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Dimension id -> column of a mart, as the datasets derive them from the specs."""
    names = [r[0] for r in con.execute(f"describe {table}").fetchall()]
    return {d.id: d.column for d in (INDICATOR, *dimension_specs(load_specs(), names))}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("open-data")
    return build_fixture_warehouse(root / "warehouse" / "migstat.duckdb", years=YEARS)


@pytest.fixture(scope="module")
def exported(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    result = export(warehouse, out, FORMATS)
    assert result.datasets == len(json.loads((out / "datasets.json").read_text())["datasets"])
    return out


def _catalogue(out: Path) -> list[dict[str, object]]:
    return json.loads((out / "datasets.json").read_text(encoding="utf-8"))["datasets"]


def _marts(warehouse: Path, entry: dict[str, object]) -> dict[tuple[str, ...], tuple]:
    """Observations of a dataset straight from the marts: key -> (value, flag)."""
    dims = [d["id"] for d in entry["dimensions"]]  # type: ignore[index]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        if entry["id"] == "indicators":
            table, where = "marts.indicators", "true"
            params: list[object] = []
        else:
            table = "marts.fct_observations"
            where = (
                "source || case when (select count(*) from marts.dim_sources as s"
                " where s.source = f.source) > 1 then '_' || counting_unit else '' end = ?"
            )
            params = [entry["id"]]

        columns = _columns(con, table)

        def code(dim: str) -> str:
            column = columns[dim]
            if dim == "MONTH":
                return f"coalesce(lpad({column}::varchar, 2, '0'), '_T')"
            return f"coalesce({column}::varchar, '_T')"

        rows = con.execute(
            f"select {', '.join(code(d) for d in dims)}, value, obs_flag "
            f"from {table} as f where {where} order by sheet"
            if table.endswith("fct_observations")
            else f"select {', '.join(code(d) for d in dims)}, value, obs_flag from {table}",
            params,
        ).fetchall()
    finally:
        con.close()
    found: dict[tuple[str, ...], tuple] = {}
    for row in rows:
        found.setdefault(tuple(row[: len(dims)]), (row[-2], row[-1]))
    return found


def test_catalogue_lists_every_source_unit_and_the_indicators(exported: Path) -> None:
    ids = [d["id"] for d in _catalogue(exported)]
    assert ids == sorted(set(ids), key=ids.index)
    assert {"entries_exits", "asylum_applications", "asylum_decisions", "indicators"} <= set(ids)
    for entry in _catalogue(exported):
        for names in entry["files"].values():  # type: ignore[union-attr]
            for name in names:
                assert (exported / name).stat().st_size > 0
        assert entry["title"]["es"] and entry["title"]["en"]  # type: ignore[index]
        assert {"REF_AREA", "TIME_PERIOD"} <= {d["id"] for d in entry["dimensions"]}  # type: ignore[union-attr]


def test_sdmx_reads_back_with_sdmx1_and_matches_structure_and_marts(
    exported: Path, warehouse: Path
) -> None:
    for entry in _catalogue(exported):
        structure = sdmx.read_sdmx(exported / f"{entry['id']}.structure.xml")
        dsd = structure.structure[entry["structure"]["dsd"]]  # type: ignore[index]
        assert entry["structure"]["dataflow"] in structure.dataflow  # type: ignore[index]
        # bilingual: every name in Spanish and English (xml:lang), English also annotated
        dim = dsd.dimensions.get("REF_AREA")
        codelist = dim.local_representation.enumerated
        first = next(iter(codelist))
        for named in (first, codelist, dsd, structure.dataflow[entry["structure"]["dataflow"]]):  # type: ignore[index]
            assert {"es", "en"} <= set(named.name.localizations), named
        assert any(a.type == "NAME_EN" for a in first.annotations)
        message = sdmx.read_sdmx(exported / f"{entry['id']}.sdmx.csv", structure=dsd)
        observations = message.data[0].obs
        dims = [d["id"] for d in entry["dimensions"]]  # type: ignore[union-attr]
        allowed = {
            d: {c.id for c in dsd.dimensions.get(d).local_representation.enumerated} for d in dims
        }
        flags = {c.id for c in dsd.attributes.get("OBS_STATUS").local_representation.enumerated}
        read: dict[tuple[str, ...], tuple] = {}
        for obs in observations:
            key = tuple(str(obs.dimension.values[d].value) for d in dims)
            for d, value in zip(dims, key, strict=True):
                assert value in allowed[d], f"{entry['id']}: {d}={value} not in its code list"
            flag = obs.attached_attribute["OBS_STATUS"].value or None
            assert flag is None or flag in flags
            read[key] = (obs.value, flag)
        assert len(read) == len(observations) == entry["observations"]
        expected = _marts(warehouse, entry)
        assert read.keys() == expected.keys(), entry["id"]
        for key, (value, flag) in expected.items():
            got_value, got_flag = read[key]
            assert (
                (got_value is None or got_value != got_value)
                if value is None
                else (float(got_value) == pytest.approx(value))
            ), (entry["id"], key)
            assert got_flag == flag, (entry["id"], key)


def _decode(document: dict[str, object]) -> dict[tuple[str, ...], tuple]:
    ids = document["id"]
    size = document["size"]
    index = [document["dimension"][d]["category"]["index"] for d in ids]  # type: ignore[index]
    values = document["value"]
    status = document["status"]
    items = (
        enumerate(values) if isinstance(values, list) else ((int(k), v) for k, v in values.items())  # type: ignore[union-attr]
    )
    out = {}
    for flat, value in items:
        if value is None and str(flat) not in status:  # type: ignore[operator]
            continue
        key, rest = [], flat
        for n, codes in zip(reversed(size), reversed(index), strict=True):  # type: ignore[arg-type]
            key.append(codes[rest % n])
            rest //= n
        out[tuple(reversed(key))] = (value, status.get(str(flat)))  # type: ignore[union-attr]
    return out


def test_jsonstat_values_equal_marts(exported: Path, warehouse: Path) -> None:
    for entry in _catalogue(exported):
        expected = {k: v for k, v in _marts(warehouse, entry).items() if v[0] is not None or v[1]}
        for name in entry["files"]["json-stat"]:  # type: ignore[index]
            document = json.loads((exported / name).read_text(encoding="utf-8"))
            assert document["version"] == "2.0" and document["class"] == "dataset"
            assert document["size"] == [
                len(document["dimension"][d]["category"]["index"]) for d in document["id"]
            ]
            got = _decode(document)
            assert got.keys() == expected.keys(), name
            for key, (value, flag) in expected.items():
                assert got[key][1] == flag
                assert got[key][0] == pytest.approx(value), (name, key)
        es = json.loads((exported / f"{entry['id']}.json").read_text(encoding="utf-8"))
        en = json.loads((exported / f"{entry['id']}.en.json").read_text(encoding="utf-8"))
        assert es["dimension"]["TIME_PERIOD"]["label"] == "Año"
        assert en["dimension"]["TIME_PERIOD"]["label"] == "Year"


def test_export_cli_one_dataset_and_clear_errors(warehouse: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "warehouse").mkdir(parents=True)
    (home / "warehouse" / "migstat.duckdb").write_bytes(warehouse.read_bytes())
    env = {**os.environ, "MIGSTAT_HOME": str(home)}
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "migstat", "export", "--format", "sdmx-csv", "--format",
         "json-stat", "--dataset", "asylum_decisions", "-o", str(out), "--json"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["datasets"] == 1
    assert sorted(p.name for p in out.iterdir()) == [
        "asylum_decisions.en.json",
        "asylum_decisions.json",
        "asylum_decisions.sdmx.csv",
        "datasets.json",
    ]
    bad = subprocess.run(
        [sys.executable, "-m", "migstat", "export", "--format", "sdmx", "-o", str(out)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode != 0 and "sdmx-csv" in bad.stderr + bad.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "migstat", "export", "--format", "sdmx-csv", "-d", "nope", "-o",
         str(out)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert missing.returncode != 0 and "asylum_decisions" in missing.stderr + missing.stdout


# ----------------------------------------------------------------------------- the site


@pytest.fixture(scope="module")
def site(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> PublishResult:
    return publish(warehouse, tmp_path_factory.mktemp("site") / "site", workers=2)


def test_site_publishes_api_docs_builder_and_product_jsonstat(site: PublishResult) -> None:
    root = site.site_dir
    catalogue = json.loads((root / "api" / "v1" / "datasets.json").read_text(encoding="utf-8"))
    for entry in catalogue["datasets"]:
        for names in entry["files"].values():
            for name in names:
                assert (root / "api" / "v1" / name).exists()
    for lang in ("es", "en"):
        assert (root / lang / "builder" / "index.html").exists()
        page = (root / lang / "api" / "index.html").read_text(encoding="utf-8")
        assert "pandas" in page and "read.csv" in page and "curl" in page
    products = json.loads((root / "products.json").read_text(encoding="utf-8"))
    product = products[0]["id"]
    document = json.loads((root / "es" / "downloads" / f"{product}.json").read_text("utf-8"))
    with (root / "es" / "downloads" / f"{product}.csv").open(encoding="utf-8-sig") as f:
        text = f.read()
    values = document["value"]
    numbers = values if isinstance(values, list) else list(values.values())
    assert document["version"] == "2.0" and any(v is not None for v in numbers)
    assert document["label"].split(".")[0] in text


@pytest.fixture(scope="module")
def served(site: PublishResult) -> Iterator[str]:
    from migstat.publish.serve import start_server

    server = start_server(site.site_dir)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def page(browser: object, served: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    outside: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(served) else outside.append(r.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert outside == [], f"requests outside the site: {outside}"
    assert errors == [], f"script errors: {errors}"


@pytest.mark.slow
def test_browser_search_ranks_country_and_title_first(page: object, served: str) -> None:
    page.goto(f"{served}/es/index.html")  # type: ignore[attr-defined]
    page.fill("#q", "asilo mexico")  # type: ignore[attr-defined]
    cards = page.locator("#products > li:not([hidden])")  # type: ignore[attr-defined]
    assert cards.count() > 3
    countries = [cards.nth(i).get_attribute("data-country") for i in range(cards.count())]
    sources = [cards.nth(i).get_attribute("data-source") for i in range(cards.count())]
    mexico = [i for i, c in enumerate(countries) if c == "MEX"]
    assert mexico and mexico == list(range(len(mexico))), countries
    assert all(s == "asylum" for s in sources[: len(mexico)])
    assert any(c != "MEX" for c in countries)  # others still listed (Mexico in their rows)
    page.fill("#q", "ASILO MÉXICO")  # type: ignore[attr-defined]
    again = [cards.nth(i).get_attribute("data-country") for i in range(cards.count())]
    assert again == countries
    page.goto(f"{served}/en/index.html")  # type: ignore[attr-defined]
    page.fill("#q", "asylum mexico")  # type: ignore[attr-defined]
    first = page.locator("#products > li:not([hidden])").first  # type: ignore[attr-defined]
    assert first.get_attribute("data-country") == "MEX"


def _table(page: object) -> dict[tuple[str, str], str]:
    cells = page.locator("#table tbody td")  # type: ignore[attr-defined]
    return {
        (
            cells.nth(i).evaluate("td => td.parentElement.dataset.row"),
            cells.nth(i).get_attribute("data-col"),
        ): cells.nth(i).get_attribute("data-value")
        for i in range(cells.count())
    }


def _choose(page: object, dim: str, codes: list[str]) -> None:
    box = page.locator(f'fieldset[data-dim="{dim}"]')  # type: ignore[attr-defined]
    box.locator("[data-none]").click()
    for code in codes:
        box.locator(f'input[type="checkbox"][value="{code}"]').check()


@pytest.mark.slow
def test_browser_builder_builds_downloads_and_shares_a_table(
    page: object, served: str, warehouse: Path, tmp_path: Path
) -> None:
    page.goto(f"{served}/es/builder/index.html")  # type: ignore[attr-defined]
    page.select_option("#dataset", "asylum_applications")  # type: ignore[attr-defined]
    page.wait_for_selector('#builder[data-ready="asylum_applications"]')  # type: ignore[attr-defined]
    _choose(page, "REF_AREA", ["MEX"])
    _choose(page, "NATIONALITY", ["GTM", "HND"])
    _choose(page, "TIME_PERIOD", ["2022", "2023", "2024"])
    _choose(page, "SEX", ["M", "F"])
    _choose(page, "MONTH", ["_T"])
    _choose(page, "AGE", ["_T"])
    page.select_option('select[data-place="TIME_PERIOD"]', "rows")  # type: ignore[attr-defined]
    page.select_option('select[data-place="SEX"]', "columns")  # type: ignore[attr-defined]
    table = _table(page)
    con = duckdb.connect(str(warehouse), read_only=True)
    expected = {
        (f"MEX|{year}|_T|{nat}|_T", sex): value
        for year, nat, sex, value in con.execute(
            "select year::varchar, nationality_code, sex_code, value from marts.fct_observations "
            "where source = 'asylum' and counting_unit = 'applications' and breakdown = "
            "'nationality,sex' and reporting_country_code = 'MEX' and nationality_code in "
            "('GTM', 'HND') and sex_code in ('M', 'F')"
        ).fetchall()
    }
    con.close()
    assert len(expected) == 12 and len(table) == 12
    for key, value in expected.items():
        assert float(table[key]) == value, key
    # the row headers are the labels as published
    headers = page.locator("#table tbody tr").first.locator("th").all_inner_texts()  # type: ignore[attr-defined]
    assert headers[0] == "México" and "Guatemala" in page.inner_text("#table")  # type: ignore[attr-defined]
    # downloads
    with page.expect_download() as info:  # type: ignore[attr-defined]
        page.click("#dl-csv")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text("utf-8-sig"))))
    assert len(rows) == 1 + 6 and rows[0][-4:] == ["Hombres", "Marca", "Mujeres", "Marca"]
    downloaded = sorted(float(v) for r in rows[1:] for v in (r[-4], r[-2]))
    assert downloaded == sorted(expected.values())
    with page.expect_download() as info:  # type: ignore[attr-defined]
        page.click("#dl-xlsx")  # type: ignore[attr-defined]
    from openpyxl import load_workbook

    xlsx = tmp_path / "table.xlsx"
    xlsx.write_bytes(Path(info.value.path()).read_bytes())
    assert zipfile.ZipFile(xlsx).testzip() is None
    sheet = load_workbook(xlsx).active
    numbers = sorted(
        c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, float | int)
    )
    assert numbers == sorted(expected.values())
    with page.expect_download() as info:  # type: ignore[attr-defined]
        page.click("#dl-json")  # type: ignore[attr-defined]
    document = json.loads(Path(info.value.path()).read_text("utf-8"))
    assert document["size"] == [1, 3, 1, 2, 1, 2] and sorted(document["value"]) == sorted(
        expected.values()
    )
    # the shared address rebuilds the same table in a fresh page
    address = page.get_attribute("#share", "href")  # type: ignore[attr-defined]
    other = page.context.new_page()  # type: ignore[attr-defined]
    other.goto(address)
    other.wait_for_selector('#builder[data-ready="asylum_applications"]')
    assert _table(other) == table
    assert other.inner_html("#table") == page.inner_html("#table")  # type: ignore[attr-defined]
    other.close()


@pytest.mark.slow
def test_browser_builder_is_keyboard_usable(page: object, served: str) -> None:
    page.goto(f"{served}/en/builder/index.html")  # type: ignore[attr-defined]
    page.wait_for_selector("#builder[data-ready]")  # type: ignore[attr-defined]
    page.focus("#dataset")  # type: ignore[attr-defined]
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    focused = page.evaluate("document.activeElement.closest('fieldset').dataset.dim")  # type: ignore[attr-defined]
    assert focused
    box = page.locator(f'fieldset[data-dim="{focused}"]')  # type: ignore[attr-defined]
    first = box.locator('input[type="checkbox"]').first
    first.focus()
    before = first.is_checked()
    page.keyboard.press("Space")  # type: ignore[attr-defined]
    assert first.is_checked() != before
    assert page.inner_text("h1") == "Table builder"  # type: ignore[attr-defined]


def test_datasets_do_not_depend_on_the_physical_order_of_rows(
    warehouse: Path, tmp_path: Path
) -> None:
    """The published files (and the digest that decides whether the data API is rewritten)
    must be the same whatever order DuckDB returns rows in: under load, parallel scans return
    unordered rows in another order, which once rewrote the whole site on an unchanged warehouse."""
    from migstat.publish.data import Warehouse
    from migstat.publish.site import datasets_digest

    shuffled = tmp_path / "shuffled.duckdb"
    shuffled.write_bytes(warehouse.read_bytes())
    con = duckdb.connect(str(shuffled))
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in ('marts', 'codes')"
        ).fetchall()
        assert tables
        for schema, name in tables:
            con.execute(
                f"create table {schema}.{name}__r as "
                f"select * from {schema}.{name} order by all desc"
            )
            con.execute(f"drop table {schema}.{name}")
            con.execute(f"alter table {schema}.{name}__r rename to {name}")
    finally:
        con.close()
    from migstat.publish.datasets import load_datasets
    from migstat.publish.export import write_datasets

    with Warehouse(warehouse) as original, Warehouse(shuffled) as reordered:
        first, second = load_datasets(original), load_datasets(reordered)
        write_datasets(original, first, tmp_path / "first")
        write_datasets(reordered, second, tmp_path / "second")
    assert [d.id for d in first] == [d.id for d in second]
    assert datasets_digest(first, tmp_path / "first") == datasets_digest(
        second, tmp_path / "second"
    )
