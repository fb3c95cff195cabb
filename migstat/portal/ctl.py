"""Starting and stopping the portal of a home: a web server and one queue worker, in the
background, with pid and log files under ``$MIGSTAT_HOME/portal/``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from migstat.errors import MigstatError
from migstat.home import Home
from migstat.portal.db import PortalDB, portal_dir

DEFAULT_PORT = 8090
PROCESSES = {"server": "migstat.portal.serve", "worker": "migstat.portal.worker"}


def _pid_file(home: Home, name: str) -> Path:
    return portal_dir(home) / f"{name}.pid"


def _running(home: Home, name: str) -> dict[str, Any] | None:
    """The pid file's content when its process is alive and is ours."""
    path = _pid_file(home, name)
    try:
        info = json.loads(path.read_text())
        cmdline = Path(f"/proc/{info['pid']}/cmdline").read_bytes()
    except (OSError, ValueError, KeyError):
        return None
    return info if PROCESSES[name].encode() in cmdline else None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def _spawn(home: Home, name: str, args: list[str], extra: dict[str, Any]) -> int:
    log = (portal_dir(home) / f"{name}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", PROCESSES[name], *args],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "MIGSTAT_HOME": str(home.root)},
        start_new_session=True,
        close_fds=True,
    )
    _pid_file(home, name).write_text(json.dumps({"pid": process.pid, **extra}))
    return process.pid


def up(home: Home, *, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> str:
    """Start the server and the worker (each only if not running); wait until it answers."""
    home.ensure()
    PortalDB(home).close()
    url = f"http://{host}:{port}"
    server = _running(home, "server")
    if server is not None:
        url = server["url"]
    else:
        if _answers(url):
            raise MigstatError(f"something else answers at {url}: choose another --port")
        _spawn(home, "server", ["--host", host, "--port", str(port)], {"url": url})
    if _running(home, "worker") is None:
        _spawn(home, "worker", [], {})
    deadline = time.monotonic() + 60
    while not _answers(url):
        if _running(home, "server") is None or time.monotonic() > deadline:
            log = portal_dir(home) / "server.log"
            raise MigstatError(f"the portal did not start at {url}; see {log}")
        time.sleep(0.2)
    return url


def down(home: Home) -> list[str]:
    """Stop the server and the worker of this home; returns what was stopped."""
    stopped = []
    for name in PROCESSES:
        info = _running(home, name)
        if info is None:
            continue
        os.kill(info["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _running(home, name) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if _running(home, name) is not None:
            os.kill(info["pid"], signal.SIGKILL)
        _pid_file(home, name).unlink(missing_ok=True)
        stopped.append(name)
    return stopped


def status(home: Home) -> dict[str, Any]:
    server = _running(home, "server")
    worker = _running(home, "worker")
    report: dict[str, Any] = {
        "url": server["url"] if server else None,
        "server_pid": server["pid"] if server else None,
        "worker_pid": worker["pid"] if worker else None,
        "answering": bool(server and _answers(server["url"])),
    }
    with PortalDB(home) as db:
        users = db.users()
        report["users"] = len(users)
        report["coordinators"] = sum(user.is_coordinator and not user.disabled for user in users)
        report["uploads_in_progress"] = len(db.uploads_in("received", "reading", "checking"))
    return report


def login_help(home: Home, url: str) -> str:
    with PortalDB(home) as db:
        users = [user for user in db.users() if not user.disabled]
    if users:
        names = ", ".join(
            f"{u.name} ({u.role} {u.country or ''})".replace(" )", ")") for u in users
        )
        return f"portal: {url} (accounts: {names}; `migstat users list`)"
    return (
        f"portal: {url}\n  no account yet: create one, e.g.\n"
        "    migstat users add coordinator --role coordinator\n"
        "    migstat users add gtm --role office --country GTM\n"
        "  (the password is generated and printed once, or taken from MIGSTAT_PASSWORD)"
    )
