"""The rule catalogue: valid, documented, and every dbt rule id is implemented somewhere."""

from __future__ import annotations

import re
from pathlib import Path

from migstat.home import REPO_ROOT
from migstat.rules import RULES_DOC, load_rules, render_doc


def test_rules_doc_is_up_to_date():
    assert RULES_DOC.read_text(encoding="utf-8") == render_doc(), (
        "docs/rules.md is out of date: run `migstat rules --write`"
    )


def test_rules_comparing_submissions_never_quarantine():
    for rule in load_rules().rules:
        if rule.family in ("plausibility", "cross_source", "revision"):
            assert rule.severity == "warn", rule.id


def test_every_dbt_rule_is_implemented_by_a_rule_model():
    sql = "\n".join(
        path.read_text(encoding="utf-8")
        for path in Path(REPO_ROOT, "models", "intermediate", "rules").glob("*.sql")
    )
    implemented = set(re.findall(r"'([A-Z]{3}-\d{3})'", sql))
    catalogue = {rule.id for rule in load_rules().rules if rule.implemented_by == "dbt"}
    assert catalogue == implemented


def test_loader_rule_ids_are_in_the_catalogue():
    loader = "\n".join(
        p.read_text(encoding="utf-8") for p in Path(REPO_ROOT, "loaders").glob("*.py")
    )
    used = set(re.findall(r'rule="([A-Z]{3}-[A-Z]+)"', loader))
    catalogue = {rule.id for rule in load_rules().rules}
    assert used <= catalogue, used - catalogue
