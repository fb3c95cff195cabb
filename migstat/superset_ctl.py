"""``migstat superset install|up|down|status``: Superset as code over the published warehouse.

Superset lives in its own virtual environment (``.venv-superset`` in the checkout, or under
``$XDG_DATA_HOME/migstat/`` for an installed package; from ``superset/requirements.txt`` with
``superset/constraints.txt``) and always runs through that
environment's binaries with ``SUPERSET_CONFIG_PATH=superset/superset_config.py``. Everything
it writes is under ``$MIGSTAT_HOME/superset/``:

```
secret_key            generated on first use (superset_config.py), never in git
admin_password        generated when SUPERSET_ADMIN_PASSWORD is not set
metadata/superset.db  SQLite metadata
bundle.zip            the v1 import bundle assembled from superset/dashboards/
state.json            what was provisioned (Superset version, bundle hash, managed UUIDs)
gunicorn.pid, gunicorn.log, server.json
```
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from migstat.errors import MigstatError
from migstat.home import PROJECT_ROOT, Home, state_root
from migstat.superset_bundle import (
    bundle_files,
    duckdb_uri,
    load_project,
    managed_uuids,
    warehouse_types,
    write_bundle,
)

SUPERSET_DIR = PROJECT_ROOT / "superset"
VENV = Path(os.environ.get("MIGSTAT_SUPERSET_VENV", state_root() / ".venv-superset"))
REQUIREMENTS = SUPERSET_DIR / "requirements.txt"
CONSTRAINTS = SUPERSET_DIR / "constraints.txt"
CONFIG = SUPERSET_DIR / "superset_config.py"
PROVISION = SUPERSET_DIR / "provision.py"
DEFAULT_PORT = 8088
DEFAULT_HOST = "127.0.0.1"
HEALTH_TIMEOUT_S = 180.0

Say = Callable[[str], None]


class SupersetError(MigstatError):
    """Superset could not be installed, provisioned, started or stopped."""


@dataclass(frozen=True)
class Paths:
    """Superset's files in one migstat home."""

    home: Home

    @property
    def root(self) -> Path:
        return self.home.superset_dir

    @property
    def password(self) -> Path:
        return self.root / "admin_password"

    @property
    def metadata_db(self) -> Path:
        return self.root / "metadata" / "superset.db"

    @property
    def bundle(self) -> Path:
        return self.root / "bundle.zip"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def previous_manifest(self) -> Path:
        return self.root / "manifest.previous.json"

    @property
    def pid(self) -> Path:
        return self.root / "gunicorn.pid"

    @property
    def log(self) -> Path:
        return self.root / "gunicorn.log"

    @property
    def server(self) -> Path:
        return self.root / "server.json"


# ---------------------------------------------------------------------- install


def _requirements_hash() -> str:
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, CONSTRAINTS):
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def _stamp() -> Path:
    return VENV / "migstat-requirements.sha256"


def is_installed() -> bool:
    stamp = _stamp()
    return (
        (VENV / "bin" / "superset").exists()
        and stamp.exists()
        and stamp.read_text().strip() == _requirements_hash()
    )


def install(say: Say = print, *, force: bool = False) -> float:
    """Create or update ``.venv-superset`` from the pinned requirements; return seconds spent.

    Idempotent: does nothing when the venv was built from the same requirements and constraints.
    """
    if is_installed() and not force:
        say(f"Superset environment up to date: {VENV}")
        return 0.0
    started = time.monotonic()
    say(f"installing Apache Superset into {VENV} (a few minutes, once)")
    if not (VENV / "bin" / "python").exists():
        _run([sys.executable, "-m", "venv", str(VENV)], "create the Superset virtual environment")
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "install", "--quiet", "--upgrade", "pip"], "upgrade pip")
    _run(
        [*pip, "install", "--quiet", "-r", str(REQUIREMENTS), "-c", str(CONSTRAINTS)],
        "install superset/requirements.txt",
    )
    _stamp().write_text(_requirements_hash() + "\n")
    elapsed = time.monotonic() - started
    say(f"Superset environment ready in {elapsed:.0f} s")
    return elapsed


def _run(command: list[str], what: str) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-30:])
        raise SupersetError(f"could not {what} (exit {completed.returncode}):\n{tail}")


# ---------------------------------------------------------------------- running Superset


def superset_env(home: Home) -> dict[str, str]:
    """The environment every Superset process of this home runs with."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "FLASK_"))
    }
    env |= {
        "MIGSTAT_HOME": str(home.root),
        "SUPERSET_CONFIG_PATH": str(CONFIG),
        "SUPERSET_HOME": str(home.superset_dir / "data"),
        "FLASK_APP": "superset.app:create_app()",
        "PYTHONUNBUFFERED": "1",
        "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return env


def superset_version() -> str:
    metadata = sorted((VENV / "lib").glob("python*/site-packages/apache_superset-*.dist-info"))
    return metadata[-1].name.removesuffix(".dist-info").split("-")[1] if metadata else "unknown"


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


def admin_password(paths: Paths, say: Say) -> str:
    """SUPERSET_ADMIN_PASSWORD when set; otherwise this home's generated password."""
    given = os.environ.get("SUPERSET_ADMIN_PASSWORD")
    if given:
        return given
    if paths.password.exists():
        return paths.password.read_text().strip()
    password = secrets.token_urlsafe(12)
    paths.password.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(paths.password, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password + "\n")
    say(f"generated the admin password (shown once, kept in {paths.password}): {password}")
    return password


def _read_json(path: Path) -> dict[str, object]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def provision(home: Home, say: Say = print) -> bool:
    """Upgrade the metadata, make the admin, init, import the dashboards; return whether work
    was done. Safe to repeat: steps whose inputs did not change are skipped."""
    paths = Paths(home)
    paths.root.mkdir(parents=True, exist_ok=True)
    if not home.published_db.exists():
        raise SupersetError(
            f"no published warehouse at {home.published_db}: run `migstat build` first"
        )
    project = load_project().with_types(warehouse_types(home.published_db))
    files = bundle_files(project, duckdb_uri(home.published_db))
    bundle_hash = write_bundle(files, paths.bundle)
    password = admin_password(paths, say)
    password_hash = hashlib.sha256(password.encode()).hexdigest()
    state = _read_json(paths.state)
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
            [str(bin_dir / "python"), str(PROVISION), "admin", "--password-stdin"],
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
                str(bin_dir / "python"),
                str(PROVISION),
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
    info = _read_json(Paths(home).server)
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


def serve(home: Home, host: str, port: int, say: Say = print) -> str:
    """Start gunicorn in the background; return the URL once ``/health`` answers."""
    paths = Paths(home)
    url = f"http://{host}:{port}"
    if health(url, timeout=1.0):
        raise SupersetError(f"something already answers at {url}: choose another --port")
    log = paths.log.open("ab")
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
        "--timeout",
        "120",
        "--limit-request-line",
        "0",
        "--limit-request-field_size",
        "0",
        "--name",
        f"superset-migstat:{port}",
        "superset.app:create_app()",
    ]
    process = subprocess.Popen(
        command,
        env=superset_env(home),
        cwd=home.superset_dir,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    paths.pid.write_text(f"{process.pid}\n")
    paths.server.write_text(json.dumps({"url": url, "pid": process.pid}))
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


def up(home: Home, port: int = DEFAULT_PORT, host: str | None = None, say: Say = print) -> UpResult:
    """Install if needed, provision, and serve; safe to run again."""
    host = host or os.environ.get("MIGSTAT_SUPERSET_HOST", DEFAULT_HOST)
    home.ensure()
    if not is_installed():
        install(say)
    provisioned = provision(home, say)
    url = f"http://{host}:{port}"
    pid = running_pid(home)
    if pid is not None:
        current = server_url(home)
        if current == url and health(url):
            say(f"Superset already running at {url} (pid {pid})")
            return UpResult(url, started=False, provisioned=provisioned)
        say(f"restarting Superset (was {current})")
        stop(home)
    url = serve(home, host, port, say)
    return UpResult(url, started=True, provisioned=provisioned)


def login_help(home: Home, url: str) -> str:
    paths = Paths(home)
    where = (
        "the password in SUPERSET_ADMIN_PASSWORD"
        if os.environ.get("SUPERSET_ADMIN_PASSWORD")
        else f"the password in {paths.password}"
    )
    return (
        f"Superset is serving the dashboards at {url}\n"
        f"  log in as user 'admin' with {where}\n"
        f"  stop it with: migstat superset down"
    )


def status(home: Home) -> dict[str, object]:
    paths = Paths(home)
    pid = running_pid(home)
    url = server_url(home) if pid is not None else None
    state = _read_json(paths.state)
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
