"""Conventions of the dbt project, checked on its files (fast: no dbt run).

One naming rule for marts: a mart lives in the folder of its domain and its name starts with one
of that domain's prefixes (`dim_`/`fct_` for core dimensions and facts, the register's name for
indicator marts, `quality_` for submission quality), in lower snake case, plural nouns. Every mart
enforces its contract with a type and a description for every column.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
MARTS = REPO_ROOT / "models" / "marts"
DOMAIN_PREFIXES = {
    "core": ("dim_", "fct_", "indicators"),
    "movements": ("movements_",),
    "permits_asylum": ("permits_", "asylum_"),
    "returns_irregular": ("returns_", "irregular_foreigners_"),
    "quality": ("quality_",),
}
NAME = re.compile(r"^[a-z]+(_[a-z0-9]+)*$")


def mart_models() -> dict[str, tuple[str, dict]]:
    """Mart name -> (domain folder, YAML entry)."""
    found: dict[str, tuple[str, dict]] = {}
    for path in sorted(MARTS.glob("*/_*__models.yml")):
        assert path.name == f"_{path.parent.name}__models.yml", path
        for model in yaml.safe_load(path.read_text())["models"]:
            found[model["name"]] = (path.parent.name, model)
    return found


def test_marts_follow_the_naming_rule_of_their_domain_folder() -> None:
    sql = {path.stem: path.parent.name for path in MARTS.glob("*/*.sql")}
    assert not list(MARTS.glob("*.sql")), "a mart outside a domain folder"
    for name, folder in sql.items():
        assert folder in DOMAIN_PREFIXES, f"{name}: unknown domain folder {folder}"
        assert NAME.match(name), f"{name}: not lower snake case"
        assert name.startswith(DOMAIN_PREFIXES[folder]), (
            f"{name}: a mart in {folder}/ starts with one of {DOMAIN_PREFIXES[folder]}"
        )
    assert set(sql) == set(mart_models()), "every mart has its YAML entry in its folder"


def test_every_mart_enforces_a_typed_documented_contract() -> None:
    for name, (_, model) in mart_models().items():
        assert model.get("config", {}).get("contract") == {"enforced": True}, name
        assert model.get("description"), name
        assert model["columns"], name
        for column in model["columns"]:
            assert column.get("data_type"), f"{name}.{column['name']}: no data_type"
            assert str(column.get("description") or "").strip(), (
                f"{name}.{column['name']}: undocumented"
            )


def test_doc_blocks_referenced_exist() -> None:
    blocks = set(
        re.findall(r"\{%\s*docs\s+(\w+)\s*%\}", (REPO_ROOT / "models/_docs.md").read_text())
    )
    assert {"counting_unit", "obs_flag", "submission_status"} <= blocks
    used = set()
    for path in (REPO_ROOT / "models").rglob("*.yml"):
        used |= set(re.findall(r"doc\('(\w+)'\)", path.read_text()))
    assert used and used <= blocks


def test_selectors_cover_the_usual_runs() -> None:
    selectors = yaml.safe_load((REPO_ROOT / "selectors.yml").read_text())["selectors"]
    assert {"rules_only", "marts_only", "one_source"} <= {s["name"] for s in selectors}
