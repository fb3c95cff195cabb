"""Child processes that never outlive the run that started them.

dbt (``migstat build``) and dbt-spark with its JVM (``migstat spark build``) start processes of
their own. Each such child is started in its own process group (``start_new_session``), so that
the whole tree is stopped with one ``killpg``:

* :func:`die_with_parent`: the child gets SIGKILL when the process that started it dies, however
  it dies (``PR_SET_PDEATHSIG``, Linux);
* :func:`stop_group_on_signals`: SIGTERM, SIGINT and SIGHUP kill the group, then interrupt the
  caller with an exception;
* :func:`run_in_group`: start, wait with a timeout, and kill the group on timeout or on any
  exception;
* :func:`processes_with_env`: this user's processes found by a variable of their environment
  (what a later run uses to clean up after a run that died anyway).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from migstat.errors import MigstatError

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> Callable[[], None]:
    """``preexec_fn``: the child gets SIGKILL when ``parent`` dies, however it dies."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None

    def setup() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return setup


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the process group ``pid`` leads (to ``pid`` alone when it leads none)."""
    try:
        group = os.getpgid(pid)
        if group == pid:
            os.killpg(group, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


@contextmanager
def stop_group_on_signals(
    process: subprocess.Popen[bytes], interrupted: Callable[[int], BaseException]
) -> Iterator[None]:
    """While ``process`` runs: a stop signal kills its process group and raises
    ``interrupted(signum)``. Only in the main thread (signal handlers live there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        kill_group(process.pid)
        raise interrupted(signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass(frozen=True)
class GroupRun:
    """How a process group run ended."""

    exit_code: int
    timed_out: bool


class GroupInterrupted(MigstatError):
    """A stop signal reached the process that waited on a group; the group was killed."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by signal {signum}; its child processes were stopped")
        self.signum = signum


def run_in_group(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    output: IO[str],
    timeout: float | None,
    cwd: Path | None = None,
) -> GroupRun:
    """Run ``argv`` in a new process group tied to this process, output to ``output``; wait at
    most ``timeout`` seconds. Whichever way the run ends (exit, timeout, a stop signal raising
    :class:`GroupInterrupted`, any exception), every process still in the group (what the child
    started too, e.g. a JVM) is killed before this returns or raises."""
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent(os.getpid()),
    )
    timed_out = False
    try:
        with stop_group_on_signals(process, GroupInterrupted):
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        # The group id is the leader's pid (start_new_session); it outlives the leader while
        # any member runs.
        kill_group_members(process.pid)
        process.wait()
    return GroupRun(exit_code=process.returncode, timed_out=timed_out)


def kill_group_members(group: int) -> None:
    """SIGKILL every process of process group ``group`` (its leader may have exited)."""
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def processes_with_env(name: str, value: str, *, prefix: bool = False) -> list[int]:
    """PIDs of this user's live processes (this one excepted) whose environment has ``name`` set
    to ``value`` (with ``prefix``: to a value starting with it)."""
    marker = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        items = environ.split(b"\0")
        if state != "Z" and any(
            item.startswith(marker) if prefix else item == marker for item in items
        ):
            found.append(int(entry.name))
    return found
