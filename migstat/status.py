"""What a migstat home holds: the published warehouse and every submission with its verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from migstat.history import Journal, history_path
from migstat.home import Home
from migstat.lock import describe, holder, is_held, lock_path
from migstat.readonly import connect_read_only

SUBMISSION_COLUMNS = (
    "submission_id, file_name, sha256, country_code, source, period, status, layout, "
    "obs_flag, error_message, error_sheet, error_cell, received_at, loaded_at"
)


def _published_statuses(path: Path) -> dict[int, dict[str, Any]]:
    """Verdicts of the last passing build, by submission id (empty before the first build)."""
    if not path.exists():
        return {}
    try:
        return _read_published(path)
    except duckdb.Error:
        return {}


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The one number a ``select count(*)`` returns."""
    row = con.execute(sql).fetchone()
    return int(row[0]) if row is not None else 0


def _read_published(path: Path) -> dict[int, dict[str, Any]]:
    with connect_read_only(path) as con:
        exists = _count(
            con,
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'quality_submissions'",
        )
        if not exists:
            return {}
        cursor = con.execute("select * from marts.quality_submissions")
        names = [column[0] for column in cursor.description]
        return {
            row[names.index("submission_id")]: dict(zip(names, row, strict=True))
            for row in cursor.fetchall()
        }


def _store_rows(home: Home) -> tuple[list[dict[str, Any]] | None, dict[int, Any], str | None]:
    """Rows of ``raw.submissions`` and ``raw.withdrawals``, or ``None`` and why not."""
    if not home.raw_db.exists():
        return None, {}, "missing"
    try:
        with connect_read_only(home.raw_db) as con:
            cursor = con.execute(
                f"select {SUBMISSION_COLUMNS} from raw.submissions order by submission_id"
            )
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            withdrawals: dict[int, Any] = {}
            if _count(
                con,
                "select count(*) from information_schema.tables "
                "where table_schema = 'raw' and table_name = 'withdrawals'",
            ):
                for submission_id, at, by, reason in con.execute(
                    "select submission_id, withdrawn_at, withdrawn_by, reason from raw.withdrawals"
                ).fetchall():
                    withdrawals[submission_id] = {"at": at, "by": by, "reason": reason}
    except duckdb.Error as error:
        busy = "lock" in str(error).lower()
        return None, {}, "locked" if busy else f"unreadable ({error})"
    return rows, withdrawals, None


def _from_history(entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry in the shape of a ``raw.submissions`` row."""
    return {
        "submission_id": entry["id"],
        "file_name": entry.get("file_name"),
        "sha256": entry.get("sha256"),
        "country_code": entry.get("country"),
        "source": entry.get("source"),
        "period": entry.get("period"),
        "status": entry.get("status"),
        "layout": entry.get("layout"),
        "obs_flag": None,
        "error_message": entry.get("message"),
        "error_sheet": entry.get("sheet"),
        "error_cell": entry.get("cell"),
        "received_at": entry.get("received_at"),
        "loaded_at": entry.get("loaded_at"),
    }


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def home_status(home: Home) -> dict[str, Any]:
    """The JSON of ``migstat status``: paths, and one entry per received file version.

    Never fails on a busy or missing raw store: the history journal lists every received file
    and withdrawal, and ``store_note`` says where the list came from.
    """
    journal = Journal.read(home)
    rows, withdrawals, problem = _store_rows(home)
    note = None
    if rows is None:
        rows = [_from_history(entry) for _, entry in sorted(journal.received.items())]
        held = problem != "locked" and is_held(home, "store")
        if problem == "missing" and held:
            info = holder(lock_path(home, "store"))
            note = f"raw store being created ({describe(info)} is busy): statuses from the history"
        elif held:
            # A writer holds the store: a file it is creating (or a header it has not written
            # yet) fails to open without being damaged, so this is no reason to restore it.
            info = holder(lock_path(home, "store"))
            note = f"raw store being written ({describe(info)} is busy): statuses from the history"
        elif problem == "missing":
            note = "raw store missing: statuses from the history" + (
                "; run `migstat restore` to rebuild it from the archive" if rows else ""
            )
        elif problem == "locked":
            info = holder(lock_path(home, "store"))
            note = f"raw store busy ({describe(info)} is busy): statuses from the history"
        else:
            note = f"raw store {problem}: statuses from the history; see `migstat restore`"
    else:
        known = {row["submission_id"] for row in rows}
        rows += [
            _from_history(entry)
            for submission_id, entry in sorted(journal.received.items())
            if submission_id not in known
        ]
    for submission_id, event in journal.withdrawals.items():
        withdrawals.setdefault(submission_id, event)
    verdicts = _published_statuses(home.published_db)
    submissions: list[dict[str, Any]] = []
    for row in rows:
        verdict = verdicts.get(row["submission_id"], {})
        withdrawal = withdrawals.get(row["submission_id"])
        status = "withdrawn" if withdrawal else verdict.get("status") or row["status"]
        submissions.append(
            {
                "id": row["submission_id"],
                "file": row["file_name"],
                "sha256": row["sha256"],
                "country": row["country_code"],
                "source": row["source"],
                "period": row["period"],
                "status": status,
                "is_published": bool(verdict.get("is_published", False)),
                "error_count": verdict.get("error_count"),
                "warning_count": verdict.get("warning_count"),
                "layout": row["layout"],
                "obs_flag": row["obs_flag"],
                "message": row["error_message"],
                "sheet": row["error_sheet"],
                "cell": row["error_cell"],
                "received_at": _iso(row["received_at"]),
                "loaded_at": _iso(row["loaded_at"]),
                "received_again": len(journal.duplicates.get(row["submission_id"], [])),
                "withdrawn": None
                if withdrawal is None
                else {
                    "at": _iso(withdrawal.get("at")),
                    "by": withdrawal.get("by"),
                    "reason": withdrawal.get("reason"),
                },
            }
        )
    submissions.sort(key=lambda item: item["id"])
    return {
        "home": str(home.root),
        "warehouse": str(home.published_db),
        "warehouse_exists": home.published_db.exists(),
        "raw_store": str(home.raw_db),
        "store_note": note,
        "history": str(history_path(home)),
        "submissions": submissions,
    }
