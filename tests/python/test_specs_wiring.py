"""Every source spec is wired into dbt (the four declarations a new source needs)."""

from __future__ import annotations

import re

import yaml

from migstat.home import REPO_ROOT
from migstat.specs import load_specs

SPECS = load_specs()


def test_every_source_has_its_raw_table_staging_model_and_dbt_var() -> None:
    sources_yml = yaml.safe_load((REPO_ROOT / "models/staging/_sources.yml").read_text())
    raw_tables = {
        table["name"]
        for source in sources_yml["sources"]
        if source["name"] == "raw"
        for table in source["tables"]
    }
    project = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())
    wired = set(project["vars"]["migstat_sources"])
    for source_id in SPECS.sources:
        assert source_id in raw_tables, f"declare raw.{source_id} in models/staging/_sources.yml"
        assert source_id in wired, f"add {source_id} to vars.migstat_sources in dbt_project.yml"
        model = REPO_ROOT / f"models/staging/stg_{source_id}__cells.sql"
        assert model.read_text().strip() == f"{{{{ stage_source_cells('{source_id}') }}}}"
    assert wired == set(SPECS.sources), "vars.migstat_sources names a source without a spec"


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
