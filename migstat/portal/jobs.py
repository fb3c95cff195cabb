"""The processing queue: one worker loads and builds uploads in the order they came.

A persistent huey queue (``SqliteHuey``, ``$MIGSTAT_HOME/portal/queue.sqlite``, no broker) with
one worker (``python -m migstat.portal.worker``). ``load_upload`` reads one file and records it in
the raw store under the store lock, exactly as ``migstat load`` does (so it waits for, and never
collides with, a command run by hand); ``build_pending`` runs ``migstat build`` once for every
upload loaded since the last build and writes each verdict back; while more uploads wait in the
queue it leaves the build to the last of them (nine uploads queued together cost one build).
Every step is idempotent on the upload's state, and the worker re-queues on start whatever a
stopped worker left half done: uploads survive a restart.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from huey import SqliteHuey

from loaders.limits import Limits
from loaders.load import file_facts, record, skipped
from loaders.store import RawStore
from loaders.workers import Job, ReaderPool, Rejection
from migstat.errors import WorkbookRejected
from migstat.history import Journal, Keeper, store_lost
from migstat.home import Home
from migstat.lock import writer_lock
from migstat.portal.db import PortalDB, portal_dir
from migstat.portal.receive import staged_copy
from migstat.specs import load_specs
from migstat.status import _published_statuses

VERDICT_STATES = {
    "accepted": "published",
    "quarantined": "quarantined",
    "rejected": "rejected",
    "superseded": "superseded",
    "withdrawn": "withdrawn",
}
COALESCE_SECONDS = 120
"""A build waits for uploads queued behind it at most this long after the first was loaded."""
BUILD_FAILED = (
    "La verificación no pudo terminar; su archivo está guardado y el equipo central fue avisado",
    "The checks could not finish; your file is kept and the central team was told",
)


def make_huey(home: Home) -> SqliteHuey:
    return SqliteHuey(
        "migstat-portal", filename=str(portal_dir(home) / "queue.sqlite"), results=False
    )


HUEY = make_huey(Home.from_env())


@HUEY.task()
def process_upload(upload_id: int) -> None:
    home = Home.from_env()
    load_upload(home, upload_id)
    build_task()


@HUEY.task()
def build_task() -> None:
    build_pending(Home.from_env())


def other_country(found: str, expected: str) -> tuple[str, str]:
    return (
        f"La hoja de metadatos dice país {found}, pero su cuenta envía por {expected}: "
        "no se cargó. Envíe solo libros de su país.",
        f"The metadata sheet names country {found}, but your account sends for {expected}: "
        "not loaded. Send only your own country's workbooks.",
    )


def load_upload(home: Home, upload_id: int) -> None:
    """Read one upload and record it in the raw store (or refuse it); sets its state."""
    with PortalDB(home) as db:
        upload = db.upload(upload_id)
        if upload is None or upload["state"] not in ("received", "reading"):
            return
        db.set_state(upload_id, "reading")
        path = staged_copy(home, upload_id, Path(upload["stored_path"]), upload["file_name"])
        specs = load_specs()
        limits = Limits.from_home(home)
        with writer_lock(home, "store", f"portal upload {upload_id}"):
            if store_lost(home):
                db.set_state(upload_id, "failed", message=BUILD_FAILED)
                return
            with RawStore(home.raw_db, specs, keeper=Keeper(home)) as store:
                facts = file_facts(path)
                known = skipped(path, store, facts)
                if known is not None:
                    sent = store.find(facts.sha256)
                    same = sent is not None and _submission_country(home, sent.submission_id)
                    if upload["country"] and same not in (None, upload["country"]):
                        db.set_state(
                            upload_id,
                            "rejected",
                            message=other_country(str(same), upload["country"]),
                        )
                        return
                    store.find_received(facts)
                    verdict = (
                        _published_statuses(home.published_db).get(known.submission_id)
                        if known.submission_id is not None
                        else None
                    )
                    state = VERDICT_STATES.get(verdict["status"]) if verdict else None
                    db.set_state(
                        upload_id,
                        state or "checking",
                        submission_id=known.submission_id,
                        message=(
                            f"El mismo contenido ya se recibió como envío {known.submission_id}",
                            f"The same content was already received as submission "
                            f"{known.submission_id}",
                        ),
                    )
                    return
                with ReaderPool(specs, limits, 1) as pool:
                    _, result = next(pool.run([Job(0, facts.path, None)]))
                parsed = result.parsed
                country = parsed.country_code if parsed is not None else None
                if upload["country"] and country and country != upload["country"]:
                    db.set_state(
                        upload_id, "rejected", message=other_country(country, upload["country"])
                    )
                    return
                rejection: WorkbookRejected | None = None
                if parsed is None:
                    reason = result.rejection or Rejection(
                        "no result from the reader", message_es="el lector no dio resultado"
                    )
                    rejection = reason.error(path.name)
                outcome = record(store, facts, path, parsed, rejection)
        if outcome.status == "rejected":
            assert rejection is not None
            where = " ".join(part for part in (rejection.sheet, rejection.cell) if part)
            es = rejection.message_es or rejection.message
            db.set_state(
                upload_id,
                "rejected",
                submission_id=outcome.submission_id,
                message=(
                    f"Rechazado, no se pudo leer{f' ({where})' if where else ''}: {es}",
                    f"Rejected, could not be read{f' ({where})' if where else ''}: "
                    f"{rejection.message}",
                ),
            )
        else:
            db.set_state(upload_id, "checking", submission_id=outcome.submission_id)


def _submission_country(home: Home, submission_id: int) -> str | None:
    entry = Journal.read(home).received.get(submission_id)
    return None if entry is None else entry.get("country")


def build_pending(home: Home) -> None:
    """One ``migstat build`` for every upload loaded since the last one; their verdicts."""
    with PortalDB(home) as db:
        pending = db.uploads_in("checking")
        if not pending:
            return
        waited = datetime.now(UTC) - datetime.fromisoformat(min(u["updated_at"] for u in pending))
        if db.uploads_in("received", "reading") and waited.total_seconds() < COALESCE_SECONDS:
            # More uploads are queued behind this task; each queues a build after itself, so
            # the last one builds for all of them (unless the first has waited too long).
            return
        log = portal_dir(home) / "build.log"
        with log.open("ab") as output:
            completed = subprocess.run(
                [sys.executable, "-m", "migstat", "build"],
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, "MIGSTAT_HOME": str(home.root)},
                check=False,
            )
        verdicts = _published_statuses(home.published_db)
        for upload in pending:
            verdict = verdicts.get(upload["submission_id"])
            if completed.returncode != 0 or verdict is None:
                db.set_state(upload["id"], "failed", message=BUILD_FAILED)
                continue
            db.set_state(upload["id"], VERDICT_STATES.get(verdict["status"], verdict["status"]))


def recover(home: Home) -> int:
    """Queue again what a stopped worker left: uploads received or being read, and a build
    for those loaded but not yet checked. Returns how many uploads were queued again."""
    with PortalDB(home) as db:
        unread = db.uploads_in("received", "reading")
        checking = db.uploads_in("checking")
    for upload in unread:
        process_upload(upload["id"])
    if checking and not unread:
        build_task()
    return len(unread)
