"""The bad-input corpus (issue 9): every kind of bad workbook gets its verdict, a message naming
file, sheet and cell and the rule broken, within the loader's memory bound, and the published
data of every other submission stays as it was.

One baseline home is built once: the sample workbooks, loaded and built. Then every corpus file
(``bad_input_corpus.KINDS``) is loaded by its own real ``migstat load`` process, in order, whose
peak resident memory (the command and its reader processes: ``wait4``'s resource usage covers
the waited-for descendants) is recorded per file. One ``migstat build`` then judges all of them
at once (a bad file is judged per submission). The per-kind table (kind, verdict, rule, peak MB)
is printed and written to ``test-artifacts/bad_input_corpus.md``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from bad_input_corpus import (
    ACCEPTED,
    DUPLICATE,
    KINDS,
    REJECTED,
    SUPERSEDED,
    WARNED,
    Corpus,
    Kind,
)
from fixtures.cli import migstat as run_migstat
from fixtures.cli import migstat_env

from migstat.home import REPO_ROOT
from migstat.workbooks.samples import write_samples

pytestmark = pytest.mark.slow

PEAK_BOUND_MB = 500
"""The documented bound on the loader's peak memory (README, "Loader limits")."""
LOAD_TIMEOUT_SECONDS = 600
"""A generous bound on one file's load (a hang fails the test; wall time is not asserted)."""
ARTIFACT = REPO_ROOT / "test-artifacts" / "bad_input_corpus.md"
PUBLISHING = (ACCEPTED, WARNED, SUPERSEDED)
"""Verdicts whose kind changes what its own key publishes."""


@dataclass
class Load:
    file: Path
    exit_code: int
    stdout: str
    stderr: str
    peak_mb: float
    submission_ids: list[int] = field(default_factory=list)


def env_of(home: Path) -> dict[str, str]:
    return migstat_env(home, COLUMNS="400")


def migstat(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_migstat(home, *args, timeout=LOAD_TIMEOUT_SECONDS * 2, COLUMNS="400")


def load_measured(home: Path, path: Path) -> Load:
    """``migstat load PATH`` in its own process; its peak RSS includes its readers."""
    out, err = home.parent / "load.out", home.parent / "load.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "migstat", "load", str(path)],
            env=env_of(home),
            stdout=stdout,
            stderr=stderr,
        )
        timer = threading.Timer(LOAD_TIMEOUT_SECONDS, process.kill)
        timer.start()
        try:
            # Reaped here, not by Popen: wait4 gives the resource usage of the process and of
            # the reader processes it waited for.
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
    return Load(
        path,
        process.returncode,
        out.read_text(encoding="utf-8"),
        err.read_text(encoding="utf-8"),
        usage.ru_maxrss / 1024,
    )


def max_submission_id(home: Path) -> int:
    with duckdb.connect(str(home / "warehouse" / "landing.duckdb"), read_only=True) as con:
        return con.execute(
            "select coalesce(max(submission_id), 0) from raw.submissions"
        ).fetchone()[0]


FINGERPRINT = """
select submission_id, reporting_country_code, source, year, count(*),
       sum(hash(sheet, cell, measure, breakdown, flow_code, nationality_code, country_from_code,
                sex_code, age_group_code, port_code, permit_type_code, activity_code,
                decision_code, residence_code, month, value, value_status, obs_flag)::hugeint)
from marts.fct_observations group by all
"""


def fingerprint(warehouse: Path) -> dict[tuple[str, str, str], tuple]:
    """(country, source, period) -> (submission id, rows, hash of the published rows)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(FINGERPRINT).fetchall()
    return {(row[1], row[2], str(row[3])): (row[0], row[4], row[5]) for row in rows}


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("corpus")
    home = root / "home"
    inbox = home / "inbox"
    write_samples(inbox, seed=0)
    loaded = migstat(home, "load", str(inbox))
    assert loaded.returncode in (0, 1), loaded.stderr[-3000:]
    first = migstat(home, "build")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    warehouse = home / "warehouse" / "migstat.duckdb"
    baseline = fingerprint(warehouse)

    corpus = Corpus(root / "corpus", inbox)
    loads: dict[str, list[Load]] = {}
    for kind in KINDS:
        loads[kind.name] = []
        for path in kind.files(corpus):
            before = max_submission_id(home)
            done = load_measured(home, path)
            with duckdb.connect(str(home / "warehouse" / "landing.duckdb"), read_only=True) as con:
                done.submission_ids = [
                    row[0]
                    for row in con.execute(
                        "select submission_id from raw.submissions where submission_id > ? "
                        "order by 1",
                        [before],
                    ).fetchall()
                ]
            loads[kind.name].append(done)
    build = migstat(home, "build", "--json")
    return {
        "home": home,
        "baseline": baseline,
        "loads": loads,
        "build_exit": build.returncode,
        "build": build,
        "warehouse": warehouse,
    }


@dataclass
class Outcome:
    verdict: str
    rule: str | None
    sheet: str | None
    cell: str | None
    message: str
    failures: list[tuple]
    key: tuple[str, str, str] | None


def outcome_of(judged: dict, kind: Kind) -> Outcome:
    load = judged["loads"][kind.name][-1]
    if not load.submission_ids:
        return Outcome(DUPLICATE, None, None, None, load.stdout, [], None)
    (sid,) = load.submission_ids
    with duckdb.connect(str(judged["warehouse"]), read_only=True) as con:
        status, warnings, rejection, sheet, cell, country, source, period = con.execute(
            "select status, has_warnings, rejection_message, error_sheet, error_cell, "
            "country_code, source, period from marts.quality_submissions where submission_id = ?",
            [sid],
        ).fetchone()
        (rule,) = con.execute(
            "select error_rule from raw.submissions where submission_id = ?", [sid]
        ).fetchone()
        failures = con.execute(
            "select rule_id, severity, sheet, cell, file_name, message_es, message_en "
            "from marts.quality_rule_failures where submission_id = ? "
            "order by severity, rule_id, sheet, cell",
            [sid],
        ).fetchall()
    if status == "rejected":
        return Outcome(REJECTED, rule, sheet, cell, rejection or "", failures, None)
    verdict = WARNED if status == "accepted" and warnings else status
    wanted = {"quarantined": "error"}.get(status, "warn")
    named = [f for f in failures if f[1] == wanted and (kind.rule is None or f[0] == kind.rule)]
    shown = named[0] if named else (failures[0] if failures else None)
    return Outcome(
        verdict,
        shown[0] if shown else None,
        shown[2] if shown else None,
        shown[3] if shown else None,
        shown[6] if shown else "",
        failures,
        (country, source, period),
    )


def test_the_corpus_has_at_least_50_kinds():
    assert len(KINDS) >= 50
    assert len({kind.name for kind in KINDS}) == len(KINDS)


def test_the_build_judges_every_kind_and_publishes(judged):
    build = judged["build"]
    assert judged["build_exit"] == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert json.loads(build.stdout)["passed"]


@pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])
def test_each_kind_gets_its_verdict_rule_and_cell(judged, kind: Kind):
    load = judged["loads"][kind.name][-1]
    outcome = outcome_of(judged, kind)
    assert load.peak_mb < PEAK_BOUND_MB, f"{kind.name}: peak {load.peak_mb:.0f} MB"
    assert outcome.verdict == kind.verdict, (outcome, load.stderr[-2000:])
    if kind.verdict == DUPLICATE:
        assert "skipped" in load.stdout and "already received" in load.stdout
        return
    if kind.verdict == REJECTED:
        assert load.exit_code == 1
        assert (outcome.rule, outcome.sheet) == (kind.rule, kind.sheet), outcome
        if kind.cell:
            assert outcome.cell == kind.cell, outcome
        assert kind.words in outcome.message, outcome.message
        line = next(line for line in load.stderr.splitlines() if load.file.name in line)
        assert f"rule {kind.rule}" in line, line
        assert outcome.message and outcome.message in line, (outcome.message, line)
        for part, value in (("sheet", kind.sheet), ("cell", kind.cell)):
            if value:
                assert f"{part} {value}" in line, line
        return
    assert load.exit_code == 0, load.stderr[-2000:]
    if kind.rule is None:
        return
    assert outcome.rule == kind.rule, outcome.failures
    failure = next(f for f in outcome.failures if f[0] == kind.rule and f[2] == outcome.sheet)
    assert failure[4] == load.file.name, "the failure names the file"
    assert failure[5] and failure[6], "the message is given in Spanish and English"
    if kind.sheet:
        assert outcome.sheet == kind.sheet, outcome.failures
    if kind.cell:
        matching = [
            f for f in outcome.failures if f[0] == kind.rule and f[2:4] == (kind.sheet, kind.cell)
        ]
        assert matching, outcome.failures
        assert kind.cell in matching[0][6] or kind.sheet in matching[0][6], matching[0]


def test_the_published_data_of_every_other_submission_is_unchanged(judged):
    own = set()
    for kind in KINDS:
        if kind.verdict in PUBLISHING:
            outcome = outcome_of(judged, kind)
            assert outcome.key is not None
            own.add(outcome.key)
    after = fingerprint(judged["warehouse"])
    before = judged["baseline"]
    changed = {key for key in before.keys() - own if after.get(key) != before[key]}
    assert not changed, sorted(changed)
    new = sorted(after.keys() - before.keys() - own)
    assert not new, f"published keys no kind should publish: {new}"


def test_the_corpus_table_is_written(judged):
    lines = [
        "| kind | verdict | rule | sheet!cell | peak MB |",
        "|---|---|---|---|---|",
    ]
    for kind in KINDS:
        outcome = outcome_of(judged, kind)
        load = judged["loads"][kind.name][-1]
        where = "!".join(part for part in (outcome.sheet, outcome.cell) if part)
        lines.append(
            f"| {kind.name} | {outcome.verdict} | {outcome.rule or ''} | {where} | "
            f"{load.peak_mb:.0f} |"
        )
    peaks = [load.peak_mb for loads in judged["loads"].values() for load in loads]
    lines.append("")
    lines.append(f"{len(KINDS)} kinds; largest peak {max(peaks):.0f} MB (bound {PEAK_BOUND_MB} MB)")
    table = "\n".join(lines)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(table + "\n", encoding="utf-8")
    print("\n" + table)
    assert len(lines) == len(KINDS) + 4
