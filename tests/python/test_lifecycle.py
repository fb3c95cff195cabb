"""Nothing lost, withdrawal and concurrency, with real `migstat` processes on real homes.

A handful of sample workbooks (two versions of one key, a quarantined file and its correction,
a rejected file) are loaded and built once (module scope); the other tests copy that home and
run at most one more build each: a withdrawal plus loads queued behind a frozen load while
readers query the published warehouse, and a restore after deleting the raw store (with a build
killed on the way). A writer is held in place with SIGSTOP/SIGCONT, so "waits" is observed, not
timed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import openpyxl
import pytest
from fixtures.cli import migstat as run_migstat
from fixtures.cli import migstat_env

from migstat.archive import archived_hashes
from migstat.build import dbt_processes, spill_folder
from migstat.history import Journal
from migstat.home import Home
from migstat.lifecycle import verify
from migstat.lock import is_held, writer_lock
from migstat.specs import load_specs
from migstat.status import home_status
from migstat.workbooks.samples import SampleMaker, make_file

pytestmark = pytest.mark.slow

FIRST = [
    "CRI_work_permits_2023.xlsx",
    "DOM_work_permits_2022.xlsx",
    "GTM_returns_2023.xlsx",
    "MEX_asylum_2024.xlsx",
    "PAN_residence_permits_2024.xlsx",
    "PAN_residence_permits_2024_v2.xlsx",
]
CRI_V2 = "CRI_work_permits_2023_v2.xlsx"
LATER = ["HND_asylum_2023.xlsx", "BLZ_returns_2024.xlsx", "NIC_asylum_2022.xlsx"]
LAST = ["SLV_returns_2022.xlsx", "GTM_asylum_2024.xlsx"]
WAIT_LIMIT_SECONDS = 300.0
"""Upper bound of every polling loop (a failure, never a measurement)."""


def env_of(home: Path) -> dict[str, str]:
    return migstat_env(home, COLUMNS="200")


def migstat(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_migstat(home, *args, COLUMNS="200")


@dataclass
class Background:
    """A `migstat` command running in the background, its output in files."""

    process: subprocess.Popen[str]
    out: Path
    err: Path

    @classmethod
    def start(cls, home: Path, name: str, *args: str) -> Background:
        out, err = home.parent / f"{name}.out", home.parent / f"{name}.err"
        with out.open("w") as stdout, err.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "migstat", *args],
                env=env_of(home),
                stdout=stdout,
                stderr=stderr,
                text=True,
            )
        return cls(process, out, err)

    def finish(self) -> tuple[int, str, str]:
        code = self.process.wait(timeout=WAIT_LIMIT_SECONDS)
        return code, self.out.read_text(), self.err.read_text()


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def lock_holder(home: Path, name: str = "store") -> int | None:
    path = home / "locks" / f"{name}.lock"
    try:
        return json.loads(path.read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return None


@contextmanager
def frozen_load(home: Path, name: str, folder: Path) -> Iterator[Background]:
    """A real `migstat load` stopped (SIGSTOP) while it holds the store lock; resumed on exit."""
    load = Background.start(home, name, "load", str(folder))
    wait_until(
        lambda: lock_holder(home) == load.process.pid or load.process.poll() is not None,
        "the load to take the store lock",
    )
    os.kill(load.process.pid, signal.SIGSTOP)
    try:
        assert load.process.poll() is None and is_held(Home(home.resolve()), "store"), (
            "load finished too early"
        )
        yield load
    finally:
        os.kill(load.process.pid, signal.SIGCONT)


def dbt_pids(home: Path) -> list[int]:
    """The dbt processes building this home's warehouse, found as `migstat build` finds them."""
    return dbt_processes(Home(home.resolve()))


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def verdicts(home: Path) -> dict[str, tuple[int, str, bool]]:
    rows = query(
        home / "warehouse" / "migstat.duckdb",
        "select file_name, submission_id, status, is_published from marts.quality_submissions",
    )
    return {name: (sid, status, published) for name, sid, status, published in rows}


def published_keys(home: Path) -> set[tuple]:
    return set(
        query(
            home / "warehouse" / "migstat.duckdb",
            "select country_code, source, period, submission_id "
            "from marts.quality_submissions where is_published",
        )
    )


def raw_rows(home: Path) -> list[tuple]:
    return query(
        home / "warehouse" / "landing.duckdb",
        "select submission_id, file_name, sha256, status, country_code, source, period, "
        "received_at, error_message from raw.submissions order by submission_id",
    )


def copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("site", "superset"))
    return target


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Folders of sample workbooks: first, cri_v2 (a clean second version), later, last."""
    root = tmp_path_factory.mktemp("lifecycle_files")
    maker = SampleMaker(0, load_specs())
    folders = {}
    for folder, names in (("first", FIRST), ("later", LATER), ("last", LAST)):
        folders[folder] = root / folder
        for name in names:
            make_file(maker, name, folders[folder], 2024)
    folders["cri_v2"] = root / "cri_v2"
    folders["cri_v2"].mkdir()
    book = openpyxl.load_workbook(folders["first"] / FIRST[0])
    book["Metadatos"]["B13"] = 2
    book.save(folders["cri_v2"] / CRI_V2)
    return folders


@pytest.fixture(scope="module")
def built(tmp_path_factory, files) -> Path:
    """A home with the first files and the CRI resubmission loaded, built once."""
    home = tmp_path_factory.mktemp("lifecycle_built") / "home"
    loaded = migstat(home, "load", str(files["first"]), str(files["cri_v2"]))
    assert loaded.returncode == 1, loaded.stderr  # DOM_work_permits_2022 is rejected
    build = migstat(home, "build", "--json")
    assert build.returncode == 0, build.stdout + build.stderr
    return home


# ----------------------------------------------------------------------------- archive, history


def test_every_received_file_is_archived_read_only_and_journaled(built, files):
    journal = Journal.read(Home(built))
    names = {entry["file_name"]: entry for entry in journal.received.values()}
    assert set(names) == {*FIRST, CRI_V2}
    assert names["DOM_work_permits_2022.xlsx"]["status"] == "rejected"
    for entry in journal.received.values():
        archived = Path(entry["archive"])
        assert archived == built / "archive" / entry["sha256"][:2] / f"{entry['sha256']}.xlsx"
        folder = files["cri_v2" if entry["file_name"] == CRI_V2 else "first"]
        assert archived.read_bytes() == (folder / entry["file_name"]).read_bytes()
        assert archived.stat().st_mode & 0o222 == 0, "archived copies are read-only"
    assert verify(Home(built)) == []


def test_same_file_again_is_a_duplicate_in_the_history_not_a_new_submission(built, tmp_path, files):
    home = copy_home(built, tmp_path / "home")
    again = migstat(home, "load", str(files["first"] / "GTM_returns_2023.xlsx"))
    assert again.returncode == 0, again.stderr
    journal = Journal.read(Home(home))
    gtm = next(e for e in journal.received.values() if e["file_name"] == "GTM_returns_2023.xlsx")
    assert len(journal.duplicates[gtm["id"]]) == 1
    assert len(raw_rows(home)) == len(journal.received) == len(FIRST) + 1
    status = json.loads(migstat(home, "status", "--json").stdout)
    assert next(s for s in status["submissions"] if s["id"] == gtm["id"])["received_again"] == 1


# ----------------------------------------------------------------------------- loads at once


def test_two_loads_at_once_both_succeed_and_record_every_file_once(tmp_path, files):
    home = tmp_path / "home"
    first = Background.start(home, "load_a", "load", str(files["later"]))
    second = Background.start(home, "load_b", "load", str(files["last"]), str(files["later"]))
    for load in (first, second):
        code, out, err = load.finish()
        assert code == 0, out + err
        assert "Traceback" not in err
    rows = raw_rows(home)
    assert sorted(row[1] for row in rows) == sorted(LATER + LAST)
    assert len({row[2] for row in rows}) == len(rows)
    journal = Journal.read(Home(home))
    assert sorted(e["file_name"] for e in journal.received.values()) == sorted(LATER + LAST)
    assert sum(len(d) for d in journal.duplicates.values()) == len(LATER)
    assert verify(Home(home)) == []


def test_a_load_waits_for_a_running_load_and_status_answers_meanwhile(tmp_path, files):
    home = tmp_path / "home"
    with frozen_load(home, "frozen", files["later"]) as frozen:
        waiting = Background.start(home, "waiting", "load", str(files["last"]))
        wait_until(
            lambda: "waiting for the load started by PID" in waiting.err.read_text(),
            "the second load to say it waits",
        )
        assert str(frozen.process.pid) in waiting.err.read_text()
        assert waiting.process.poll() is None
        status = migstat(home, "status", "--json")
        assert status.returncode == 0, status.stderr
        assert "Traceback" not in status.stderr
        report = json.loads(status.stdout)
        assert report["store_note"] and "busy" in report["store_note"]
        plain = migstat(home, "status")
        assert plain.returncode == 0 and "statuses from the history" in plain.stdout
    for load in (frozen, waiting):
        code, out, err = load.finish()
        assert code == 0, out + err
    assert sorted(row[1] for row in raw_rows(home)) == sorted(LATER + LAST)


def test_status_of_a_store_file_a_writer_has_not_finished_says_busy_not_restore(tmp_path):
    """A load creating the raw store can be caught before DuckDB wrote its header: the file
    exists but does not open. While the store lock is held that is a busy store, not a damaged
    one; only without a writer does status point to `migstat restore`."""
    home = Home(tmp_path / "home").ensure()
    home.raw_db.parent.mkdir(parents=True, exist_ok=True)
    home.raw_db.write_bytes(bytes(4096))
    with writer_lock(home, "store", "load"):
        note = home_status(home)["store_note"]
    assert "being written" in note and "busy" in note and str(os.getpid()) in note, note
    assert "restore" not in note, note
    alone = home_status(home)["store_note"]
    assert "unreadable" in alone and "migstat restore" in alone, alone


def test_a_writer_gives_up_cleanly_after_the_lock_timeout(tmp_path, files):
    home = tmp_path / "home"
    with frozen_load(home, "frozen", files["later"]):
        impatient = migstat(home, "--lock-timeout", "1", "load", str(files["last"]))
    assert impatient.returncode == 3
    assert "still holds" in impatient.stderr and "Traceback" not in impatient.stderr


# ----------------------------------------------------------------------------- withdraw, readers


@dataclass
class Readers:
    """Threads querying the published warehouse read-only, as Superset and the products do
    (a new connection per query), until told to stop or a query cap is reached."""

    warehouse: Path
    threads: int = 3
    cap: int = 5000
    queries: int = 0
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    SQL = (
        "select count(*), sum(value) from marts.indicators",
        "select country_code, source, period, status from marts.quality_submissions",
        "select * from marts.movements_yearly limit 50",
        "select reporting_country_code, count(*) from marts.fct_observations group by 1",
    )

    def _run(self) -> None:
        done = 0
        while not self.stop.is_set() and done < self.cap:
            sql = self.SQL[done % len(self.SQL)]
            try:
                with duckdb.connect(str(self.warehouse), read_only=True) as con:
                    con.execute(sql).fetchall()
            except duckdb.Error as error:
                self.errors.append(f"{sql}: {error}")
            done += 1
            time.sleep(0.01)
        self.queries += done

    @contextmanager
    def running(self) -> Iterator[Readers]:
        workers = [threading.Thread(target=self._run) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        try:
            yield self
        finally:
            self.stop.set()
            for worker in workers:
                worker.join(timeout=WAIT_LIMIT_SECONDS)


@pytest.fixture(scope="module")
def withdrawn_and_queued(built, files, tmp_path_factory) -> dict:
    """Withdraw the CRI second version; then, while readers query the published warehouse, a
    load is frozen holding the store lock, a build and another load queue behind it."""
    home = copy_home(built, tmp_path_factory.mktemp("lifecycle_queued") / "home")
    before = verdicts(home)
    cri_v2 = before[CRI_V2][0]
    withdrawn = migstat(home, "withdraw", str(cri_v2), "--reason", "wrong totals", "--by", "ana")
    assert withdrawn.returncode == 0, withdrawn.stderr
    readers = Readers(home / "warehouse" / "migstat.duckdb")
    statuses = []
    with readers.running():
        with frozen_load(home, "frozen", files["later"]):
            build = Background.start(home, "build", "build", "--json")
            wait_until(
                lambda: "waiting for the load started by PID" in build.err.read_text(),
                "the build to wait for the load",
            )
            queued = Background.start(home, "queued", "load", str(files["last"]))
            wait_until(lambda: "waiting for" in queued.err.read_text(), "the second load")
            statuses.append(migstat(home, "status", "--json"))
        results = {name: job.finish() for name, job in (("build", build), ("queued", queued))}
    return {
        "home": home,
        "before": before,
        "cri_v2": cri_v2,
        "readers": readers,
        "results": results,
        "statuses": statuses,
        "after": verdicts(home),
    }


def test_withdrawal_republishes_the_previous_version(withdrawn_and_queued):
    code, out, err = withdrawn_and_queued["results"]["build"]
    assert code == 0, out + err
    before, after = withdrawn_and_queued["before"], withdrawn_and_queued["after"]
    assert before[CRI_V2][1:] == ("accepted", True)
    assert before[FIRST[0]][1:] == ("superseded", False)
    assert after[CRI_V2][1:] == ("withdrawn", False)
    assert after[FIRST[0]][1:] == ("accepted", True), "the previous version is published again"
    status = json.loads(migstat(withdrawn_and_queued["home"], "status", "--json").stdout)
    item = next(s for s in status["submissions"] if s["id"] == withdrawn_and_queued["cri_v2"])
    assert item["status"] == "withdrawn"
    assert item["withdrawn"]["by"] == "ana" and item["withdrawn"]["reason"] == "wrong totals"


def test_a_build_waits_for_a_running_load_and_snapshots_all_of_it(withdrawn_and_queued):
    code, out, err = withdrawn_and_queued["results"]["build"]
    assert code == 0, err
    built_files = {item["file"] for item in json.loads(out)["submissions"]}
    assert set(LATER) <= built_files, "the build snapshot holds the whole load it waited for"
    code, out, err = withdrawn_and_queued["results"]["queued"]
    assert code == 0 and "Traceback" not in err, err
    for status in withdrawn_and_queued["statuses"]:
        assert status.returncode == 0 and "Traceback" not in status.stderr


def test_readers_never_fail_while_loads_and_builds_queue_and_nothing_is_lost(
    withdrawn_and_queued,
):
    readers = withdrawn_and_queued["readers"]
    home = withdrawn_and_queued["home"]
    print(f"\nconcurrency: {readers.queries} read-only queries by {readers.threads} threads, ")
    print(f"{len(readers.errors)} failed, during 2 loads, 1 withdrawal and 1 build")
    assert readers.queries > 0
    assert readers.errors == []
    rows = raw_rows(home)
    assert sorted(row[1] for row in rows) == sorted([*FIRST, CRI_V2, *LATER, *LAST])
    assert archived_hashes(home) <= {row[2] for row in rows}
    assert verify(Home(home)) == []


# ----------------------------------------------------------------------------- restore, kill


@pytest.fixture(scope="module")
def restored(built, files, tmp_path_factory) -> dict:
    """The built home with its raw store deleted; then restore, a killed build, a build."""
    home = copy_home(built, tmp_path_factory.mktemp("lifecycle_restored") / "home")
    withdrawn = migstat(home, "withdraw", "1", "--reason", "sent by mistake")
    assert withdrawn.returncode == 0, withdrawn.stderr
    original_rows = raw_rows(home)
    (home / "warehouse" / "landing.duckdb").unlink()
    result: dict = {"home": home, "original_rows": original_rows}
    result["status_without_store"] = migstat(home, "status", "--json")
    result["load_without_store"] = migstat(home, "load", str(files["last"]))
    result["restore"] = migstat(home, "restore")
    result["restored_rows"] = raw_rows(home)
    killed = Background.start(home, "killed_build", "build")
    wait_until(lambda: dbt_pids(home) or killed.process.poll() is not None, "dbt to start")
    result["dbt_while_building"] = dbt_pids(home)
    killed.process.kill()
    killed.process.wait(timeout=WAIT_LIMIT_SECONDS)
    wait_until(lambda: not dbt_pids(home), "dbt to die with its parent")
    result["leftovers"] = sorted(p.name for p in (home / "warehouse").glob("build-*"))
    # What a DuckDB killed while spilling leaves (the samples never spill).
    spill = spill_folder(Home(home))
    spill.mkdir(parents=True, exist_ok=True)
    (spill / "duckdb_temp_storage_DEFAULT-0.tmp").write_bytes(b"\0" * 262_144)
    result["build"] = migstat(home, "build", "--json")
    result["after_build"] = sorted(p.name for p in (home / "warehouse").glob("build-*"))
    result["spill_after_build"] = sorted(p.name for p in spill.rglob("*") if p.is_file())
    return result


def test_status_reads_the_history_when_the_raw_store_is_missing(restored):
    status = restored["status_without_store"]
    assert status.returncode == 0 and "Traceback" not in status.stderr
    report = json.loads(status.stdout)
    assert "raw store missing" in report["store_note"] and "restore" in report["store_note"]
    assert [s["id"] for s in report["submissions"]] == [r[0] for r in restored["original_rows"]]
    assert next(s for s in report["submissions"] if s["id"] == 1)["status"] == "withdrawn"


def test_load_refuses_to_start_an_empty_store_when_the_history_has_files(restored):
    load = restored["load_without_store"]
    assert load.returncode == 3 and "migstat restore" in load.stderr


def test_restore_gives_back_the_same_submissions_and_verdicts(restored):
    assert restored["restore"].returncode == 0, restored["restore"].stderr
    assert restored["restored_rows"] == restored["original_rows"]
    assert verify(Home(restored["home"])) == []


def test_killing_a_build_leaves_no_dbt_and_the_next_build_cleans_up(restored):
    assert restored["dbt_while_building"], "dbt was running when the build was killed"
    assert any(name.endswith(".duckdb") for name in restored["leftovers"])
    build = restored["build"]
    assert build.returncode == 0, build.stdout + build.stderr
    assert "removed leftovers of dead builds" in build.stderr
    assert "DuckDB spill files (0.3 MB)" in build.stderr
    assert restored["after_build"] == []
    assert restored["spill_after_build"] == []


def test_the_build_after_restore_publishes_what_was_published(restored, built):
    before = published_keys(built)
    after = published_keys(restored["home"])
    # The withdrawal of submission 1 (superseded) changes nothing published.
    assert after == before
    statuses = verdicts(restored["home"])
    assert {name: s for name, s in statuses.items() if s[0] != 1} == {
        name: s for name, s in verdicts(built).items() if s[0] != 1
    }


# ----------------------------------------------------------------------------- unpublish guard


def test_a_build_on_an_emptied_store_refuses_to_unpublish(built, tmp_path, files):
    home = copy_home(built, tmp_path / "home")
    for lost in ("warehouse/landing.duckdb", "history.jsonl"):
        (home / lost).unlink()
    shutil.rmtree(home / "archive")
    published = home / "warehouse" / "migstat.duckdb"
    inode = published.stat().st_ino
    loaded = migstat(home, "load", str(files["last"] / LAST[0]))
    assert loaded.returncode == 0, loaded.stderr
    build = migstat(home, "build")
    assert build.returncode == 3, build.stdout + build.stderr
    assert "refusing to publish" in build.stderr
    for key in ("GTM/returns/2023", "MEX/asylum/2024", "CRI/work_permits/2023"):
        assert key in build.stderr
    assert "--allow-unpublish" in build.stderr and "migstat restore" in build.stderr
    assert published.stat().st_ino == inode, "the published warehouse is unchanged"
    assert not list((home / "warehouse").glob("build-*"))
