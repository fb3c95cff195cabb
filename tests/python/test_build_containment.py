"""A dbt failure caused by one submission's data is contained (issue 9): real dbt runs.

The raw store gets four submissions written straight into it (no workbook: the loader would
reject the culprit): three clean ones and, second, one whose reference year is 2,147,483,647, the
largest INTEGER. The loader refuses such a year (STR-META), but a value it lets through by
mistake is exactly what this guards against: the plausibility model computes ``year * 12 +
month`` and fails with an INT32 overflow, so ``dbt build`` fails. `migstat build` must find
that submission by bisection, set it aside with rule STR-BUILD naming the failed model, and
publish the three others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import pytest
from fixtures import raw_fixture

pytestmark = pytest.mark.slow

CULPRIT_YEAR = 2_147_483_647


@pytest.fixture(scope="module")
def contained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("containment") / "home"
    raw = home / "warehouse" / "landing.duckdb"
    raw.parent.mkdir(parents=True)
    raw_fixture.write(
        raw,
        [
            raw_fixture.Submission("GTM", "returns", 2023),
            raw_fixture.Submission("GTM", "returns", CULPRIT_YEAR, seed=3),
            raw_fixture.Submission("HND", "returns", 2023, seed=4),
            raw_fixture.Submission("GTM", "asylum", 2023, seed=5),
        ],
    )
    done = subprocess.run(
        [sys.executable, "-m", "migstat", "build", "--json"],
        env={**os.environ, "MIGSTAT_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    return {"home": home, "done": done, "warehouse": home / "warehouse" / "migstat.duckdb"}


def test_the_build_sets_the_culprit_aside_and_publishes_the_rest(contained):
    done = contained["done"]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["passed"] and result["set_aside"] == [2], result
    assert "looking for the submission(s) that make it fail" in done.stderr
    assert "submission 2 makes the build fail" in done.stderr
    verdicts = {item["id"]: item for item in result["submissions"]}
    assert verdicts[2]["verdict"] == "rejected"
    assert "int_plausibility_failures_detected" in verdicts[2]["problems"][0]
    assert {verdicts[sid]["verdict"] for sid in (1, 3, 4)} <= {
        "accepted",
        "accepted with warnings",
    }
    with duckdb.connect(str(contained["warehouse"]), read_only=True) as con:
        published = con.execute(
            "select distinct submission_id from marts.fct_observations order by 1"
        ).fetchall()
        failure = con.execute(
            "select rule_id, severity, file_name, message_es, message_en "
            "from marts.quality_rule_failures where submission_id = 2"
        ).fetchall()
    assert published == [(1,), (3,), (4,)]
    assert len(failure) == 1
    rule, severity, file_name, message_es, message_en = failure[0]
    assert (rule, severity, file_name) == ("STR-BUILD", "error", f"GTM_returns_{CULPRIT_YEAR}.xlsx")
    assert "int_plausibility_failures_detected" in message_en
    assert message_es.startswith("El envío no se pudo juzgar: la compilación falló")


def test_the_raw_store_is_not_changed_by_the_search(contained):
    raw = contained["home"] / "warehouse" / "landing.duckdb"
    with duckdb.connect(str(raw), read_only=True) as con:
        statuses = con.execute(
            "select submission_id, status, error_rule from raw.submissions order by 1"
        ).fetchall()
        cells = con.execute("select count(*) from raw.returns where submission_id = 2").fetchone()
    assert statuses == [(1, "loaded", None), (2, "loaded", None), (3, "loaded", None),
                        (4, "loaded", None)]  # fmt: skip
    assert cells is not None and cells[0] > 0


def test_the_next_build_starts_incremental_judges_the_culprit_again_and_contains_it(contained):
    """The published warehouse is the contained build: the next build starts incremental from
    it, judges the set-aside submission again (it is not on the ledger), fails on it, and the
    search (full rebuilds) sets it aside again; the others stay published."""
    done = subprocess.run(
        [sys.executable, "-m", "migstat", "build", "--json"],
        env={**os.environ, "MIGSTAT_HOME": str(contained["home"])},
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["set_aside"] == [2] and result["mode"] == "full", result
    assert "build: incremental" in done.stderr
    assert "submission 2 makes the build fail" in done.stderr
    with duckdb.connect(str(contained["warehouse"]), read_only=True) as con:
        published = con.execute(
            "select distinct submission_id from marts.fct_observations order by 1"
        ).fetchall()
        judged = con.execute(
            "select submission_id from intermediate.int_submissions_judged order by 1"
        ).fetchall()
    assert published == [(1,), (3,), (4,)]
    assert judged == [(1,), (3,), (4,)]


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A clean home built once, then a carried-over mart of its published warehouse damaged
    outside `migstat build` (a column renamed), then built again (incremental: nothing new)."""
    home = tmp_path_factory.mktemp("damaged") / "home"
    raw = home / "warehouse" / "landing.duckdb"
    raw.parent.mkdir(parents=True)
    raw_fixture.write(
        raw,
        [
            raw_fixture.Submission("GTM", "returns", 2023),
            raw_fixture.Submission("HND", "returns", 2023, seed=4),
        ],
    )
    env = {**os.environ, "MIGSTAT_HOME": str(home)}
    command = [sys.executable, "-m", "migstat", "build", "--json"]
    first = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=3600
    )
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    warehouse = home / "warehouse" / "migstat.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        before = con.execute(
            "select * from marts.returns_by_origin_sex_age order by all"
        ).fetchall()
        con.execute("alter table marts.returns_by_origin_sex_age rename column returnees to n")
    again = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=3600
    )
    return {"home": home, "done": again, "warehouse": warehouse, "before": before}


def test_a_damaged_published_warehouse_is_rebuilt_in_full_and_blames_no_submission(damaged):
    """The incremental run fails on the damaged table; the same build rebuilt in full passes
    and is published, with no submission set aside (the search for culprits would have blamed
    the last one: its probes are full rebuilds, which pass)."""
    done = damaged["done"]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["passed"] and result["set_aside"] == [] and result["mode"] == "full", result
    assert "build: incremental" in done.stderr
    assert "building again in full" in done.stderr
    assert "the full build passes" in done.stderr
    assert "looking for the submission(s)" not in done.stderr
    assert (damaged["home"] / "dbt" / "build-incremental.log").stat().st_size > 0
    with duckdb.connect(str(damaged["warehouse"]), read_only=True) as con:
        after = con.execute("select * from marts.returns_by_origin_sex_age order by all").fetchall()
        mode = con.execute("select mode from build_meta.build").fetchone()
    assert after == damaged["before"]
    assert mode == ("full",)
