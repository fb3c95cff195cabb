"""Each concern declared once and read everywhere: observation flags, rule families and their
role, counting units, the version, the strict base model and the bilingual text."""

from __future__ import annotations

import ast
import csv
import tomllib
from pathlib import Path

import duckdb
import pytest
import yaml
from openpyxl import load_workbook

import migstat
from loaders.load import load_paths
from migstat.flags import flag_letters, flag_names, read_flag
from migstat.home import REPO_ROOT
from migstat.publish.i18n import FLAGS as SITE_FLAGS
from migstat.rules import Catalogue, load_rules
from migstat.specs import SourceSpec, load_specs
from migstat.workbooks.samples import SampleMaker, clean_submission, write_submission
from migstat.workbooks.template import OBSERVATION_FLAGS

SPECS = load_specs()


def seeded_codes(codelist: str) -> list[str]:
    with (REPO_ROOT / "seeds" / "code_lists.csv").open(encoding="utf-8") as handle:
        return [
            row["code"]
            for row in csv.DictReader(handle)
            if row["codelist"] == codelist and not row["code"].startswith("_")
        ]


def test_observation_flags_are_the_code_list_everywhere() -> None:
    letters = seeded_codes("observation_flags")
    assert list(flag_letters()) == letters == ["p", "e", "b", "r", "c"]
    assert list(OBSERVATION_FLAGS) == letters, "the template's dropdown"
    assert list(SITE_FLAGS) == letters, "the site's legend"
    assert SITE_FLAGS["c"] == ("confidencial", "confidential")
    assert flag_names()["b"].en == "Break in series"


@pytest.mark.parametrize(
    ("text", "letter"),
    [("p", "p"), ("Preliminar", "p"), (" Estimado ", "e"), ("c", "c"), ("Reservado", "c"),
     ("Definitivo", ""), ("final", ""), ("quizás", None)],
)  # fmt: skip
def test_flags_read_as_offices_write_them(text: str, letter: str | None) -> None:
    assert read_flag(text) == letter


def test_a_confidential_submission_loads_with_its_flag(tmp_path: Path) -> None:
    """The template offers ``c`` and the loader keeps it (the template's list once lacked it)."""
    maker = SampleMaker(0, SPECS)
    submission = clean_submission(maker, "returns", "GTM", 2023, 2024)
    submission.flag = "c"
    path = write_submission(submission, tmp_path / "GTM_returns_2023.xlsx", SPECS)
    book = load_workbook(path)
    formulas = [v.formula1 for v in book["Metadatos"].data_validations.dataValidation]
    assert '"p,e,b,r,c"' in formulas
    raw = tmp_path / "landing.duckdb"
    [outcome] = load_paths([path], raw, SPECS)
    assert outcome.status == "loaded", outcome
    with duckdb.connect(str(raw), read_only=True) as con:
        assert con.execute("select obs_flag from raw.submissions").fetchall() == [("c",)]


def test_rule_families_and_roles_are_declared_once() -> None:
    rules = load_rules()
    assert rules.families_with_role("warning") == ["plausibility", "cross_source", "revision"]
    assert {rule.family for rule in rules.rules} <= set(rules.families)
    for family in rules.families:
        model = (
            REPO_ROOT / "models" / "intermediate" / "rules" / f"int_{family}_failures_detected.sql"
        )
        assert model.exists(), f"family {family} of specs/rules.yml has no model {model.name}"
    for model in ("int_submissions_verdicted.sql", "int_rule_failures_unioned.sql"):
        text = (REPO_ROOT / "models" / "intermediate" / model).read_text(encoding="utf-8")
        assert "var('rule_families_blocking')" in text, model
        assert "'plausibility'" not in text and "'structure'" not in text, model


def test_a_warning_family_cannot_quarantine_and_families_are_closed() -> None:
    data = yaml.safe_load((REPO_ROOT / "specs" / "rules.yml").read_text(encoding="utf-8"))
    plausibility = next(r for r in data["rules"] if r["family"] == "plausibility")
    with pytest.raises(ValueError, match="they must be warn"):
        Catalogue.model_validate({**data, "rules": [{**plausibility, "severity": "error"}]})
    with pytest.raises(ValueError, match="unknown family 'style'"):
        Catalogue.model_validate({**data, "rules": [{**plausibility, "family": "style"}]})


def test_counting_units_are_one_list() -> None:
    data = SPECS.source("asylum").model_dump()
    data["measures"]["applications"]["unit"] = "people"
    with pytest.raises(ValueError, match="unknown counting unit 'people'"):
        SourceSpec.model_validate(data)


def test_the_version_is_declared_once() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert migstat.__version__ == pyproject["project"]["version"]
    assert "version" not in yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())
    assignments = [
        path for path in python_files() if "__version__ =" in path.read_text(encoding="utf-8")
    ]
    assert assignments == [REPO_ROOT / "migstat" / "__init__.py"]


def python_files() -> list[Path]:
    return sorted(
        path
        for folder in ("migstat", "loaders", "scripts")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if "_project" not in path.parts
    )


def test_one_strict_base_model_and_one_text_model() -> None:
    """Every pydantic model derives from migstat.model.Strict; nothing else defines a Text."""
    offenders = []
    for path in python_files():
        if path == REPO_ROOT / "migstat" / "model.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(base) for base in node.bases}
                if node.name in ("Text", "Strict", "_Strict") or "BaseModel" in bases:
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name}")
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "ConfigDict":
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} ConfigDict")
    assert offenders == [], "use migstat.model.Strict / Text: " + ", ".join(offenders)
