"""Incremental builds give exactly the marts of a full rebuild (issue 10): real dbt runs.

One home goes through four rounds, each built incrementally from the published warehouse:
a first load (two countries, three sources, one of them quarantined), a new period for every
country, a corrected resubmission (version 2, published over version 1) and the withdrawal of
that correction (version 1 is published again). After every round a copy of the home is built
with ``migstat build --full-refresh`` and every mart is compared row by row with the
incremental one (doubles rounded to 9 decimals: DuckDB sums them in no fixed order). The
ledger shows that a submission judged once is not judged again, except one failing a
date-dependent rule: a submission for 2025 is quarantined (STR-006, future period) while the
builds' date (``MIGSTAT_REFERENCE_DATE``) is in 2024, and accepted by the first incremental build
dated 2025, as the full rebuild of that date does.

After every round the site is published again from the incremental warehouse (only the products
the changed published keys reach are queried, the others come from the last publish's tables)
and, into another folder, with ``publish(full=True)``: every product's content, table and the
manifest must be the same.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from fixtures import raw_fixture
from fixtures.cli import migstat

from migstat.build import BUILD_FILE, build_vars, dbt_command
from migstat.home import Home
from migstat.publish import publish

pytestmark = pytest.mark.slow

SOURCES = ("entries_exits", "returns", "asylum")
COUNTRIES = ("GTM", "MEX")
BUILD_TIMEOUT = 1800


def _first_load() -> list[raw_fixture.Submission]:
    subs = [
        raw_fixture.Submission(country, source, 2023, seed=seed)
        for seed, (country, source) in enumerate(
            ((c, s) for c in COUNTRIES for s in SOURCES), start=1
        )
    ]
    # A future period while the builds' date is in 2024 (STR-006), not once it is 2025.
    subs.append(raw_fixture.Submission("GTM", "returns", 2025, seed=12))
    subs.append(
        raw_fixture.Submission(
            "MEX",
            "returns",
            2022,
            seed=11,
            flaws=[raw_fixture.set_cell("POR_MES_SEXO", "B8", value=99999.0, raw_text="99999")],
        )
    )
    return subs


def _new_period() -> list[raw_fixture.Submission]:
    return [
        raw_fixture.Submission(country, source, 2024, seed=20 + seed, events=21_000)
        for seed, (country, source) in enumerate((c, s) for c in COUNTRIES for s in SOURCES)
    ]


def _correction() -> list[raw_fixture.Submission]:
    return [raw_fixture.Submission("GTM", "entries_exits", 2023, seed=31, version="2")]


REFERENCE_DATES = ("2024-12-31", "2025-12-31", "2025-12-31", "2025-12-31")


def build(home: Path, *args: str, reference: str) -> dict:
    done = migstat(
        home,
        "build",
        "--json",
        *args,
        timeout=BUILD_TIMEOUT,
        MIGSTAT_REFERENCE_DATE=reference,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout)


def mart_differences(incremental: Path, full: Path) -> dict[str, tuple[int, int]]:
    """Per mart, rule-failure relation (every family, warnings included), the long grain
    `int_observations_unioned` and the verdicts: rows only in the incremental warehouse, rows
    only in the full one."""
    con = duckdb.connect()
    con.execute(f"attach '{incremental}' as incremental (read_only)")
    con.execute(f"attach '{full}' as full_build (read_only)")
    tables = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where database_name = 'full_build' and (schema_name = 'marts' or table_name like "
        "'int\\_%\\_failures\\_detected' escape '\\' "
        "or table_name = 'int_observations_unioned') "
        "union all select schema_name || '.' || view_name from duckdb_views() "
        "where database_name = 'full_build' and view_name in "
        "('int_rule_failures_unioned', 'int_submissions_verdicted') order by 1"
    ).fetchall()
    differences = {}
    for (qualified,) in tables:
        schema, table = qualified.split(".")
        columns = con.execute(
            "select column_name, data_type from duckdb_columns() where database_name = "
            "'full_build' and schema_name = ? and table_name = ? order by column_index",
            [schema, table],
        ).fetchall()
        shown = ", ".join(
            f'round("{name}", 9) as "{name}"' if kind in ("DOUBLE", "FLOAT") else f'"{name}"'
            for name, kind in columns
        )

        def only_in(
            left: str, right: str, table: str = table, shown: str = shown, schema: str = schema
        ) -> int:
            row = con.execute(
                f"select count(*) from (select {shown} from {left}.{schema}.{table} "
                f"except all select {shown} from {right}.{schema}.{table})"
            ).fetchone()
            assert row is not None
            return int(row[0])

        differences[qualified] = (
            only_in("incremental", "full_build"),
            only_in("full_build", "incremental"),
        )
    con.close()
    return differences


def site_content(site: Path) -> dict[str, object]:
    """What a published site says, file dates aside: each product's content digest, every
    product query's table and the manifest."""
    from migstat.publish.index import Index
    from migstat.publish.site import DIGESTS_FILE

    digests = json.loads((site / DIGESTS_FILE).read_text(encoding="utf-8"))
    index = Index.open(site)
    assert index is not None
    tables = dict(index.tables())
    index.close()
    return {
        "products": digests["products"],
        "datasets": digests["datasets"],
        "tables": tables,
        "manifest": json.loads((site / "products.json").read_text(encoding="utf-8")),
    }


def touched_keys(warehouse: Path) -> set[tuple[str, str, int]]:
    """The (country, source, year) keys the build that published ``warehouse`` recomputed."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'build_meta' and table_name = 'touched_keys'"
        ).fetchone()
        if not found or not found[0]:
            return set()
        rows = con.execute(
            "select key_country_code, key_source, key_year from build_meta.touched_keys"
        )
        return {(str(c), str(s), int(y)) for c, s, y in rows.fetchall()}


# The blocking rule models that judge only the submissions the ledger does not list.
UNJUDGED_MODELS = [
    f"int_{family}_failures_detected"
    for family in ("structure", "codes", "additivity", "values", "cross_table", "completeness")
]

SUBMISSION_LITERALS = re.compile(r"submission_id in \(([\d, ]+)\)")


def new_submission_filters(home: Path) -> dict[str, object]:
    """What the last build's two long tables added, read from their compiled SQL: the
    submission ids written as literals into `int_observations_unioned`'s reads of the raw tables
    and `fct_observations`' read of the observations (none: no literal), whether the former
    read the staging views, and whether it added nothing (`false`)."""
    compiled = home / "dbt" / "target" / "compiled" / "migstat" / "models"
    unioned = (compiled / "intermediate" / "int_observations_unioned.sql").read_text("utf-8")
    facts = (compiled / "marts" / "core" / "fct_observations.sql").read_text("utf-8")

    def literals(sql: str) -> set[int] | None:
        found = [match.group(1) for match in SUBMISSION_LITERALS.finditer(sql)]
        if not found:
            return None
        return {int(part) for group in found for part in group.split(",")}

    return {
        "unioned": literals(unioned),
        "unioned_nothing": "where false" in unioned,
        "unioned_reads_views": "__cells" in unioned,
        "facts": literals(facts),
    }


def unjudged_filters(home: Path) -> dict[str, dict[str, object]]:
    """What the last build's blocking rule models judged, read from their compiled SQL: the
    submission ids written as literals (none: no literal), whether the model compiled to
    `where false` (nothing to judge) and whether it still reads the ledger."""
    compiled = home / "dbt" / "target" / "compiled" / "migstat" / "models" / "intermediate"
    found = {}
    for model in UNJUDGED_MODELS:
        sql = (compiled / "rules" / f"{model}.sql").read_text("utf-8")
        ids = [match.group(1) for match in SUBMISSION_LITERALS.finditer(sql)]
        found[model] = {
            "ids": {int(part) for group in ids for part in group.split(",")} if ids else None,
            "nothing": "where false" in sql,
            "reads_ledger": "int_submissions_judged" in sql,
        }
    return found


def judged_by(warehouse: Path) -> dict[int, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select submission_id, judged_by_invocation_id from intermediate.int_submissions_judged"
        ).fetchall()
    return {row[0]: row[1] for row in rows}


@pytest.fixture(scope="module")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    root = tmp_path_factory.mktemp("incremental")
    home = root / "home"
    raw = home / "warehouse" / "landing.duckdb"
    raw.parent.mkdir(parents=True)
    warehouse = home / "warehouse" / "migstat.duckdb"

    def add(subs: list[raw_fixture.Submission]) -> Callable[[], None]:
        return lambda: raw_fixture.write(raw, subs)

    def withdraw_correction() -> None:
        with duckdb.connect(str(raw), read_only=True) as con:
            row = con.execute(
                "select max(submission_id) from raw.submissions where file_name like '%_v2.xlsx'"
            ).fetchone()
        assert row is not None
        done = migstat(home, "withdraw", str(row[0]), "--reason", "test", "--by", "test")
        assert done.returncode == 0, done.stdout + done.stderr

    steps = [
        ("first load", add(_first_load())),
        ("new period", add(_new_period())),
        ("corrected resubmission", add(_correction())),
        ("withdrawal", withdraw_correction),
    ]
    results = []
    for number, (name, step) in enumerate(steps):
        step()
        reference = REFERENCE_DATES[number]
        before = judged_by(warehouse) if warehouse.exists() else {}
        result = build(home, reference=reference)
        filters = new_submission_filters(home)
        rule_filters = unjudged_filters(home)
        copy = root / f"full-{number}"
        shutil.copytree(home, copy, ignore=shutil.ignore_patterns("dbt", "site"))
        full = build(copy, "--full-refresh", reference=reference)
        said: list[str] = []
        published = publish(warehouse, home / "site", workers=1, say=said.append)
        everything = publish(warehouse, root / f"site-full-{number}", workers=1, full=True)
        results.append(
            {
                "name": name,
                "result": result,
                "full": full,
                "judged_before": before,
                "judged_after": judged_by(warehouse),
                "touched": touched_keys(warehouse),
                "filters": filters,
                "rule_filters": rule_filters,
                "home": home,
                "differences": mart_differences(warehouse, copy / "warehouse" / "migstat.duckdb"),
                "publish": published,
                "publish_full": everything,
                "publish_said": said,
                "site": site_content(home / "site"),
                "site_full": site_content(root / f"site-full-{number}"),
            }
        )
        shutil.rmtree(copy)
        shutil.rmtree(root / f"site-full-{number}")
    return results


def test_the_first_build_is_full_and_the_next_ones_incremental(rounds):
    assert [r["result"]["mode"] for r in rounds] == ["full", *["incremental"] * 3]
    assert all(r["full"]["mode"] == "full" for r in rounds)


def test_every_mart_of_every_round_equals_a_full_rebuild(rounds):
    for r in rounds:
        differing = {table: diff for table, diff in r["differences"].items() if diff != (0, 0)}
        assert not differing, (r["name"], differing)
        assert "marts.fct_observations" in r["differences"] and len(r["differences"]) >= 25


def test_every_rule_family_and_the_verdicts_equal_a_full_rebuild(rounds):
    # Revision is windowed: an incremental build judges again only the submissions of the
    # touched keys and keeps the others; every family must equal a full rebuild's.
    for r in rounds:
        names = set(r["differences"])
        for family in ("plausibility", "cross_source", "revision", "structure", "additivity"):
            assert f"intermediate.int_{family}_failures_detected" in names, names
        assert "intermediate.int_submissions_verdicted" in names
        assert "intermediate.int_rule_failures_unioned" in names


def test_an_incremental_build_recomputes_only_the_keys_of_what_changed(rounds):
    first, period, correction, withdrawal = (r["touched"] for r in rounds)
    assert first == set()  # a full build: everything
    # The new period: both countries' three sources of 2024, and GTM's returns of 2025 judged
    # again (STR-006 while its date had not come).
    assert period == {
        *((country, source, 2024) for country in COUNTRIES for source in SOURCES),
        ("GTM", "returns", 2025),
    }
    assert correction == {("GTM", "entries_exits", 2023)}
    assert withdrawal == {("GTM", "entries_exits", 2023)}


def test_an_incremental_build_reads_only_the_new_submissions_cells(rounds):
    # The submissions not in the long tables yet are written into their SQL as literals, so an
    # incremental build reads only their cells (through the zone maps), never every cell stored.
    def ids(r: dict, *files: str) -> set[int]:
        return {s["id"] for s in r["result"]["submissions"] if s["file"] in files}

    first, period, correction, withdrawal = rounds
    assert first["filters"] == {
        "unioned": None,
        "unioned_nothing": False,
        "unioned_reads_views": True,
        "facts": None,
    }
    period_files = [f"{c}_{s}_2024.xlsx" for c in COUNTRIES for s in SOURCES]
    assert period["filters"]["unioned"] == ids(period, *period_files)
    assert not period["filters"]["unioned_reads_views"]
    # The facts add the new period and GTM's returns of 2025, accepted at last.
    assert period["filters"]["facts"] == ids(period, *period_files, "GTM_returns_2025.xlsx")
    corrected = ids(correction, "GTM_entries_exits_2023_v2.xlsx")
    assert correction["filters"]["unioned"] == corrected
    assert correction["filters"]["facts"] == corrected
    # A withdrawal adds no cells; version 1, published again, comes back to the facts.
    assert withdrawal["filters"]["unioned"] is None
    assert withdrawal["filters"]["unioned_nothing"]
    assert withdrawal["filters"]["facts"] == ids(withdrawal, "GTM_entries_exits_2023.xlsx")


def test_the_rule_models_read_only_the_unjudged_submissions(rounds):
    # Each blocking rule model reads the submissions the ledger did not list before the build
    # (the new ones, and the ones judged again: a future period, one set aside by the
    # containment search) as literals, not through a `not in` the ledger over every cell; a
    # full build reads every submission; nothing unjudged compiles to `where false`.
    first = rounds[0]
    for model in UNJUDGED_MODELS:
        found = first["rule_filters"][model]
        assert found["ids"] is None and not found["reads_ledger"], model
    for r in rounds[1:]:
        every = {s["id"] for s in r["result"]["submissions"]}
        unjudged = every - set(r["judged_before"])
        for model in UNJUDGED_MODELS:
            found = r["rule_filters"][model]
            assert not found["reads_ledger"], (r["name"], model)
            if unjudged:
                assert found["ids"] == unjudged, (r["name"], model)
            else:
                assert found["ids"] is None and found["nothing"], (r["name"], model)
    # The new period: its workbooks and GTM's returns of 2025 (a future period at the first
    # build, judged again); the withdrawal adds no submission.
    period_files = [f"{c}_{s}_2024.xlsx" for c in COUNTRIES for s in SOURCES]
    period = rounds[1]
    assert {
        s["id"]
        for s in period["result"]["submissions"]
        if s["file"] in (*period_files, "GTM_returns_2025.xlsx")
    } <= (period["rule_filters"][UNJUDGED_MODELS[0]]["ids"] or set())


def test_verdicts_follow_the_rounds(rounds):
    def verdicts(r: dict) -> dict[str, str]:
        return {s["file"]: s["verdict"] for s in r["result"]["submissions"]}

    first, period, correction, withdrawal = (verdicts(r) for r in rounds)
    assert first["MEX_returns_2022.xlsx"] == "quarantined"
    assert first["GTM_returns_2025.xlsx"] == "quarantined"
    assert period["GTM_returns_2025.xlsx"].startswith("accepted")
    assert period["GTM_entries_exits_2024.xlsx"].startswith("accepted")
    assert correction["GTM_entries_exits_2023_v2.xlsx"].startswith("accepted")
    assert correction["GTM_entries_exits_2023.xlsx"] == "superseded"
    assert withdrawal["GTM_entries_exits_2023_v2.xlsx"] == "withdrawn"
    assert withdrawal["GTM_entries_exits_2023.xlsx"].startswith("accepted")
    for r in rounds:
        assert {s["verdict"] for s in r["result"]["submissions"]} == {
            s["verdict"] for s in r["full"]["submissions"]
        }
        assert r["result"]["submissions"] == r["full"]["submissions"]


def test_a_submission_judged_once_is_not_judged_again(rounds):
    for r in rounds[1:]:
        before, after = r["judged_before"], r["judged_after"]
        assert before and all(after[sid] == invocation for sid, invocation in before.items())
    # The new period's submissions were judged by one build, the first load's by another.
    assert len(set(rounds[1]["judged_after"].values())) == 2


def test_a_future_period_is_judged_again_until_its_date_has_come(rounds):
    def failures(r: dict, name: str) -> list[str]:
        found = next(s for s in r["result"]["submissions"] if s["file"] == name)
        return [problem.split()[0] for problem in found.get("problems", [])]

    first, period = rounds[0], rounds[1]
    assert failures(first, "GTM_returns_2025.xlsx") == ["STR-006"]
    ids = {s["file"]: s["id"] for s in first["result"]["submissions"]}
    future = ids["GTM_returns_2025.xlsx"]
    # Not in the ledger while it fails STR-006; judged by the next build, then kept.
    assert future not in first["judged_after"]
    assert period["judged_after"][future] not in first["judged_after"].values()
    assert rounds[2]["judged_after"][future] == period["judged_after"][future]
    # Its numbers reach the marts exactly as a full rebuild of that date gives them.
    assert period["differences"]["marts.fct_observations"] == (0, 0)


def test_publishing_after_each_build_equals_a_full_publish(rounds):
    for r in rounds:
        assert r["site"] == r["site_full"], r["name"]
        assert r["publish"].products == r["publish_full"].products > 0
        assert r["publish_full"].queried == r["publish_full"].queries
    first, period, correction, withdrawal = rounds
    # The first publish has no earlier one: every product is queried.
    assert first["publish"].queried == first["publish"].queries
    # Later ones query only what the changed published keys reach, and say which keys.
    # (GTM and MEX x three sources in 2024, and GTM's returns of 2025 accepted at last.)
    assert any(
        "changed for 7 (country, source, year)" in line for line in period["publish_said"]
    ), period["publish_said"]
    for r in (period, correction, withdrawal):
        assert 0 < r["publish"].queried < r["publish"].queries, r["name"]
        assert r["publish"].rendered < r["publish"].products, r["name"]
    assert any(
        "changed for 1 (country, source, year)" in line for line in correction["publish_said"]
    )


def _data_test(home: Path, database: Path, selector: str) -> subprocess.CompletedProcess[str]:
    """``dbt test --select selector`` against ``database`` (named as a build file is)."""
    argv, env = dbt_command(Home(home), database, "test", "--select", selector)
    argv += ["--vars", json.dumps(build_vars(Home(home)))]
    return subprocess.run(
        argv, env=env, cwd=home, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.parametrize(
    ("table", "unique_test"),
    [
        ("marts.fct_observations", "unique_combination_fct_observations_observation_id"),
        (
            "intermediate.int_observations_unioned",
            "unique_combination_int_observations_unioned_submission_id__sheet__cell",
        ),
    ],
)
def test_a_duplicate_among_the_touched_keys_fails_the_tests_of_an_incremental_build(
    rounds, tmp_path, table, unique_test
):
    # An incremental build tests the merged tables over the touched keys' rows only (macro
    # get_where_subquery); a duplicate needs an inserted row, always of a touched key, and both
    # of its rows share the submission id, hence the key. Here on the last round's warehouse
    # (touched: GTM entries/exits 2023), a row copied once within that key, once outside it.
    home = rounds[-1]["home"]
    database = tmp_path / BUILD_FILE
    shutil.copyfile(home / "warehouse" / "migstat.duckdb", database)

    def duplicate(where: str) -> None:
        with duckdb.connect(str(database)) as con:
            con.execute(f"insert into {table} select * from {table} where {where} limit 1")

    duplicate("reporting_country_code = 'GTM' and source = 'entries_exits' and year = 2023")
    touched = _data_test(home, database, unique_test)
    assert touched.returncode != 0 and "FAIL 1" in touched.stdout, touched.stdout[-3000:]

    shutil.copyfile(home / "warehouse" / "migstat.duckdb", database)
    duplicate("reporting_country_code = 'MEX'")
    untouched = _data_test(home, database, unique_test)
    # A key no build touched: the subset does not read it (the previous build tested it) ...
    assert untouched.returncode == 0 and "ERROR=0" in untouched.stdout, untouched.stdout[-3000:]
    # ... which a build without touched keys (a full one) does.
    with duckdb.connect(str(database)) as con:
        con.execute("drop table build_meta.touched_keys")
    whole = _data_test(home, database, unique_test)
    assert whole.returncode != 0 and "FAIL 1" in whole.stdout, whole.stdout[-3000:]
