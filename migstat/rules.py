"""The consistency rule catalogue (``specs/rules.yml``): typed, written to DuckDB, documented.

dbt reads the catalogue from ``raw.spec_rules`` (written by ``migstat build`` into the build copy
of the warehouse); ``docs/rules.md`` is generated from the same file (``migstat rules --write``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Literal

import duckdb
import yaml
from pydantic import Field, ValidationError, model_validator

from migstat.errors import MigstatError, SpecError
from migstat.home import PROJECT_ROOT, SPECS_DIR, is_checkout
from migstat.model import Strict

RULES_FILE = SPECS_DIR / "rules.yml"
RULES_DOC = PROJECT_ROOT / "docs" / "rules.md"
Role = Literal["blocking", "warning"]
"""A family's role: ``blocking`` families compare a submission with itself, and their error
rules quarantine it; ``warning`` families compare it with other submissions (history, other
sources, the version published before), and their rules must be warn."""


class Rule(Strict):
    id: str = Field(pattern=r"^[A-Z]{3}-([0-9]{3}|[A-Z]+)$")
    family: str
    severity: Literal["error", "warn"]
    implemented_by: Literal["dbt", "loader", "build"] = "dbt"
    tolerance: dict[str, float] = Field(default_factory=dict)
    message_es: str
    message_en: str


class Catalogue(Strict):
    families: dict[str, Role]
    """Every rule family and its role, in the order reports list them: the one declaration
    read by the rule models (dbt vars ``rule_families_*``, :mod:`migstat.wiring`) and here."""
    rules: list[Rule]

    @model_validator(mode="after")
    def _families(self) -> Catalogue:
        for rule in self.rules:
            role = self.families.get(rule.family)
            if role is None:
                raise ValueError(f"{rule.id}: unknown family {rule.family!r}")
            if role == "warning" and rule.severity != "warn":
                raise ValueError(
                    f"{rule.id}: {rule.family} rules compare submissions; they must be warn"
                )
        return self

    def families_with_role(self, role: Role) -> list[str]:
        return [family for family, its_role in self.families.items() if its_role == role]

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        ids = [rule.id for rule in self.rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate rule ids: {duplicates}")
        return self

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


@cache
def load_rules(path: Path = RULES_FILE) -> Catalogue:
    try:
        return Catalogue.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (ValidationError, yaml.YAMLError) as exc:
        raise SpecError(f"invalid rule catalogue: {exc}", file=str(path)) from exc


def write_rule_table(con: duckdb.DuckDBPyConnection, catalogue: Catalogue | None = None) -> None:
    """Replace ``raw.spec_rules`` with the catalogue (tolerance as JSON text) and
    ``raw.spec_rule_tolerances`` with its tolerances (rule_id, tolerance_key, tolerance_value)."""
    catalogue = catalogue or load_rules()
    con.execute("create schema if not exists raw")
    con.execute(
        "create or replace table raw.spec_rules (rule_id varchar, family varchar, "
        "severity varchar, implemented_by varchar, tolerance varchar, "
        "message_es varchar, message_en varchar)"
    )
    con.executemany(
        "insert into raw.spec_rules values (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                rule.id,
                rule.family,
                rule.severity,
                rule.implemented_by,
                json.dumps(rule.tolerance, sort_keys=True),
                rule.message_es,
                rule.message_en,
            )
            for rule in catalogue.rules
        ],
    )
    # One row per tolerance, so the rule models join a number instead of compiling it in.
    con.execute(
        "create or replace table raw.spec_rule_tolerances "
        "(rule_id varchar, tolerance_key varchar, tolerance_value double)"
    )
    tolerances = [
        (rule.id, key, value) for rule in catalogue.rules for key, value in rule.tolerance.items()
    ]
    if tolerances:
        con.executemany("insert into raw.spec_rule_tolerances values (?, ?, ?)", tolerances)


def render_doc(catalogue: Catalogue | None = None) -> str:
    """``docs/rules.md``: one table per family, Spanish and English messages."""
    catalogue = catalogue or load_rules()
    lines = [
        "# Consistency rules",
        "",
        "<!-- Generated from specs/rules.yml by `migstat rules --write`; do not edit. -->",
        "",
        "Each rule has a stable id. **error** quarantines the submission (it is not published and",
        "the previously accepted version stays published); **warn** publishes it with a flag.",
        "Every failure names the submission, file, sheet, cell, expected and found values",
        "(mart `marts.quality_rule_failures`, and `migstat report SUBMISSION_ID`).",
        "",
        "`loader` rules reject a structurally unreadable file before dbt sees it; `build` rules",
        "set aside a submission whose data makes dbt fail (`migstat build`); all others run in",
        "dbt (`models/intermediate/rules/`, macros in `macros/rules/`).",
        "",
    ]
    for family in catalogue.families:
        rules = [rule for rule in catalogue.rules if rule.family == family]
        if not rules:
            continue
        lines += [
            f"## {family}",
            "",
            "| id | severity | tolerance | by | message (es) | message (en) |",
            "|---|---|---|---|---|---|",
        ]
        for rule in rules:
            tolerance = ", ".join(f"{k} {v:g}" for k, v in rule.tolerance.items()) or "-"
            cells = [
                rule.id,
                rule.severity,
                tolerance,
                rule.implemented_by,
                rule.message_es.replace("|", "\\|"),
                rule.message_en.replace("|", "\\|"),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def write_doc(path: Path = RULES_DOC) -> Path:
    if path == RULES_DOC and not is_checkout():
        raise MigstatError(
            f"{path} is the copy shipped inside the installed package: regenerate docs/rules.md "
            "in a repository checkout (`migstat rules --write` there)"
        )
    path.write_text(render_doc(), encoding="utf-8")
    return path
