"""Incremental builds give exactly the marts of a full rebuild (issue 10): real dbt runs.

One home goes through four rounds, each built incrementally from the published warehouse:
a first load (two countries, three sources, one of them quarantined), a new period for every
country, a corrected resubmission (version 2, published over version 1) and the withdrawal of
that correction (version 1 is published again). After every round a copy of the home is built
with ``migstat build --full-refresh`` and every mart is compared row by row with the
incremental one (doubles rounded to 9 decimals: DuckDB sums them in no fixed order). The
ledger shows that a submission judged once is not judged again.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from fixtures import raw_fixture
from fixtures.cli import migstat

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


def build(home: Path, *args: str) -> dict:
    done = migstat(home, "build", "--json", *args, timeout=BUILD_TIMEOUT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout)


def mart_differences(incremental: Path, full: Path) -> dict[str, tuple[int, int]]:
    """Per mart: rows only in the incremental warehouse, rows only in the full one."""
    con = duckdb.connect()
    con.execute(f"attach '{incremental}' as incremental (read_only)")
    con.execute(f"attach '{full}' as full_build (read_only)")
    tables = con.execute(
        "select table_name from duckdb_tables() where database_name = 'full_build' "
        "and schema_name = 'marts' order by 1"
    ).fetchall()
    differences = {}
    for (table,) in tables:
        columns = con.execute(
            "select column_name, data_type from duckdb_columns() where database_name = "
            "'full_build' and schema_name = 'marts' and table_name = ? order by column_index",
            [table],
        ).fetchall()
        shown = ", ".join(
            f'round("{name}", 9) as "{name}"' if kind in ("DOUBLE", "FLOAT") else f'"{name}"'
            for name, kind in columns
        )

        def only_in(left: str, right: str, table: str = table, shown: str = shown) -> int:
            row = con.execute(
                f"select count(*) from (select {shown} from {left}.marts.{table} "
                f"except all select {shown} from {right}.marts.{table})"
            ).fetchone()
            assert row is not None
            return int(row[0])

        differences[table] = (
            only_in("incremental", "full_build"),
            only_in("full_build", "incremental"),
        )
    con.close()
    return differences


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
        before = judged_by(warehouse) if warehouse.exists() else {}
        result = build(home)
        copy = root / f"full-{number}"
        shutil.copytree(home, copy, ignore=shutil.ignore_patterns("dbt"))
        full = build(copy, "--full-refresh")
        results.append(
            {
                "name": name,
                "result": result,
                "full": full,
                "judged_before": before,
                "judged_after": judged_by(warehouse),
                "differences": mart_differences(warehouse, copy / "warehouse" / "migstat.duckdb"),
            }
        )
        shutil.rmtree(copy)
    return results


def test_the_first_build_is_full_and_the_next_ones_incremental(rounds):
    assert [r["result"]["mode"] for r in rounds] == ["full", *["incremental"] * 3]
    assert all(r["full"]["mode"] == "full" for r in rounds)


def test_every_mart_of_every_round_equals_a_full_rebuild(rounds):
    for r in rounds:
        differing = {table: diff for table, diff in r["differences"].items() if diff != (0, 0)}
        assert not differing, (r["name"], differing)
        assert "fct_observations" in r["differences"] and len(r["differences"]) >= 15


def test_verdicts_follow_the_rounds(rounds):
    def verdicts(r: dict) -> dict[str, str]:
        return {s["file"]: s["verdict"] for s in r["result"]["submissions"]}

    first, period, correction, withdrawal = (verdicts(r) for r in rounds)
    assert first["MEX_returns_2022.xlsx"] == "quarantined"
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
