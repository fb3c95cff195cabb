"""What a migstat home holds: the published warehouse and every submission with its verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migstat.home import Home
from migstat.readonly import connect_read_only

SUBMISSION_COLUMNS = (
    "submission_id, file_name, sha256, country_code, source, period, status, layout, "
    "obs_flag, error_message, error_sheet, error_cell, received_at, loaded_at"
)


def _published_statuses(path: Path) -> dict[int, dict[str, Any]]:
    """Verdicts of the last passing build, by submission id (empty before the first build)."""
    if not path.exists():
        return {}
    with connect_read_only(path) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'quality_submissions'"
        ).fetchone()[0]
        if not exists:
            return {}
        cursor = con.execute("select * from marts.quality_submissions")
        names = [column[0] for column in cursor.description]
        return {
            row[names.index("submission_id")]: dict(zip(names, row, strict=True))
            for row in cursor.fetchall()
        }


def home_status(home: Home) -> dict[str, Any]:
    """The JSON of ``migstat status``: paths, and one entry per received file version."""
    submissions: list[dict[str, Any]] = []
    if home.raw_db.exists():
        with connect_read_only(home.raw_db) as con:
            cursor = con.execute(
                f"select {SUBMISSION_COLUMNS} from raw.submissions order by submission_id"
            )
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        verdicts = _published_statuses(home.published_db)
        for row in rows:
            verdict = verdicts.get(row["submission_id"], {})
            status = verdict.get("status") or row["status"]
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
                    "received_at": row["received_at"].isoformat(),
                    "loaded_at": row["loaded_at"].isoformat(),
                }
            )
    return {
        "home": str(home.root),
        "warehouse": str(home.published_db),
        "warehouse_exists": home.published_db.exists(),
        "raw_store": str(home.raw_db),
        "submissions": submissions,
    }
