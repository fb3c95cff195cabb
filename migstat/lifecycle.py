"""Withdraw a submission, restore the raw store from the archive, verify that nothing is lost.

Each function is one writer command; the CLI holds the store lock (:mod:`migstat.lock`) around
it. The raw store is rebuilt from the archive (:mod:`migstat.archive`) by replaying the history
(:mod:`migstat.history`) in submission order: each loaded file is read again from the archive
by the loader, under the id, name, path and received time it first had; each rejection is
recorded again as the history says it was; then the withdrawals are recorded again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from loaders.load import load_file
from loaders.store import FileFacts, RawStore, Replayed
from migstat.archive import archived_hashes, find_archived
from migstat.errors import MigstatError
from migstat.history import Journal, Keeper, append, now_iso, withdrawn_event
from migstat.home import Home
from migstat.readonly import connect_read_only
from migstat.specs import load_specs


def withdraw(home: Home, submission_id: int, reason: str, by: str) -> dict[str, Any]:
    """Take a submission out of what is published from the next build on; returns the event."""
    if not reason.strip():
        raise MigstatError("withdraw: --reason must say why (it is kept in the history)")
    if not home.raw_db.exists():
        raise MigstatError(
            f"no raw store at {home.raw_db}"
            + ("; run `migstat restore` first" if Journal.read(home).received else "")
        )
    with RawStore(home.raw_db, load_specs(), keeper=Keeper(home)) as store:
        row = store.con.execute(
            "select file_name from raw.submissions where submission_id = ?", [submission_id]
        ).fetchone()
        if row is None:
            raise MigstatError(f"no submission {submission_id} (see `migstat status`)")
        earlier = store.con.execute(
            "select withdrawn_at, withdrawn_by, reason from raw.withdrawals "
            "where submission_id = ?",
            [submission_id],
        ).fetchone()
        if earlier is not None:
            raise MigstatError(
                f"submission {submission_id} ({row[0]}) was already withdrawn on "
                f"{earlier[0]:%Y-%m-%d %H:%M} by {earlier[1]}: {earlier[2]}"
            )
        at = datetime.now()
        store.withdraw(submission_id, at, by, reason.strip())
    event = withdrawn_event(submission_id, at, by, reason.strip())
    append(home, event)
    return {**event, "file_name": row[0]}


@dataclass
class RestoreResult:
    path: Path
    restored: int = 0
    withdrawals: int = 0
    changed: list[str] = field(default_factory=list)
    """``id file: was STATUS, now STATUS`` where reading the archived copy gave another verdict."""
    lost: list[str] = field(default_factory=list)
    """Submissions of the history whose file is not in the archive (received before it existed)."""
    set_aside: Path | None = None


def _store_reads(path: Path) -> bool:
    try:
        with connect_read_only(path) as con:
            con.execute("select count(*) from raw.submissions").fetchone()
    except duckdb.Error:
        return False
    return True


def restore(home: Home, *, force: bool = False) -> RestoreResult:
    """Rebuild ``landing.duckdb`` from the archive and the history; a store that is still there
    is kept aside as ``landing.replaced-<time>.duckdb``."""
    journal = Journal.read(home)
    if not journal.received:
        raise MigstatError(f"nothing to restore: no received file in {home.root}/history.jsonl")
    if home.raw_db.exists() and not force and _store_reads(home.raw_db):
        raise MigstatError(
            f"the raw store {home.raw_db} is there and readable; "
            "`migstat restore --force` rebuilds it anyway (the current one is kept aside)"
        )
    specs = load_specs()
    target = home.warehouse_dir / "landing.restoring.duckdb"
    for leftover in (target, target.with_name(target.name + ".wal")):
        leftover.unlink(missing_ok=True)
    result = RestoreResult(home.raw_db)
    with (
        tempfile.TemporaryDirectory(dir=home.root, prefix="restore-") as scratch,
        RawStore(target, specs) as store,
    ):
        for submission_id, entry in sorted(journal.received.items()):
            label = f"{submission_id} {entry['file_name']}"
            received_at = datetime.fromisoformat(entry["received_at"])
            original = Path(entry.get("file_path") or entry["file_name"])
            # The same content can be received twice (a rejected file retried): the identity
            # to give back is the one of this entry.
            store.replay = {entry["sha256"]: Replayed(submission_id, original, received_at)}
            if entry.get("status") == "rejected":
                # A rejection is replayed from the history (what was said then, exactly);
                # `migstat load --retry` reads rejected files again.
                store.add_rejected(
                    FileFacts(
                        original, entry["sha256"], int(entry.get("size_bytes") or 0), received_at
                    ),
                    entry.get("message") or "rejected",
                    entry.get("sheet"),
                    entry.get("cell"),
                    entry.get("rule"),
                    entry.get("country"),
                    int(entry["period"]) if str(entry.get("period") or "").isdigit() else None,
                    entry.get("message_es"),
                )
                result.restored += 1
                continue
            archived = find_archived(home.root, entry["sha256"])
            if archived is None:
                result.lost.append(label)
                continue
            copy = Path(scratch) / str(submission_id) / entry["file_name"]
            copy.parent.mkdir()
            shutil.copyfile(archived, copy)
            os.utime(copy, (received_at.timestamp(), received_at.timestamp()))
            layout = entry.get("layout")
            outcome = load_file(
                store, specs, copy, layout if layout in specs.layouts else None, retry=True
            )
            result.restored += 1
            if outcome.status != entry.get("status"):
                result.changed.append(
                    f"{label}: was {entry.get('status')}, now {outcome.status} {outcome.message}"
                )
        for submission_id, event in sorted(journal.withdrawals.items()):
            if submission_id in journal.received:
                store.withdraw(
                    submission_id,
                    datetime.fromisoformat(event["at"]),
                    str(event.get("by") or ""),
                    str(event.get("reason") or ""),
                )
                result.withdrawals += 1
    if home.raw_db.exists():
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        result.set_aside = home.raw_db.with_name(f"landing.replaced-{stamp}.duckdb")
        os.replace(home.raw_db, result.set_aside)
        wal = home.raw_db.with_name(home.raw_db.name + ".wal")
        if wal.exists():
            os.replace(wal, result.set_aside.with_name(result.set_aside.name + ".wal"))
    os.replace(target, home.raw_db)
    append(
        home,
        {
            "event": "restored",
            "at": now_iso(),
            "restored": result.restored,
            "withdrawals": result.withdrawals,
            "changed": result.changed,
            "lost": result.lost,
        },
    )
    return result


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(home: Home) -> list[str]:
    """Problems between the archive, the history and the raw store (empty when consistent):
    every archived file is a submission, every submission is in the history under the same
    content, and every archived copy still has its hash."""
    problems: list[str] = []
    journal = Journal.read(home)
    if not home.raw_db.exists():
        return [f"no raw store at {home.raw_db}"]
    with connect_read_only(home.raw_db) as con:
        rows = dict(con.execute("select submission_id, sha256 from raw.submissions").fetchall())
    stored = set(rows.values())
    for sha256 in sorted(archived_hashes(home.root) - stored):
        problems.append(f"archived file {sha256[:12]}... is not in raw.submissions")
    for submission_id, sha256 in sorted(rows.items()):
        entry = journal.received.get(submission_id)
        if entry is None:
            problems.append(f"submission {submission_id} is not in the history")
        elif entry["sha256"] != sha256:
            problems.append(f"submission {submission_id}: history and raw store disagree on sha256")
    for submission_id in sorted(set(journal.received) - set(rows)):
        problems.append(f"submission {submission_id} of the history is not in the raw store")
    for sha256 in sorted(archived_hashes(home.root)):
        path = find_archived(home.root, sha256)
        if path is not None and _sha256(path) != sha256:
            problems.append(f"archived copy {path} does not match its sha256")
    return problems
