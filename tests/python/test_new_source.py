"""A seventh source, with a dimension and a code list no shipped source has, added by its spec
alone in a copy of the project and taken through template, sample, load, build and publish.

The copy is the repository's tracked tree (no virtual environment, no home); the CLI runs in it
as its own process with ``PYTHONPATH`` pointing at the copy, so the copy's specs, seeds and dbt
project are the ones read. The steps are the README's "Adding a source", in its order.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml
from fixtures.cli import migstat_env, run

from migstat.home import REPO_ROOT

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).parent / "fixtures" / "seventh_source"
SOURCE = "student_permits"
IGNORED = shutil.ignore_patterns(
    ".git", ".venv*", "home", "target", "logs", "dbt_packages", "__pycache__", ".pytest_cache",
    "*.duckdb", "site", "_project",
)  # fmt: skip


def cli(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI of the copy: its own process, the copy's code first on the path."""
    return run(migstat_env(home, PYTHONPATH=str(project)), *args, cwd=project)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The copy, with the new source's spec, layout and code list (README step 1)."""
    root = tmp_path_factory.mktemp("project") / "migstat"
    shutil.copytree(REPO_ROOT, root, ignore=IGNORED)
    shutil.copy(FIXTURE / "sources" / f"{SOURCE}.yml", root / "specs" / "sources")
    shutil.copy(FIXTURE / "layouts" / f"std_{SOURCE}.yml", root / "specs" / "layouts")
    with (root / "specs" / "codes" / "code_lists.yml").open("a", encoding="utf-8") as codes:
        codes.write("\n" + (FIXTURE / "code_lists.yml").read_text(encoding="utf-8"))
    seeds = subprocess.run(
        [sys.executable, "scripts/build_seeds.py"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert seeds.returncode == 0, seeds.stderr
    return root


def declare_fact_column(project: Path, column: str, description: str) -> None:
    """README step 3: the new dimension's column in the enforced contract of fct_observations."""
    path = project / "models" / "marts" / "core" / "_core__models.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fact = next(model for model in data["models"] if model["name"] == "fct_observations")
    fact["columns"].append({"name": column, "data_type": "string", "description": description})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_seventh_source_by_spec_alone(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"

    # The template names the new dimension's members by their labels, not by raw codes.
    template = tmp_path / "template.xlsx"
    ok(cli(project, home, "template", "--source", SOURCE, "--country", "GTM", "--year", "2023",
           "-o", str(template)))  # fmt: skip
    levels = openpyxl.load_workbook(template)["POR_NIVEL"]
    labels = {levels.cell(row=row, column=1).value for row in range(6, 11)}
    assert {"Educación básica", "Educación superior", "Posgrado"} <= labels, labels

    # `migstat sample` draws it for every country (sizes from the source spec).
    samples = tmp_path / "samples"
    ok(cli(project, home, "sample", "--years", "2023", "-o", str(samples)))
    new_files = sorted(samples.glob(f"*_{SOURCE}_2023.xlsx"))
    assert len(new_files) == 9, new_files
    ok(cli(project, home, "load", *map(str, new_files), str(samples / "GTM_asylum_2023.xlsx")))

    # Without its two dbt declarations the build refuses, naming each (README step 2).
    refused = cli(project, home, "build")
    assert refused.returncode != 0
    message = refused.stdout + refused.stderr
    assert f"declare the table `{SOURCE}` under source `raw` in models/staging/_sources.yml" in (
        message
    )
    assert f"models/staging/stg_{SOURCE}__cells.sql" in message
    assert "declare the column `study_level_code` (data_type: string" in message

    ok(cli(project, home, "dbt-sources", "--write"))
    staging = project / "models" / "staging" / f"stg_{SOURCE}__cells.sql"
    staging.write_text(f"{{{{ stage_source_cells('{SOURCE}') }}}}\n", encoding="utf-8")
    declare_fact_column(project, "study_level_code", "Level of study (code list study_level).")

    ok(cli(project, home, "build"))
    warehouse = home / "warehouse" / "migstat.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        verdicts = con.execute(
            "select file_name, status from marts.quality_submissions order by 1"
        ).fetchall()
        failures = con.execute(
            "select rule_id, sheet, cell, message_en from marts.quality_rule_failures"
        ).fetchall()
        levels_published = con.execute(
            "select study_level_code, sum(value) from marts.fct_observations "
            "where source = ? and sheet = 'POR_NIVEL' group by 1 order by 1",
            [SOURCE],
        ).fetchall()
        by_sheet = con.execute(
            "select sheet, sum(value) from marts.fct_observations where source = ? "
            "and reporting_country_code = 'GTM' group by 1",
            [SOURCE],
        ).fetchall()
    # Clean files are accepted: no rule blames the office.
    assert {status for _, status in verdicts} == {"accepted"}, verdicts
    assert len(verdicts) == 10
    assert failures == [], failures
    # The new dimension is published with its codes, and both sheets hold the same permits.
    assert [code for code, _ in levels_published] == ["BAS", "MED", "POS", "SUP"]
    totals = dict(by_sheet)
    assert totals["POR_NIVEL"] == totals["POR_NACIONALIDAD"] > 0

    # Default products: one per template sheet, for every country, in both languages.
    site = tmp_path / "site"
    ok(cli(project, home, "publish", "-o", str(site)))
    product = "gtm-2023-student-permits-student-permits-por-nivel"
    assert product in {item["id"] for item in json.loads((site / "products.json").read_text())}
    spanish = (site / "es" / "products" / f"{product}.html").read_text(encoding="utf-8")
    english = (site / "en" / "products" / f"{product}.html").read_text(encoding="utf-8")
    assert "Permisos por nivel de estudios y sexo" in spanish
    assert "Educación superior" in spanish
    assert "Permits by level of study and sex" in english
    assert "Tertiary education" in english

    # Its open-data dataset carries the new dimension, named and labelled as its spec declares.
    api = site / "api" / "v1"
    catalogue = json.loads((api / "datasets.json").read_text(encoding="utf-8"))["datasets"]
    entry = next(item for item in catalogue if item["id"] == SOURCE)
    assert "STUDY_LEVEL" in [dimension["id"] for dimension in entry["dimensions"]], entry
    structure = (api / f"{SOURCE}.structure.xml").read_text(encoding="utf-8")
    assert 'id="STUDY_LEVEL"' in structure
    assert "Nivel de estudios" in structure and "Educación superior" in structure
    for suffix, name, label in (
        ("json", "Nivel de estudios", "Educación superior"),
        ("en.json", "Level of study", "Tertiary education"),
    ):
        stat = json.loads((api / f"{SOURCE}.{suffix}").read_text(encoding="utf-8"))
        level = stat["dimension"]["STUDY_LEVEL"]
        assert level["label"] == name
        assert label in level["category"]["label"].values()
        assert set(level["category"]["index"]) >= {"BAS", "MED", "SUP", "POS"}
    data = (api / f"{SOURCE}.sdmx.csv").read_text(encoding="utf-8")
    assert "STUDY_LEVEL" in data.splitlines()[0]
