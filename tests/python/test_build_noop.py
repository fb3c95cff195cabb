"""A build with nothing to do keeps the published warehouse (issue 10): real dbt runs.

One home goes through builds where something changed (each must run dbt: a first build, a
submission failing a date-dependent rule, a resubmission, a withdrawal, ``--full-refresh``) and
builds where nothing did (each must say so, leave the published file as it is, run no dbt and
report the verdicts of the last real build, whatever the reference date once every verdict is
in the ledger). Then every other cause of a real build is checked on the same home against
:func:`migstat.build.unchanged_since_published`, each undone before the next: a published file
changed outside ``migstat build``, another project fingerprint (a spec overlay), another schema
environment, a missing documentation page, a submission's status or cells changed in the raw
store.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fixtures import raw_fixture
from fixtures.cli import migstat
from fixtures.label_tables import write_label_tables

from migstat.build import STAMP_FILE, project_fingerprint, unchanged_since_published
from migstat.codes import build_resolver
from migstat.home import Home
from migstat.resolutions import add_label_resolutions, write_label_resolutions
from migstat.specs import load_specs
from migstat.wiring import dbt_vars

BUILD_TIMEOUT = 1800
BEFORE, AFTER = "2024-12-31", "2025-12-31"
"""Build dates: GTM returns 2025 fails STR-006 (a future period) before, passes after."""


def build(home: Path, *args: str, reference: str) -> dict[str, Any]:
    done = migstat(
        home, "build", "--json", *args, timeout=BUILD_TIMEOUT, MIGSTAT_REFERENCE_DATE=reference
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {**json.loads(done.stdout), "stderr": done.stderr}


def file_state(home: Path) -> dict[str, Any]:
    warehouse = home / "warehouse" / "migstat.duckdb"
    log = home / "dbt" / "build.log"
    return {
        "inode": warehouse.stat().st_ino,
        "mtime_ns": warehouse.stat().st_mtime_ns,
        "log_mtime_ns": log.stat().st_mtime_ns,
        "build_files": sorted(p.name for p in (home / "warehouse").glob("build-*")),
    }


def verdicts(result: dict[str, Any]) -> list[tuple[int, str, list[str]]]:
    return [(s["id"], s["verdict"], s["problems"]) for s in result["submissions"]]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("noop") / "home"
    raw = home / "warehouse" / "landing.duckdb"
    raw.parent.mkdir(parents=True)
    raw_fixture.write(
        raw,
        [
            raw_fixture.Submission("GTM", "entries_exits", 2023, seed=1),
            raw_fixture.Submission("GTM", "returns", 2025, seed=12),
        ],
    )
    steps: dict[str, Any] = {"home": home}
    steps["first"] = build(home, reference=BEFORE)
    steps["date_dependent"] = build(home, reference=BEFORE)
    steps["date_passed"] = build(home, reference=AFTER)
    steps["state_before"] = file_state(home)
    steps["unchanged"] = build(home, reference=AFTER)
    steps["unchanged_other_date"] = build(home, reference=BEFORE)
    steps["state_after"] = file_state(home)
    steps["full_refresh"] = build(home, "--full-refresh", reference=AFTER)
    raw_fixture.write(raw, [raw_fixture.Submission("GTM", "entries_exits", 2023, 21_000, 31, "2")])
    steps["resubmission"] = build(home, reference=AFTER)
    corrected = max(s["id"] for s in steps["resubmission"]["submissions"])
    done = migstat(home, "withdraw", str(corrected), "--reason", "test", "--by", "test")
    assert done.returncode == 0, done.stdout + done.stderr
    steps["withdrawal"] = build(home, reference=AFTER)
    steps["after_withdrawal"] = build(home, reference=AFTER)
    return steps


@pytest.mark.slow
def test_a_build_runs_whenever_something_changed(story):
    names = ("first", "date_dependent", "date_passed", "full_refresh", "resubmission", "withdrawal")
    assert {name: story[name]["mode"] for name in names} == {
        "first": "full",
        "date_dependent": "incremental",
        "date_passed": "incremental",
        "full_refresh": "full",
        "resubmission": "incremental",
        "withdrawal": "incremental",
    }
    assert "build needed: 1 submission(s) judged again" in story["date_dependent"]["stderr"]
    assert "build needed: the raw store has 1 new submission(s)" in story["resubmission"]["stderr"]
    assert "build needed: the raw store's withdrawals changed" in story["withdrawal"]["stderr"]


@pytest.mark.slow
def test_the_date_dependent_verdict_is_given_again_by_the_build_that_runs(story):
    def future(result: dict[str, Any]) -> tuple[str, list[str]]:
        found = next(s for s in result["submissions"] if s["file"] == "GTM_returns_2025.xlsx")
        return found["verdict"], [problem.split()[0] for problem in found["problems"]]

    assert future(story["date_dependent"]) == ("quarantined", ["STR-006"])
    assert future(story["date_passed"])[0].startswith("accepted")


@pytest.mark.slow
def test_a_build_with_nothing_changed_keeps_the_published_file_and_runs_no_dbt(story):
    for name in ("unchanged", "unchanged_other_date", "after_withdrawal"):
        assert story[name]["mode"] == "unchanged", name
        assert "nothing changed since the published build" in story[name]["stderr"]
        assert story[name]["passed"]
    # Same file (inode, modification time), no dbt output written, no build file left.
    assert story["state_after"] == story["state_before"]
    assert story["state_after"]["build_files"] == []
    # The verdicts are those of the last real build, whatever the reference date: every
    # verdict is in the ledger, which incremental builds keep.
    assert verdicts(story["unchanged"]) == verdicts(story["date_passed"])
    assert verdicts(story["unchanged_other_date"]) == verdicts(story["date_passed"])
    assert verdicts(story["after_withdrawal"]) == verdicts(story["withdrawal"])
    assert any(v[1] == "withdrawn" for v in verdicts(story["after_withdrawal"]))


@pytest.mark.slow
def test_every_other_cause_makes_the_build_run(story, monkeypatch, tmp_path):
    home = Home(story["home"])
    specs = home.root / "specs"

    def reason() -> str | None:
        fingerprint = project_fingerprint(home, dbt_vars(load_specs(overlay=specs)))
        return unchanged_since_published(home, fingerprint)

    assert reason() is None
    published = home.published_db
    stat = published.stat()

    # The published file changed outside `migstat build` (its data may no longer agree).
    with duckdb.connect(str(published)) as con:
        con.execute("create table main.touched as select 1 as x")
    assert reason() == "the published warehouse is not the file the last build published"
    with duckdb.connect(str(published)) as con:
        con.execute("drop table main.touched")
        con.execute("checkpoint")
    assert reason() is not None
    stamp = json.loads((home.warehouse_dir / STAMP_FILE).read_text(encoding="utf-8"))
    stamp.update(size=published.stat().st_size, mtime_ns=published.stat().st_mtime_ns)
    (home.warehouse_dir / STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")
    assert reason() is None
    os.utime(published, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert reason() == "the published warehouse is not the file the last build published"
    os.utime(published, ns=(stat.st_atime_ns, stamp["mtime_ns"]))
    assert reason() is None

    # Another project fingerprint: any file in the home's spec overlay.
    specs.mkdir(exist_ok=True)
    extra = specs / "notes.txt"
    extra.write_text("a note\n", encoding="utf-8")
    assert reason() == "the published warehouse was built by another project, specs or versions"
    extra.unlink()
    assert reason() is None

    # Another schema environment (dbt would write other schemas).
    monkeypatch.setenv("MIGSTAT_ENVIRONMENT", "dev")
    assert reason() is not None and "schema environment" in reason()
    monkeypatch.delenv("MIGSTAT_ENVIRONMENT")
    assert reason() is None

    # No documentation page (the build that runs renders it again).
    docs = published.with_suffix(".docs.html")
    os.replace(docs, tmp_path / "docs.html")
    assert reason() == "the documentation page is missing"
    os.replace(tmp_path / "docs.html", docs)
    assert reason() is None

    # The raw store: a submission's status, cells of a submission the warehouse lacks.
    kept = tmp_path / "landing.duckdb"
    shutil.copy2(home.raw_db, kept)
    with duckdb.connect(str(home.raw_db)) as con:
        con.execute("update raw.submissions set status = 'rejected' where submission_id = 1")
    assert reason() == (
        "the raw store has 0 new submission(s) (0 gone, 1 changed since the published build)"
    )
    shutil.copy2(kept, home.raw_db)
    with duckdb.connect(str(home.raw_db)) as con:
        con.execute(
            "insert into raw.entries_exits select * replace (999 as submission_id) "
            "from raw.entries_exits limit 1"
        )
    assert reason() == "the raw store's entries_exits changed since the published build"
    shutil.copy2(kept, home.raw_db)
    assert reason() is None


def test_the_new_submissions_labels_added_equal_every_label_resolved_again(tmp_path):
    """An incremental build resolves only the labels its new submissions bring (the published
    table was written by the same resolver): the table equals one written over everything."""
    database = tmp_path / "build.duckdb"
    with duckdb.connect(str(database)) as con:
        write_label_tables(con, cell_role=True)
        con.execute(
            "insert into raw.entries_exits values "
            "(1, 'Quisqueya', 'Otros', 'Caribe', 'detail', 1), "
            "(2, 'Narnia', 'Otros', null, 'subtotal', 2)"
        )
        resolver = build_resolver(None)
        first = write_label_resolutions(con, resolver)
        # Submission 3 (MEX again) and 4 (a new country) arrive: one known label, new ones.
        con.execute("insert into raw.submissions values (3, 'MEX'), (4, 'CRI')")
        con.execute(
            "insert into raw.entries_exits values "
            "(3, 'Quisqueya', 'Tapachula, A.I.', 'Antillas', 'subtotal', 3), "
            "(4, 'Quisqueya', 'Otros', 'Caribe', 'detail', 4)"
        )
        added = add_label_resolutions(con, resolver, [3, 4])
        incremental = con.execute("select * from raw.label_resolutions order by all").fetchall()
        assert add_label_resolutions(con, resolver, []) == 0
        write_label_resolutions(con, resolver)
        full = con.execute("select * from raw.label_resolutions order by all").fetchall()
    assert incremental == full
    assert added == len(full) - first > 0
