"""Statistical products: catalogue completeness, numbers equal to the marts, the site in a browser.

Fast tests publish from a small warehouse in the marts' shape (``fixtures/marts.py``). Slow tests
run the real pipeline once (sample -> load -> build into a temporary MIGSTAT_HOME), publish the
site from it, compare the downloads with the marts and drive the site in a real headless
Chromium (Debian package) through Playwright; screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from fixtures.marts import build_fixture_warehouse, contract
from openpyxl import load_workbook

from migstat.errors import MigstatError
from migstat.publish import PublishResult, publish
from migstat.publish.catalogue import load_catalogue
from migstat.publish.charts import Series, render_chart
from migstat.publish.data import Warehouse
from migstat.publish.i18n import fold, format_number
from migstat.specs import load_specs

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "publish"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PublishResult]:
    root = tmp_path_factory.mktemp("publish-fixture")
    db = build_fixture_warehouse(root / "warehouse" / "migstat.duckdb")
    return db, publish(db, root / "site", workers=1)


def _migstat(home: Path, *args: str, ok: tuple[int, ...] = (0,)) -> None:
    env = {**os.environ, "MIGSTAT_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "migstat", *args], env=env, capture_output=True, text=True
    )
    assert done.returncode in ok, f"migstat {' '.join(args)}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="session")
def pipeline_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PublishResult]:
    """The real pipeline on the sample workbooks, then ``migstat publish`` through the CLI."""
    home = tmp_path_factory.mktemp("publish-pipeline")
    _migstat(home, "sample", "-o", str(home / "inbox"))
    _migstat(home, "load", str(home / "inbox"), ok=(0, 1))
    _migstat(home, "build")
    env = {**os.environ, "MIGSTAT_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "migstat", "publish"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    match = re.search(
        r"published (\d+) products in ([\d.]+) s \((?:[^;)]*; )?([\d.]+) MB[;)]", done.stdout
    )
    assert match, done.stdout
    assert f"open {(home / 'site' / 'index.html').as_uri()}" in done.stdout
    site = home / "site"
    result = PublishResult(
        products=int(match[1]),
        seconds=float(match[2]),
        size_bytes=int(float(match[3]) * 1_000_000),
        site_dir=site,
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "publish-measure.txt").write_text(
        f"products {result.products}\nseconds {result.seconds}\nsize_mb {match[3]}\n"
    )
    return home / "warehouse" / "migstat.duckdb", result


# ----------------------------------------------------------------------------- helpers


def read_csv(path: Path) -> tuple[dict[str, str], list[str], list[list[str]]]:
    """Metadata lines, the data header and the data lines of a product CSV."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    blank = lines.index([])
    meta = {line[0]: line[1] for line in lines[:blank]}
    return meta, lines[blank + 1], lines[blank + 2 :]


def manifest(site: Path) -> list[dict]:
    return json.loads((site / "products.json").read_text(encoding="utf-8"))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("products/"):
            self.hrefs.append(href)


def as_number(text: str) -> float | None:
    return None if text == "" else float(text)


def check_catalogue_complete(site: Path, result: PublishResult) -> None:
    products = manifest(site)
    assert len(products) == result.products
    assert len({p["id"] for p in products}) == len(products)
    catalogue = load_catalogue()
    charted = {p.id for p in catalogue.products if p.chart}
    for lang in ("es", "en"):
        parser = _Links()
        parser.feed((site / lang / "index.html").read_text(encoding="utf-8"))
        assert sorted(parser.hrefs) == sorted(f"products/{p['id']}.html" for p in products)
        for product in products:
            stem = product["id"]
            assert (site / lang / "products" / f"{stem}.html").is_file(), stem
            assert (site / lang / "downloads" / f"{stem}.csv").is_file(), stem
            assert (site / "downloads" / f"{stem}.xlsx").is_file(), stem
            has_svg = (site / lang / "downloads" / f"{stem}.svg").is_file()
            assert has_svg == (product["spec"] in charted), stem


def check_pages_carry_unit_and_flags(site: Path) -> None:
    for product in manifest(site):
        for lang, unit, flags in (
            ("es", "Unidad de conteo", "Marcas de observación"),
            ("en", "Counting unit", "Observation flags"),
        ):
            page = (site / lang / "products" / f"{product['id']}.html").read_text("utf-8")
            assert f'<html lang="{lang}">' in page
            assert unit in page and flags in page, product["id"]
            assert '<th scope="col">' in page and '<th scope="row">' in page
            assert re.search(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", page) is None


def check_downloads_equal_queries(site: Path, db: Path, *, all_xlsx: bool) -> None:
    """Every number of every CSV equals its product query on the marts, and so does every XLSX
    (``all_xlsx``) or one XLSX per product spec and country (opening 800 workbooks is slow)."""
    catalogue = load_catalogue()
    specs = {p.id: p for p in catalogue.products}
    seen: set[tuple[str, str]] = set()
    with Warehouse(db) as warehouse:
        for product in manifest(site):
            spec = specs[product["spec"]]
            table = warehouse.table(spec, _typed(product["params"]))
            expected = {
                (r.code, c.code): table.cell(r.code, c.code).value
                for r in table.rows
                for c in table.columns
            }
            _, _, lines = read_csv(site / "es" / "downloads" / f"{product['id']}.csv")
            found = {(line[0], line[2]): as_number(line[4]) for line in lines}
            assert found == pytest.approx(expected), product["id"]
            _, _, english = read_csv(site / "en" / "downloads" / f"{product['id']}.csv")
            assert [line[4] for line in english] == [line[4] for line in lines]
            key = (product["spec"], product["params"].get("country", ""))
            if not all_xlsx and key in seen:
                continue
            seen.add(key)
            book = load_workbook(site / "downloads" / f"{product['id']}.xlsx", read_only=True)
            assert book.sheetnames == ["Cuadro", "Datos", "Table", "Data"]
            for sheet in ("Datos", "Data"):
                data = list(book[sheet].iter_rows(min_row=2, values_only=True))
                found = {(r[0], r[2]): r[4] for r in data}
                assert found == pytest.approx(expected), product["id"]
            labels = {r.es for r in table.rows}
            shown = [
                value
                for row in book["Cuadro"].iter_rows(values_only=True)
                if row and row[0] in labels
                for value in row[1:]
            ]
            wanted = [table.cell(r.code, c.code).value for r in table.rows for c in table.columns]
            assert shown == pytest.approx(wanted), product["id"]


def _typed(params: dict[str, str]) -> dict[str, object]:
    return {k: int(v) if k in ("year", "first_year", "last_year") else v for k, v in params.items()}


def _products(site: Path, spec: str) -> list[dict]:
    return [p for p in manifest(site) if p["spec"] == spec]


def check_against_marts(site: Path, db: Path) -> None:
    """Hand-written queries on the marts, independent of products.yml, for key products."""
    con = duckdb.connect(str(db), read_only=True)
    checks = {
        "entries-by-nationality": (
            "select nationality_code, 'value', movements from marts.movements_by_nationality"
            " where reporting_country_code = $country and year = $year and flow_code = 'ENT'"
        ),
        "permits-by-nationality-type": (
            "select nationality_code, permit_type_code, permits"
            " from marts.permits_by_type_nationality where reporting_country_code = $country"
            " and year = $year and source = $source"
        ),
        "returns-by-country-from": (
            "select country_from_code, 'value', returnees from marts.returns_by_origin_sex_age"
            " where reporting_country_code = $country and year = $year"
            " and breakdown = 'country_from'"
        ),
        "irregular-by-nationality-sex": (
            "select nationality_code, sex_code, presentations"
            " from marts.irregular_foreigners_by_nationality_sex_age"
            " where reporting_country_code = $country and year = $year"
            " and breakdown = 'nationality_sex'"
        ),
    }
    try:
        for spec, sql in checks.items():
            products = _products(site, spec)
            assert products, spec
            for product in products:
                params = _typed(product["params"])
                used = {k: params[k] for k in re.findall(r"\$(\w+)", sql)}
                expected = {(r[0], r[1]): r[2] for r in con.execute(sql, used).fetchall()}
                _, _, lines = read_csv(site / "en" / "downloads" / f"{product['id']}.csv")
                found = {(line[0], line[2]): as_number(line[4]) for line in lines}
                assert {k: v for k, v in found.items() if k in expected} == pytest.approx(
                    expected
                ), product["id"]
                assert set(found) - set(expected) <= {(k[0], "_T") for k in expected}
        for product in _products(site, "asylum-decisions-by-type"):
            params = _typed(product["params"])
            row = con.execute(
                "select decisions_recognised, decisions_complementary, decisions_rejected,"
                " decisions_closed, decisions_total from marts.asylum_yearly"
                " where reporting_country_code = $country and year = $year",
                {"country": params["country"], "year": params["year"]},
            ).fetchone()
            _, _, lines = read_csv(site / "es" / "downloads" / f"{product['id']}.csv")
            found = {line[0]: as_number(line[4]) for line in lines}
            assert [found[c] for c in ("REC", "CPR", "REJ", "CLO", "_T")] == pytest.approx(
                list(row)
            )
        indicators = [p for p in _products(site, "compare") if p["params"]["flow"] == "all"]
        assert indicators
        for product in indicators:
            params = _typed(product["params"])
            expected = dict(
                con.execute(
                    "select reporting_country_code, sum(value) from marts.indicators"
                    " where indicator_id = $indicator and year = $year and month is null"
                    " and flow_code is null group by 1",
                    {"indicator": params["indicator"], "year": params["year"]},
                ).fetchall()
            )
            _, _, lines = read_csv(site / "es" / "downloads" / f"{product['id']}.csv")
            totals: dict[str, float] = {}
            for line in lines:
                if line[4] != "":
                    totals[line[0]] = totals.get(line[0], 0.0) + float(line[4])
            assert totals == pytest.approx(expected), product["id"]
    finally:
        con.close()


# ----------------------------------------------------------------------------- fast tests


def test_catalogue_is_valid_and_declarative() -> None:
    catalogue = load_catalogue()
    assert {p.scope for p in catalogue.products} <= set(catalogue.scopes)
    country_specs = [p for p in catalogue.products if p.scope == "country_source_year"]
    covered = {s for p in country_specs for s in p.sources}
    assert covered == set(load_specs().sources), "every source has products (own or default)"
    shipped = load_catalogue(with_defaults=False)
    assert len(shipped.products) == len(catalogue.products), "no shipped source needs defaults"


def test_fold_and_number_formats() -> None:
    assert fold("Migración ÁSILO Niño") == "migracion asilo nino"
    assert format_number(1234567, "es") == "1\u202f234\u202f567"
    assert format_number(1234567, "en") == "1,234,567"
    assert format_number(12.5, "es", 1) == "12,5"


def test_chart_is_accessible_svg() -> None:
    svg = render_chart(
        "stacked_hbar",
        ["Nicaragua", "Honduras"],
        [Series("Hombres", [10, 20]), Series("Mujeres", [5, None])],
        chart_id="c1",
        title="Solicitudes de asilo",
        fmt=lambda v: f"{v:.0f}",
        lang="es",
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Solicitudes de asilo</title>' in svg
    assert "Valor más alto: Honduras (Hombres), 20" in svg
    assert svg.count("<rect") >= 4
    negative = render_chart(
        "stacked_bar",
        ["2023", "2024"],
        [Series("Saldo", [-5, 7])],
        chart_id="c2",
        title="Saldo",
        fmt=str,
        lang="en",
    )
    assert "chart-bar" in negative


def test_fixture_site_is_complete(fixture_site: tuple[Path, PublishResult]) -> None:
    _, result = fixture_site
    assert result.products > 100
    check_catalogue_complete(result.site_dir, result)
    check_pages_carry_unit_and_flags(result.site_dir)


def test_fixture_downloads_equal_marts(fixture_site: tuple[Path, PublishResult]) -> None:
    db, result = fixture_site
    check_downloads_equal_queries(result.site_dir, db, all_xlsx=True)
    check_against_marts(result.site_dir, db)


def test_csv_and_xlsx_carry_metadata(fixture_site: tuple[Path, PublishResult]) -> None:
    _, result = fixture_site
    product = next(
        p
        for p in manifest(result.site_dir)
        if p["id"] == "gtm-2024-irregular-foreigners-irregular-by-nationality-sex"
    )
    meta, header, lines = read_csv(result.site_dir / "es" / "downloads" / f"{product['id']}.csv")
    assert meta["Título"].startswith("Extranjeros presentados")
    assert meta["Unidad de conteo"].startswith("eventos")
    assert "b = ruptura de serie" in meta["Marcas en este producto"]
    assert "p = provisional" in meta["Marcas de observación"]
    assert meta["Fuente"].startswith("Guatemala") or "Guatemala" in meta["Fuente"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", meta["Fecha de extracción"])
    assert any(k.startswith("Notas") for k in meta)
    assert header[-2:] == ["Valor", "Marca"]
    assert {line[5] for line in lines} == {"b"}
    book = load_workbook(result.site_dir / "downloads" / f"{product['id']}.xlsx")
    sheet = book["Table"]
    assert sheet["A1"].value.startswith("Foreigners presented")
    labels = [row[0] for row in sheet.iter_rows(values_only=True)]
    for label in ("Counting unit", "Observation flags", "Flags in this product", "Source"):
        assert label in labels
    assert any('" b"' in cell.number_format for row in sheet.iter_rows() for cell in row)


def test_publish_refuses_a_folder_that_is_not_a_site(
    fixture_site: tuple[Path, PublishResult], tmp_path: Path
) -> None:
    db, _ = fixture_site
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(MigstatError, match="not a migstat site"):
        publish(db, tmp_path, workers=1)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_publish_without_warehouse_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(MigstatError, match="migstat build"):
        publish(tmp_path / "missing.duckdb", tmp_path / "site", workers=1)


# ----------------------------------------------------------------------------- slow tests


@pytest.mark.slow
def test_pipeline_site_is_complete(pipeline_site: tuple[Path, PublishResult]) -> None:
    _, result = pipeline_site
    assert result.products > 300
    check_catalogue_complete(result.site_dir, result)
    check_pages_carry_unit_and_flags(result.site_dir)


@pytest.mark.slow
def test_pipeline_downloads_equal_marts(pipeline_site: tuple[Path, PublishResult]) -> None:
    db, result = pipeline_site
    check_downloads_equal_queries(result.site_dir, db, all_xlsx=False)
    check_against_marts(result.site_dir, db)


@pytest.fixture
def served(pipeline_site: tuple[Path, PublishResult]) -> Iterator[str]:
    from migstat.publish.serve import start_server

    server = start_server(pipeline_site[1].site_dir)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def page(browser: object, served: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    errors: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(served) else outside.append(request.url),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert outside == [], f"requests outside the site: {outside}"
    assert errors == [], f"script errors: {errors}"


def visible_count(page: object) -> int:
    return page.locator("#products > li:not([hidden])").count()


def search(page: object, words: str) -> int:
    page.fill("#q", words)
    return visible_count(page)


@pytest.mark.slow
def test_browser_search_ignores_accents_and_case(page: object, served: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{served}/es/index.html")
    total = visible_count(page)
    assert int(page.inner_text("#count-n")) == total
    with_accent = search(page, "migración")
    assert 0 < with_accent < total
    assert search(page, "migracion") == with_accent
    assert search(page, "MIGRACIÓN") == with_accent
    asylum = search(page, "asilo")
    assert 0 < asylum < total
    themes = page.eval_on_selector_all(
        "#products > li:not([hidden])", "items => items.map(i => i.dataset.theme)"
    )
    assert set(themes) == {"asylum"}
    page.screenshot(path=str(ARTIFACTS / "catalogue-search-asilo.png"))
    nicaragua = search(page, "Nicaragua")
    assert nicaragua > 0
    assert search(page, "nicaragua") == nicaragua
    countries = page.eval_on_selector_all(
        "#products > li:not([hidden])", "items => items.map(i => i.dataset.country)"
    )
    assert "NIC" in countries
    assert search(page, "solicitudes asilo nicaragua") > 0
    assert search(page, "zzzz-nothing") == 0
    assert page.is_visible("#empty")


@pytest.mark.slow
def test_browser_filters_narrow_and_url_restores_view(page: object, served: str) -> None:
    page.goto(f"{served}/es/index.html")
    total = visible_count(page)
    page.select_option("#f-country", "NIC")
    by_country = visible_count(page)
    assert 0 < by_country < total
    years = page.eval_on_selector_all(
        "#f-year option", "options => options.map(o => o.value).filter(Boolean)"
    )
    page.select_option("#f-year", years[0])
    by_year = visible_count(page)
    assert 0 < by_year < by_country
    page.select_option("#f-breakdown", "sex")
    by_sex = visible_count(page)
    assert 0 < by_sex < by_year
    page.fill("#q", "asilo")
    narrowed = visible_count(page)
    assert 0 < narrowed < by_sex
    url = page.url
    for part in ("country=NIC", f"year={years[0]}", "breakdown=sex", "q=asilo"):
        assert part in url
    assert "country=NIC" in page.get_attribute("#lang-switch", "href")
    page.screenshot(path=str(ARTIFACTS / "catalogue-filtered.png"), full_page=True)
    fresh = page.context.new_page()
    fresh.goto(url)
    assert visible_count(fresh) == narrowed
    assert fresh.input_value("#q") == "asilo"
    assert fresh.input_value("#f-country") == "NIC"
    english = url.replace("/es/index.html", "/en/index.html")
    fresh.goto(english)
    assert visible_count(fresh) == narrowed
    assert fresh.locator("html").get_attribute("lang") == "en"
    fresh.close()
    page.click("#clear")
    assert visible_count(page) == total


@pytest.mark.slow
def test_browser_product_page_renders_graph(page: object, served: str) -> None:
    page.goto(f"{served}/es/index.html?country=MEX&q=entradas+nacionalidad+sexo")
    assert visible_count(page) >= 1
    page.click("#products > li:not([hidden]) a")
    svg = page.locator("figure.graph svg[role=img]")
    svg.wait_for()
    box = svg.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 150
    assert svg.get_attribute("aria-labelledby")
    assert "Entradas por nacionalidad y sexo" in svg.locator("title").first.text_content()
    assert page.locator("figure.graph svg rect[fill^='#0']").count() > 5
    assert page.locator("table.data th[scope=row]").count() > 3
    assert "Unidad de conteo" in page.inner_text(".facts")
    page.screenshot(path=str(ARTIFACTS / "product-es.png"), full_page=True)
    page.click("#lang-switch")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Counting unit" in page.inner_text(".facts")
    page.screenshot(path=str(ARTIFACTS / "product-en.png"), full_page=True)


@pytest.mark.slow
def test_browser_keyboard_reaches_search(page: object, served: str) -> None:
    page.goto(f"{served}/es/index.html")
    reached = []
    for _ in range(6):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("document.activeElement.id || document.activeElement.className")
        )
        if reached[-1] == "q":
            break
    assert reached[0] == "skip"
    assert "q" in reached
    page.keyboard.type("asilo")
    assert visible_count(page) > 0
    page.screenshot(path=str(ARTIFACTS / "catalogue-keyboard.png"))


# ----------------------------------------------------------------------------- incremental


def _snapshot(site: Path) -> dict[str, tuple[int, int]]:
    """Every file of a site with its inode and modification time (a rewrite changes either)."""
    return {
        f.relative_to(site).as_posix(): (f.stat().st_ino, f.stat().st_mtime_ns)
        for f in site.rglob("*")
        if f.is_file()
    }


def _product_snapshot(site: Path, product_id: str) -> dict[str, tuple[int, int]]:
    from migstat.publish.site import product_files

    return {
        f.relative_to(site).as_posix(): (f.stat().st_ino, f.stat().st_mtime_ns)
        for f in product_files(site, product_id)
        if f.exists()
    }


def test_publish_rerenders_only_products_whose_data_changed(tmp_path: Path) -> None:
    from migstat.publish.site import DIGESTS_FILE

    db = build_fixture_warehouse(tmp_path / "warehouse" / "migstat.duckdb")
    site = tmp_path / "site"
    first = publish(db, site, workers=1)
    assert first.rendered == first.products > 0
    digests = json.loads((site / DIGESTS_FILE).read_text(encoding="utf-8"))["products"]
    assert set(digests) == {p["id"] for p in manifest(site)}

    # A second publish with no data change rewrites nothing at all.
    before = _snapshot(site)
    second = publish(db, site, workers=1)
    assert (second.products, second.rendered) == (first.products, 0)
    assert _snapshot(site) == before

    # A change only the data API shows (the submissions a dataset comes from) rewrites the API
    # and no product.
    catalogue_file = site / "api" / "v1" / "datasets.json"
    pages_before = {p["id"]: _product_snapshot(site, p["id"]) for p in manifest(site)}
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.fct_observations set submission_id = 1")
        con.execute(
            "create table marts.quality_submissions as select distinct submission_id, source, "
            "'renombrado.xlsx' as file_name from marts.fct_observations"
        )
    api_only = publish(db, site, workers=1)
    assert api_only.rendered == 0
    assert "renombrado.xlsx" in catalogue_file.read_text(encoding="utf-8")
    assert {p["id"]: _product_snapshot(site, p["id"]) for p in manifest(site)} == pages_before

    # One country's asylum rejections change: only the products showing them are rendered.
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update marts.asylum_yearly set decisions_rejected = decisions_rejected + 7, "
            "decisions_total = decisions_total + 7 "
            "where reporting_country_code = 'GTM' and year = 2024"
        )
    products = {p["id"] for p in manifest(site)}
    old_files = {pid: _product_snapshot(site, pid) for pid in products}
    third = publish(db, site, workers=1)
    new_digests = json.loads((site / DIGESTS_FILE).read_text(encoding="utf-8"))["products"]
    changed = {pid for pid in products if new_digests[pid] != digests[pid]}
    assert changed, "the change must reach at least one product"
    assert third.rendered == len(changed) < third.products
    for pid in products:
        now = _product_snapshot(site, pid)
        assert set(now) == set(old_files[pid]), pid
        if pid in changed:
            assert all(now[f] != old_files[pid][f] for f in now), f"{pid} was not rendered again"
        else:
            assert now == old_files[pid], f"{pid} did not change but was rewritten"
    # What was rendered again is what shows the changed number, and it shows the new value.
    assert changed == {"gtm-2024-asylum-asylum-decisions-by-type"}
    check_downloads_equal_queries(site, db, all_xlsx=False)

    # --full renders everything again.
    full = publish(db, site, workers=1, full=True)
    assert full.rendered == full.products


def test_fixture_marts_are_typed_by_the_contract(tmp_path: Path) -> None:
    """The fast tests' warehouse cannot drift from the marts: each table it writes has exactly
    the columns and types of that mart's enforced contract."""
    db = build_fixture_warehouse(tmp_path / "migstat.duckdb")
    with duckdb.connect(str(db), read_only=True) as con:
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()]  # fmt: skip
        assert {"fct_observations", "indicators", "dim_sources"} <= set(marts)
        for mart in marts:
            found = [
                (name, data_type.lower())
                for name, data_type in con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                    [mart],
                ).fetchall()
            ]
            # The contract spells types portably (`string`); DuckDB names them its own way.
            expected = [
                (name, con.execute(f"select typeof(cast(null as {data_type}))").fetchall()[0][0])
                for name, data_type in contract()[mart]
            ]
            assert found == [(n, t.lower()) for n, t in expected], mart
