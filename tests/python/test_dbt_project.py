"""The dbt project as analytics engineers use it: dbt's own commands on an empty database.

dbt never queries the database to compile: the raw columns come from models/staging/_sources.yml
(generated from specs/), tolerances are joined from a staged table. So `dbt parse`, `dbt compile`
and `dbt docs generate` succeed before any workbook is loaded, and compile the same SQL as on a
loaded store.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from fixtures import raw_fixture

from loaders.store import RawStore
from migstat.build import refresh_specs
from migstat.home import PROJECT_ROOT
from migstat.specs import load_specs

pytestmark = pytest.mark.slow

DBT = Path(sys.executable).with_name("dbt")
INVOCATION_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def dbt(
    database: Path, target: Path, *args: str, **environment: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **environment,
        "MIGSTAT_DBT_DATABASE": str(database),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target / "logs"),
    }
    return subprocess.run(
        [str(DBT), *args, "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def compiled_sql(target: Path) -> dict[str, str]:
    """Every compiled model, with dbt's invocation id (different at every run by design: the
    ledger of judged submissions records it) replaced by a placeholder."""
    root = target / "compiled" / "migstat" / "models"
    return {
        str(path.relative_to(root)): INVOCATION_ID.sub("<invocation_id>", path.read_text())
        for path in sorted(root.rglob("*.sql"))
    }


def test_sources_yml_is_generated_from_the_specs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "migstat", "dbt-sources", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    sources = yaml.safe_load((PROJECT_ROOT / "models/staging/_sources.yml").read_text())
    tables = {table["name"]: table for table in sources["sources"][0]["tables"]}
    labels = [c["name"] for c in tables["work_permits"]["columns"] if c["name"].endswith("_label")]
    assert "nationality_label" in labels and "activity_label" in labels


def test_sources_yml_declares_the_raw_stores_own_column_types(tmp_path: Path) -> None:
    """Every raw cell table's columns in _sources.yml, in order, with the type the raw store
    gives them, spelled as both engines read it (text is `string`: Spark has no unsized
    varchar)."""
    portable = {"VARCHAR": "string", "INTEGER": "integer", "DOUBLE": "double"}
    specs = load_specs()
    with RawStore(tmp_path / "landing.duckdb", specs):
        pass
    with duckdb.connect(str(tmp_path / "landing.duckdb"), read_only=True) as con:
        stored = {
            source: [
                (name, portable[kind])
                for name, kind in con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                    [source],
                ).fetchall()
            ]
            for source in specs.sources
        }
    sources = yaml.safe_load((PROJECT_ROOT / "models/staging/_sources.yml").read_text())
    tables = {table["name"]: table for table in sources["sources"][0]["tables"]}
    for source, columns in stored.items():
        declared = [(c["name"], c["data_type"]) for c in tables[source]["columns"]]
        assert declared == columns, source
    assert ("nationality_label", "string") in stored["entries_exits"]


def test_compile_needs_no_database_and_gives_the_same_sql(tmp_path: Path) -> None:
    # Same file name: the database name (the file's stem) is part of every compiled relation.
    (tmp_path / "empty").mkdir()
    (tmp_path / "loaded").mkdir()
    empty = tmp_path / "empty" / "warehouse.duckdb"
    loaded = tmp_path / "loaded" / "warehouse.duckdb"
    raw_fixture.write(loaded, raw_fixture.default_submissions()[:2])
    refresh_specs(loaded)
    for database, target in ((empty, tmp_path / "t-empty"), (loaded, tmp_path / "t-loaded")):
        done = dbt(database, target, "compile")
        assert done.returncode == 0, done.stdout[-3000:]
    on_empty, on_loaded = compiled_sql(tmp_path / "t-empty"), compiled_sql(tmp_path / "t-loaded")
    assert len(on_empty) > 40
    assert on_empty == on_loaded
    staged = on_empty["staging/stg_work_permits__cells.sql"]
    assert "activity_code" in staged and "nationality_code" in staged


def test_docs_generate_on_an_empty_database(tmp_path: Path) -> None:
    target = tmp_path / "target"
    done = dbt(tmp_path / "empty.duckdb", target, "docs", "generate", "--static")
    assert done.returncode == 0, done.stdout[-3000:]
    assert (target / "static_index.html").stat().st_size > 100_000


def test_selectors_and_environments_on_a_shared_warehouse(tmp_path: Path) -> None:
    database, target = tmp_path / "empty.duckdb", tmp_path / "target"

    def listed(selector: str, *extra: str, **environment: str) -> dict[str, str]:
        done = dbt(
            database,
            target,
            "ls",
            "--selector",
            selector,
            *extra,
            "--output",
            "json",
            "--output-keys",
            "unique_id schema",
            "--resource-type",
            "model",
            **environment,
        )
        assert done.returncode == 0, done.stdout[-3000:]
        rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        return {row["unique_id"].split(".")[-1]: row["schema"] for row in rows}

    asylum = listed(
        "one_source",
        "--vars",
        "{selected_source: asylum}",
        MIGSTAT_ENVIRONMENT="ci",
        MIGSTAT_CI_RUN="77",
    )
    assert "stg_asylum__cells" in asylum and "asylum_yearly" in asylum
    assert "stg_returns__cells" not in asylum and "stg_raw__rules" not in asylum
    assert asylum["asylum_yearly"] == "ci_77_marts"
    marts = listed("marts_only", MIGSTAT_ENVIRONMENT="dev", MIGSTAT_DEVELOPER="ana")
    mart_files = {path.stem for path in (PROJECT_ROOT / "models" / "marts").rglob("*.sql")}
    assert set(marts) == mart_files and set(marts.values()) == {"dev_ana_marts"}
    rules = listed("rules_only")
    assert "int_additivity_failures_detected" in rules and "movements_yearly" not in rules
    assert rules["int_additivity_failures_detected"] == "intermediate"
