"""What dbt learns from the specs, and the declarations a source still needs by hand.

A source spec is the one place its dimensions, measures and layout are declared. dbt cannot read
YAML files outside its project, so ``migstat build`` hands it what follows from the specs as
``--vars`` (:func:`dbt_vars`): the sources whose staged cells join the long grain
(``migstat_sources``), the dimensions of that grain (``migstat_dimensions``), the rule
families by role (``rule_families_blocking``, ``rule_families_warning``, from
``specs/rules.yml``) and the counting unit of every measure (``migstat_counting_units``, read in
SQL through the ``counting_unit`` macro). The defaults in
``dbt_project.yml`` serve plain ``dbt`` runs; ``tests/python/test_specs_wiring.py`` checks they
agree with the specs.

Three things dbt must see when it parses, before any var, stay files in the project:
the table ``raw.<source>`` in ``models/staging/_sources.yml``, the one-line model
``models/staging/stg_<source>__cells.sql``, and every code list in the seeds.
:func:`missing_declarations` names each one that is missing; ``migstat build`` refuses to start
and the wiring test fails with the same messages.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from migstat.home import PROJECT_ROOT
from migstat.rules import load_rules
from migstat.specs import Specs

STAGING_MODEL = "{{{{ stage_source_cells('{source}') }}}}"
"""The whole text of ``models/staging/stg_<source>__cells.sql``."""

CODELISTS_OUTSIDE_CODE_LISTS_SEED = {"countries": "countries.csv", "ports": "ports.csv"}
"""Code lists kept in a seed of their own rather than in ``seeds/code_lists.csv``."""


@cache
def _project_vars(root: Path) -> dict[str, Any]:
    project = yaml.safe_load((root / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(project.get("vars") or {})


def declared_dimension_order(root: Path = PROJECT_ROOT) -> list[str]:
    """The display order of the long grain's dimensions (``vars.migstat_dimensions``)."""
    return [str(name) for name in _project_vars(root).get("migstat_dimensions") or []]


def observation_dimensions(specs: Specs, root: Path = PROJECT_ROOT) -> list[str]:
    """Every dimension of every source: in the declared display order, then any other dimension
    in the order the sources (by id) declare them. A new source's new dimension joins the long
    grain without being declared anywhere else."""
    used: list[str] = []
    for source_id in sorted(specs.sources):
        for name in specs.sources[source_id].dimensions:
            if name not in used:
                used.append(name)
    declared = [name for name in declared_dimension_order(root) if name in used]
    return declared + [name for name in used if name not in declared]


def dbt_vars(specs: Specs, root: Path = PROJECT_ROOT) -> dict[str, object]:
    """The dbt vars that follow from the specs (``dbt build --vars``)."""
    rules = load_rules()
    return {
        "migstat_sources": sorted(specs.sources),
        "migstat_dimensions": observation_dimensions(specs, root),
        "rule_families_blocking": rules.families_with_role("blocking"),
        "rule_families_warning": rules.families_with_role("warning"),
        "migstat_counting_units": {
            source_id: {name: measure.unit for name, measure in sorted(spec.measures.items())}
            for source_id, spec in sorted(specs.sources.items())
        },
    }


def _raw_tables(root: Path) -> dict[str, set[str]]:
    """Raw table -> the columns _sources.yml declares for it."""
    path = root / "models" / "staging" / "_sources.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        str(table["name"]): {str(column["name"]) for column in table.get("columns") or []}
        for source in data.get("sources") or []
        if source.get("name") == "raw"
        for table in source.get("tables") or []
    }


FACT_CONTRACT = Path("models") / "marts" / "core" / "_core__models.yml"


def _fact_columns(root: Path) -> set[str] | None:
    """The columns the enforced contract of ``fct_observations`` declares (None: no such file,
    a project without the marts)."""
    path = root / FACT_CONTRACT
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        str(column["name"])
        for model in data.get("models") or []
        if model.get("name") == "fct_observations"
        for column in model.get("columns") or []
    }


def _seeded_codelists(root: Path) -> set[str]:
    path = root / "seeds" / "code_lists.csv"
    lines = path.read_text(encoding="utf-8").splitlines()[1:] if path.exists() else []
    found = {line.split(",", 1)[0] for line in lines if line}
    found |= {
        name
        for name, seed in CODELISTS_OUTSIDE_CODE_LISTS_SEED.items()
        if (root / "seeds" / seed).exists()
    }
    return found


def missing_declarations(specs: Specs, root: Path = PROJECT_ROOT) -> list[str]:
    """One message per declaration a source spec needs in the dbt project and lacks."""
    problems: list[str] = []
    raw_tables = _raw_tables(root)
    codelists = _seeded_codelists(root)
    for source_id in sorted(specs.sources):
        spec_file = specs.files.get(f"sources/{source_id}", Path(f"specs/sources/{source_id}.yml"))
        labels = {f"{name}_label" for name in specs.sources[source_id].dimensions}
        if source_id not in raw_tables:
            problems.append(
                f"source {source_id}: declare the table `{source_id}` under source `raw` in "
                "models/staging/_sources.yml: run `migstat dbt-sources --write`"
            )
        elif not labels <= raw_tables[source_id]:
            problems.append(
                f"source {source_id}: models/staging/_sources.yml lacks the columns "
                f"{', '.join(sorted(labels - raw_tables[source_id]))} of the table `{source_id}`:"
                " run `migstat dbt-sources --write`"
            )
        model = root / "models" / "staging" / f"stg_{source_id}__cells.sql"
        expected = STAGING_MODEL.format(source=source_id)
        if not model.exists() or model.read_text(encoding="utf-8").strip() != expected:
            problems.append(
                f"source {source_id}: write models/staging/stg_{source_id}__cells.sql "
                f"holding only {expected}"
            )
        for name, dimension in specs.sources[source_id].dimensions.items():
            if dimension.codelist not in codelists:
                problems.append(
                    f"source {source_id}: dimension {name} names code list "
                    f"{dimension.codelist!r} ({spec_file}), which is not in the seeds: add it to "
                    "specs/codes/code_lists.yml and run scripts/build_seeds.py"
                )
    fact_columns = _fact_columns(root)
    dimensions = observation_dimensions(specs, root) if fact_columns is not None else []
    for name in dimensions:
        if (
            fact_columns is not None
            and name not in fact_columns
            and f"{name}_code" not in fact_columns
        ):
            problems.append(
                f"dimension {name}: declare the column `{name}_code` (data_type: string, and "
                f"its description) of fct_observations in {FACT_CONTRACT.as_posix()}: the "
                "mart's contract is enforced, so a column it does not list fails the build"
            )
    return problems
