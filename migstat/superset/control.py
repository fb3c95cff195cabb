"""``migstat superset up|down|status``: provision a home's Superset and serve it.

Provisioning runs ``provision.py`` inside Superset's environment: ``superset db upgrade``, the
admin user, ``superset init``, then the bundle through Superset's own ``ImportAssetsCommand``
(everything under source control, overwritten) and the removal of objects the YAML dropped.
gunicorn serves it in the background on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from migstat.home import Home
from migstat.superset.bundle import bundle_files, managed_uuids, write_bundle
from migstat.superset.credentials import admin_password, secret_key
from migstat.superset.install import install, is_installed, superset_version
from migstat.superset.paths import (
    CONFIG,
    PROVISION,
    VENV,
    Paths,
    Say,
    SupersetError,
    private_dir,
    read_json,
)
from migstat.superset.spec import load_project
from migstat.superset.warehouse import duckdb_uri, warehouse_types

DEFAULT_PORT = 8088
DEFAULT_HOST = "127.0.0.1"
HEALTH_TIMEOUT_S = 180.0
#: Turns SQL Lab on for the warehouse database (``up --sql-lab`` sets it for Superset).
SQL_LAB_ENV = "MIGSTAT_SUPERSET_SQL_LAB"


def superset_env(home: Home, sql_lab: bool = False) -> dict[str, str]:
    """The environment every Superset process of this home runs with."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "FLASK_"))
    }
    env |= {
        "MIGSTAT_HOME": str(home.root),
        "MIGSTAT_WAREHOUSE": str(home.published_db),
        SQL_LAB_ENV: "1" if sql_lab else "0",
        "SUPERSET_CONFIG_PATH": str(CONFIG),
        "SUPERSET_HOME": str(home.superset_dir / "data"),
        "FLASK_APP": "superset.app:create_app()",
        "PYTHONUNBUFFERED": "1",
        "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return env


def _superset(home: Home, args: list[str], what: str, stdin: str | None = None) -> str:
    """Run a Superset command in its venv; raise with the output's tail when it fails."""
    completed = subprocess.run(
        args,
        env=superset_env(home),
        cwd=home.superset_dir,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    output = completed.stdout + completed.stderr
    log = home.superset_dir / "provision.log"
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"\n$ {' '.join(args)}\n{output}")
    if completed.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-25:])
        raise SupersetError(f"{what} failed (exit {completed.returncode}); see {log}:\n{tail}")
    return output


def _provision_command() -> list[str]:
    """``provision.py`` run by Superset's Python; ``-P`` keeps this package's folder off
    ``sys.path`` (its modules must not shadow what Superset imports)."""
    return [str(VENV / "bin" / "python"), "-P", str(PROVISION)]


def provision(home: Home, say: Say = print, sql_lab: bool = False) -> bool:
    """Upgrade the metadata, make the admin, init, import the dashboards; return whether work
    was done. Safe to repeat: steps whose inputs did not change are skipped."""
    paths = Paths(home)
    private_dir(paths.root)
    if not home.published_db.exists():
        raise SupersetError(
            f"no published warehouse at {home.published_db}: run `migstat build` first"
        )
    project = load_project().with_types(warehouse_types(home.published_db))
    files = bundle_files(project, duckdb_uri(home.published_db), sql_lab=sql_lab)
    bundle_hash = write_bundle(files, paths.bundle)
    secret_key(paths, say)
    password = admin_password(paths, say)
    password_hash = hashlib.sha256(password.encode()).hexdigest()
    state = read_json(paths.state)
    version = superset_version()
    fresh = not paths.metadata_db.exists() or state.get("superset_version") != version
    bin_dir = VENV / "bin"
    did_work = False
    if fresh:
        say("Superset metadata: upgrade")
        _superset(home, [str(bin_dir / "superset"), "db", "upgrade"], "superset db upgrade")
        state = {"superset_version": version}
        did_work = True
    if fresh or state.get("admin") != password_hash:
        say("Superset admin user")
        _superset(
            home,
            [*_provision_command(), "admin", "--password-stdin"],
            "creating the admin user",
            stdin=password,
        )
        state["admin"] = password_hash
        did_work = True
    if fresh:
        say("Superset init (roles and permissions)")
        _superset(home, [str(bin_dir / "superset"), "init"], "superset init")
    if fresh or state.get("bundle") != bundle_hash:
        say(f"importing dashboards ({len(files)} files in {paths.bundle.name})")
        paths.manifest.write_text(json.dumps(managed_uuids(files), indent=1))
        output = _superset(
            home,
            [
                *_provision_command(),
                "import",
                str(paths.bundle),
                str(paths.manifest),
                str(paths.previous_manifest),
            ],
            "importing the dashboards bundle",
        )
        for line in output.splitlines():
            if line.startswith(("imported", "deleted")):
                say(f"  {line}")
        paths.manifest.replace(paths.previous_manifest)
        state["bundle"] = bundle_hash
        did_work = True
    paths.state.write_text(json.dumps(state, indent=1))
    return did_work


# ---------------------------------------------------------------------- server


def _pid_alive(pid: int) -> bool:
    """True when ``pid`` is a live gunicorn of ours (a recycled pid is not)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return "gunicorn" in cmdline and "superset" in cmdline


def running_pid(home: Home) -> int | None:
    paths = Paths(home)
    try:
        pid = int(paths.pid.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


def server_url(home: Home) -> str | None:
    info = read_json(Paths(home).server)
    return str(info["url"]) if "url" in info else None


def health(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def workers() -> int:
    return int(os.environ.get("MIGSTAT_SUPERSET_WORKERS", "2"))


#: gunicorn's limits on what one request may carry (its defaults, made explicit: Superset's docs
#: suggest 0, unlimited, for long explore URLs, which 6.1 no longer sends) and how long it may take.
REQUEST_LIMITS = {
    "--limit-request-line": "8190",
    "--limit-request-fields": "100",
    "--limit-request-field_size": "8190",
    "--timeout": "120",
    "--graceful-timeout": "30",
    "--keep-alive": "5",
}


def gunicorn_command(host: str, port: int) -> list[str]:
    """The gunicorn command line serving Superset (request limits and timeouts included)."""
    command = [
        str(VENV / "bin" / "gunicorn"),
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers()),
        "--worker-class",
        "gthread",
        "--threads",
        "4",
    ]
    for option, value in REQUEST_LIMITS.items():
        command += [option, value]
    return [*command, "--name", f"superset-migstat:{port}", "superset.app:create_app()"]


def serve(home: Home, host: str, port: int, say: Say = print, sql_lab: bool = False) -> str:
    """Start gunicorn in the background; return the URL once ``/health`` answers."""
    paths = Paths(home)
    url = f"http://{host}:{port}"
    if health(url, timeout=1.0):
        raise SupersetError(f"something already answers at {url}: choose another --port")
    log = paths.log.open("ab")
    command = gunicorn_command(host, port)
    process = subprocess.Popen(
        command,
        env=superset_env(home, sql_lab),
        cwd=home.superset_dir,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    paths.pid.write_text(f"{process.pid}\n")
    paths.server.write_text(json.dumps({"url": url, "pid": process.pid, "sql_lab": sql_lab}))
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SupersetError(
                f"gunicorn exited with code {process.returncode}; {paths.log}:\n"
                + _log_tail(paths.log)
            )
        if health(url):
            return url
        time.sleep(0.5)
    stop(home)
    raise SupersetError(
        f"Superset did not answer {url}/health within {HEALTH_TIMEOUT_S:.0f} s; "
        f"{paths.log}:\n" + _log_tail(paths.log)
    )


def stop(home: Home, timeout: float = 20.0) -> bool:
    """Stop this home's gunicorn; return whether one was running."""
    paths = Paths(home)
    pid = running_pid(home)
    if pid is None:
        paths.pid.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _pid_alive(pid):
        time.sleep(0.2)
    if _pid_alive(pid):
        os.killpg(pid, signal.SIGKILL)
    paths.pid.unlink(missing_ok=True)
    paths.server.unlink(missing_ok=True)
    return True


@dataclass(frozen=True)
class UpResult:
    url: str
    started: bool
    provisioned: bool


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def up(
    home: Home,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    say: Say = print,
    sql_lab: bool = False,
) -> UpResult:
    """Install if needed, provision, and serve; safe to run again.

    Listens on 127.0.0.1 unless ``host`` says otherwise. SQL Lab stays off for the warehouse
    database unless ``sql_lab`` (then the database shows in SQL Lab, still read-only and unable to
    touch files).
    """
    home.ensure()
    if not _is_loopback(host):
        say(
            f"warning: Superset will listen on {host}, reachable from other machines; "
            "put it behind HTTPS and keep the admin password private"
        )
    if not is_installed():
        install(say)
    provisioned = provision(home, say, sql_lab=sql_lab)
    url = f"http://{host}:{port}"
    pid = running_pid(home)
    if pid is not None:
        current = read_json(Paths(home).server)
        same = current.get("url") == url and bool(current.get("sql_lab")) == sql_lab
        if same and health(url):
            say(f"Superset already running at {url} (pid {pid})")
            return UpResult(url, started=False, provisioned=provisioned)
        say(f"restarting Superset (was {current.get('url')}, SQL Lab {current.get('sql_lab')})")
        stop(home)
    url = serve(home, host, port, say, sql_lab=sql_lab)
    return UpResult(url, started=True, provisioned=provisioned)


def login_help(home: Home, url: str) -> str:
    paths = Paths(home)
    where = (
        "the password in SUPERSET_ADMIN_PASSWORD"
        if os.environ.get("SUPERSET_ADMIN_PASSWORD")
        else f"the password kept in {paths.password} (read it with: cat {paths.password})"
    )
    return (
        f"Superset is serving the dashboards at {url}\n"
        f"  log in as user 'admin' with {where}\n"
        f"  its secret key is in {paths.secret_key} (mode 0600)\n"
        f"  stop it with: migstat superset down"
    )


def status(home: Home) -> dict[str, object]:
    paths = Paths(home)
    pid = running_pid(home)
    url = server_url(home) if pid is not None else None
    state = read_json(paths.state)
    return {
        "installed": is_installed(),
        "venv": str(VENV),
        "superset_version": state.get("superset_version"),
        "provisioned": bool(state.get("bundle")),
        "running": pid is not None,
        "pid": pid,
        "url": url,
        "healthy": bool(url and health(url)),
        "log": str(paths.log),
    }
