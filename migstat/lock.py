"""Writer locks of a migstat home: one writer at a time, the others wait with a message.

Two lock files under ``$MIGSTAT_HOME/locks/`` (``fcntl.flock``, released by the kernel when the
holder exits, however it exits):

* ``store.lock``: whoever writes the raw store (``load``, ``withdraw``, ``restore``) and a
  build while it reads the raw store, so a build sees either all of a load or none of it;
* ``build.lock``: a whole build (snapshot, dbt, swap), so builds of one home run one at a time.

The holder writes its PID, command and start time into the lock file; a waiter prints them
("waiting for the build started by PID 123 at 03:25:01") and gives up after
``MIGSTAT_LOCK_TIMEOUT`` seconds (default 600) with a :class:`MigstatError`. Readers (status,
report, publish, Superset) take no lock: they read the published warehouse, which a build only
replaces atomically, and ``status`` falls back to the history when the raw store is busy.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from migstat.errors import MigstatError
from migstat.home import Home

DEFAULT_TIMEOUT_SECONDS = 600.0
POLL_SECONDS = 0.2
TIMEOUT_ENV = "MIGSTAT_LOCK_TIMEOUT"


def lock_timeout() -> float:
    """Seconds a writer waits for a lock: ``MIGSTAT_LOCK_TIMEOUT`` or 600."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError as error:
        raise MigstatError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds") from error
    return max(value, 0.0)


def lock_path(home: Home, name: str) -> Path:
    return home.root / "locks" / f"{name}.lock"


def holder(path: Path) -> dict[str, object] | None:
    """Who holds (or last held) a lock file: ``{"pid", "command", "started_at"}``."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def describe(info: dict[str, object] | None) -> str:
    if not info:
        return "another migstat command"
    started = str(info.get("started_at", ""))
    clock = started[11:19] if len(started) >= 19 else started
    return f"the {info.get('command', 'command')} started by PID {info.get('pid')} at {clock}"


def is_held(home: Home, name: str) -> bool:
    """Whether some process holds the lock now (tries it without waiting)."""
    path = lock_path(home, name)
    if not path.exists():
        return False
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


@contextmanager
def writer_lock(
    home: Home,
    name: str,
    command: str,
    *,
    say: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> Iterator[None]:
    """Hold ``locks/<name>.lock`` for ``command``; wait (saying for whom) up to ``timeout``."""
    path = lock_path(home, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    limit = lock_timeout() if timeout is None else timeout
    handle = path.open("a+", encoding="utf-8")
    try:
        deadline = time.monotonic() + limit
        announced = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced and say is not None:
                    say(
                        f"waiting for {describe(holder(path))} to finish "
                        f"(lock {path}; giving up after {limit:.0f} s, {TIMEOUT_ENV})"
                    )
                    announced = True
                if time.monotonic() >= deadline:
                    raise MigstatError(
                        f"{command}: {describe(holder(path))} still holds {path} after "
                        f"{limit:.0f} s; try again later or raise {TIMEOUT_ENV}"
                    ) from None
                time.sleep(POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "command": command,
                    "started_at": datetime.now().isoformat(timespec="seconds"),
                }
            )
        )
        handle.flush()
        yield
    finally:
        handle.close()
