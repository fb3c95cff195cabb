"""Every source spec is wired into dbt (the declarations a new source still needs by hand)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from migstat.home import REPO_ROOT
from migstat.specs import load_specs
from migstat.units import COUNTING_UNITS
from migstat.wiring import dbt_vars, missing_declarations

SPECS = load_specs()


def test_every_source_has_its_raw_table_staging_model_and_code_lists() -> None:
    assert missing_declarations(SPECS) == []


def test_dbt_project_var_defaults_follow_the_specs() -> None:
    """Plain dbt runs use the defaults of dbt_project.yml; `migstat build` passes the vars the
    specs give. Both must agree."""
    project = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())
    for name, value in dbt_vars(SPECS).items():
        assert project["vars"][name] == value, (
            f"vars.{name} in dbt_project.yml should be {value} (it follows from specs/sources/)"
        )


def test_missing_declarations_name_the_file_to_write(tmp_path: Path) -> None:
    """A project copy without the staging model, raw table and code list of a source: each
    missing piece is named."""
    for folder in ("models/staging", "seeds"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "models/staging/_sources.yml").write_text(
        "version: 2\nsources: [{name: raw, tables: [{name: asylum}]}]\n"
    )
    (tmp_path / "seeds/code_lists.csv").write_text("codelist,code\nsex,M\n")
    problems = "\n".join(missing_declarations(SPECS, tmp_path))
    assert "declare the table `returns` under source `raw` in models/staging/_sources.yml" in (
        problems
    )
    assert "write models/staging/stg_asylum__cells.sql holding only" in problems
    assert "dimension decision names code list 'asylum_decisions'" in problems
    assert "declare the table `asylum`" not in problems


def test_every_layout_names_known_sheets_members_and_dimensions() -> None:
    for layout in SPECS.layouts.values():
        source = SPECS.source(layout.source)
        for sheet in layout.sheets:
            for reference in [sheet.rows.members, *sheet.columns.members]:
                if reference and not reference.startswith("codelist:") and reference != "ports":
                    assert reference in source.member_lists, (layout.id, sheet.name, reference)
        for group in source.cross_table:
            names = {sheet.name for sheet in layout.sheets}
            if layout.kind == "template":
                assert set(group.sheets) <= names, (layout.id, group.sheets)


def test_each_dashboard_exposure_depends_on_exactly_the_marts_it_reads() -> None:
    exposures = [
        exposure
        for path in sorted((REPO_ROOT / "models/marts").glob("*/_*__exposures.yml"))
        for exposure in yaml.safe_load(path.read_text())["exposures"]
        if exposure["type"] == "dashboard"
    ]
    by_slug = {
        exposure["url"].rstrip("/").rsplit("/", 1)[-1]: {
            ref.removeprefix("ref('").removesuffix("')") for ref in exposure["depends_on"]
        }
        for exposure in exposures
    }
    dashboards = sorted((REPO_ROOT / "superset/dashboards/dashboards").glob("*.yml"))
    assert len(dashboards) == len(by_slug) == 5
    for path in dashboards:
        text = path.read_text()
        slug = yaml.safe_load(text)["slug"]
        read = set(re.findall(r"dataset:\s*([a-z_]+)", text))
        assert by_slug[slug] == read, slug


def test_products_site_exposure_lists_exactly_the_marts_its_queries_read() -> None:
    exposures = yaml.safe_load((REPO_ROOT / "models/marts/core/_core__exposures.yml").read_text())
    (site,) = [e for e in exposures["exposures"] if e["name"] == "products_site"]
    assert site["type"] == "application"
    listed = {ref.removeprefix("ref('").removesuffix("')") for ref in site["depends_on"]}
    products = (REPO_ROOT / "migstat/publish/products.yml").read_text()
    read = set(re.findall(r"marts\.([a-z_]+[a-z])\b", products)) - {"dim"}
    assert listed == read


def test_marts_read_counting_units_from_their_declaration() -> None:
    """A counting unit is declared once, as the measure's ``unit`` in the source spec; the marts
    read it through the macro ``counting_unit`` (var ``migstat_counting_units``), never as a
    literal."""
    units = "|".join(COUNTING_UNITS)
    literal = re.compile(rf"""'({units})'\s+as\s+\w*counting_unit|"'({units})'\"""")
    found = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
        for path in sorted((REPO_ROOT / "models").rglob("*.sql"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert found == [], "use {{ counting_unit('<source>', '<measure>') }}:\n" + "\n".join(found)
