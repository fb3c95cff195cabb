"""The history of a home: an append-only journal of every received file and every withdrawal.

``$MIGSTAT_HOME/history.jsonl``, one JSON object a line, never rewritten:

* ``received``: a file version got a submission id (``loaded`` or ``rejected``), with its
  sha256, original name and path, size, received time, what was read from it and where its
  copy is in the archive (:mod:`migstat.archive`);
* ``duplicate``: a file with a content already received came in again (no new id);
* ``withdrawn``: a submission was taken out of what is published, with who, when and why;
* ``restored``: ``migstat restore`` rebuilt the raw store from the archive and this journal.

Writers append under the store lock (:mod:`migstat.lock`), after their database commit;
readers (``migstat status``) read it whenever the raw store is missing or busy. When a store is
opened, rows of the store missing from the journal (written before the journal existed, or lost
to a crash between commit and append) are appended, so the journal always covers the store.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from loaders.store import FileFacts
from migstat.archive import find_archived, keep, sync_folders
from migstat.errors import MigstatError
from migstat.home import Home

ARCHIVE_THREADS = 4
"""Files copied into the archive at once: copying and syncing wait on the disk, not a core."""


def history_path(home: Home) -> Path:
    return home.root / "history.jsonl"


def now_iso() -> str:
    return datetime.now().isoformat(timespec="microseconds")


def append(home: Home, event: dict[str, Any]) -> None:
    """Append one event and sync it to disk (one ``write`` on an ``O_APPEND`` file)."""
    append_many(home, [event])


def append_many(home: Home, events: Sequence[dict[str, Any]]) -> None:
    """Append events, in order, with one ``write`` on an ``O_APPEND`` file and one sync."""
    if not events:
        return
    path = history_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(event, ensure_ascii=False, default=str) + "\n" for event in events)
    data = lines.encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        while data:
            data = data[os.write(descriptor, data) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def events(home: Home) -> list[dict[str, Any]]:
    """Every event, in order; a torn last line (a crash while appending) is ignored."""
    path = history_path(home)
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict):
            found.append(event)
    return found


@dataclass
class Journal:
    """The history read into the shape commands need."""

    received: dict[int, dict[str, Any]] = field(default_factory=dict)
    withdrawals: dict[int, dict[str, Any]] = field(default_factory=dict)
    duplicates: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def read(cls, home: Home) -> Journal:
        journal = cls()
        for event in events(home):
            kind = event.get("event")
            submission_id = event.get("id")
            if not isinstance(submission_id, int):
                continue
            if kind == "received":
                journal.received.setdefault(submission_id, event)
            elif kind == "withdrawn":
                journal.withdrawals.setdefault(submission_id, event)
            elif kind == "duplicate":
                journal.duplicates.setdefault(submission_id, []).append(event)
        return journal


def received_event(
    submission_id: int, facts: FileFacts, record: dict[str, Any], archived: Path | None
) -> dict[str, Any]:
    return {
        "event": "received",
        "id": submission_id,
        "sha256": facts.sha256,
        "file_name": facts.path.name,
        "file_path": str(facts.path),
        "size_bytes": facts.size_bytes,
        "received_at": facts.received_at.isoformat(),
        "loaded_at": now_iso(),
        **record,
        "archive": None if archived is None else str(archived),
    }


class Keeper:
    """What the raw store calls when it receives files: archive them, then journal them."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self._archived: dict[str, Path] = {}
        self._duplicates: list[dict[str, Any]] = []

    def archive(self, files: Sequence[FileFacts]) -> None:
        """Before the store commits: each file's immutable copy (copied side by side, each
        folder synced once)."""
        unique = list({facts.sha256: facts for facts in files}.values())
        if not unique:
            return
        with ThreadPoolExecutor(min(ARCHIVE_THREADS, len(unique))) as pool:
            kept = list(
                pool.map(lambda f: keep(self.home.root, f.path, f.sha256, sync=False), unique)
            )
        sync_folders({path.parent for path in kept})
        for facts, path in zip(unique, kept, strict=True):
            self._archived[facts.sha256] = path

    def received(self, events: Sequence[tuple[int, FileFacts, dict[str, Any]]]) -> None:
        """After the store committed: the journal lines (duplicates noted before them)."""
        lines = self._duplicates
        self._duplicates = []
        for submission_id, facts, record in events:
            archived = self._archived.pop(facts.sha256, None) or find_archived(
                self.home.root, facts.sha256
            )
            lines.append(received_event(submission_id, facts, record, archived))
        append_many(self.home, lines)

    def duplicate(self, submission_id: int, facts: FileFacts) -> None:
        """A content received before: journaled with the next lines (or at ``flush``)."""
        self._duplicates.append(
            {
                "event": "duplicate",
                "id": submission_id,
                "sha256": facts.sha256,
                "file_name": facts.path.name,
                "file_path": str(facts.path),
                "at": now_iso(),
            }
        )

    def flush(self) -> None:
        """Journal the duplicates noted since the last write."""
        lines, self._duplicates = self._duplicates, []
        append_many(self.home, lines)

    def reconcile(self, con: duckdb.DuckDBPyConnection) -> int:
        """Journal (and archive, when the original is still there) store rows the history
        lacks; returns how many."""
        journal = Journal.read(self.home)
        rows = con.execute(
            "select submission_id, file_name, file_path, sha256, size_bytes, received_at, "
            "loaded_at, status, country_code, source, period, layout, error_message, "
            "error_sheet, error_cell, error_rule, error_message_es from raw.submissions "
            "order by submission_id"
        ).fetchall()
        added = 0
        for row in rows:
            if row[0] in journal.received:
                continue
            path = Path(row[2])
            archived = find_archived(self.home.root, row[3])
            if archived is None and path.is_file():
                try:
                    archived = keep(self.home.root, path, row[3])
                except MigstatError:
                    archived = None
            facts = FileFacts(path, row[3], row[4], row[5])
            event = received_event(row[0], facts, store_record(row[7:]), archived)
            event["loaded_at"] = row[6].isoformat()
            event["reconciled"] = True
            append(self.home, event)
            added += 1
        for submission_id, at, by, reason in con.execute(
            "select submission_id, withdrawn_at, withdrawn_by, reason from raw.withdrawals"
        ).fetchall():
            if submission_id not in journal.withdrawals:
                append(self.home, withdrawn_event(submission_id, at, by, reason))
                added += 1
        return added


def store_record(values: tuple[Any, ...]) -> dict[str, Any]:
    status, country, source, period, layout, message, sheet, cell, rule, message_es = values
    return {
        "status": status,
        "country": country,
        "source": source,
        "period": period,
        "layout": layout,
        "message": message,
        "sheet": sheet,
        "cell": cell,
        "rule": rule,
        "message_es": message_es,
    }


def withdrawn_event(submission_id: int, at: datetime, by: str, reason: str) -> dict[str, Any]:
    return {
        "event": "withdrawn",
        "id": submission_id,
        "at": at.isoformat(),
        "by": by,
        "reason": reason,
    }


def store_lost(home: Home) -> bool:
    """The raw store is gone while the history says files were received."""
    return not home.raw_db.exists() and bool(Journal.read(home).received)
