"""Child process groups (migstat.process_group): what a child starts (dbt's JVM, here a sleeping
grandchild) never outlives the run, whether the child exits, times out or its caller is stopped.
Real processes throughout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from migstat.process_group import processes_with_env, run_in_group

# A child that starts a long-lived grandchild (as dbt starts a JVM), writes its pid, then
# sleeps (HANG) or exits at once (EXIT).
CHILD = """
import pathlib, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
pathlib.Path(sys.argv[1]).write_text(str(grandchild.pid))
if sys.argv[2] == "HANG":
    time.sleep(600)
"""


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def gone_within(pid: int, seconds: float) -> bool:
    """Whether ``pid`` is gone within ``seconds`` (an orphan is reaped by init, not by us)."""
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def wait_for_file(path: Path, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.1)
    return int(path.read_text())


def test_a_timeout_kills_what_the_child_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    with (tmp_path / "out.log").open("w") as out:
        run = run_in_group(
            [sys.executable, "-c", CHILD, str(pid_file), "HANG"],
            env=os.environ,
            output=out,
            timeout=10,
        )
    assert run.timed_out
    assert run.exit_code == -signal.SIGKILL
    grandchild = wait_for_file(pid_file, 0)
    assert gone_within(grandchild, 10), "the grandchild outlived the timed-out run"


def test_what_the_child_left_running_is_killed_when_it_exits(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    with (tmp_path / "out.log").open("w") as out:
        run = run_in_group(
            [sys.executable, "-c", CHILD, str(pid_file), "EXIT"],
            env=os.environ,
            output=out,
            timeout=None,
        )
    assert (run.exit_code, run.timed_out) == (0, False)
    assert gone_within(wait_for_file(pid_file, 0), 10), "the grandchild outlived its parent"


def test_a_stopped_caller_kills_the_group(tmp_path: Path) -> None:
    """SIGTERM to the process waiting on the group (a killed `migstat spark build`)."""
    pid_file = tmp_path / "grandchild.pid"
    caller = (
        "import os, sys\n"
        "from migstat.process_group import run_in_group\n"
        f"run_in_group([sys.executable, '-c', {CHILD!r}, {str(pid_file)!r}, 'HANG'],"
        " env=os.environ, output=sys.stdout, timeout=600)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", caller], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    grandchild = wait_for_file(pid_file)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "interrupted by signal 15" in err
    assert gone_within(grandchild, 10), "the grandchild outlived its stopped caller"


def test_processes_are_found_by_their_environment(tmp_path: Path) -> None:
    marked = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"],
        env={**os.environ, "MIGSTAT_TEST_MARK": str(tmp_path / "a")},
    )
    try:
        assert processes_with_env("MIGSTAT_TEST_MARK", str(tmp_path / "a")) == [marked.pid]
        assert processes_with_env("MIGSTAT_TEST_MARK", str(tmp_path)) == []
        assert processes_with_env("MIGSTAT_TEST_MARK", str(tmp_path), prefix=True) == [marked.pid]
    finally:
        marked.kill()
        marked.wait()
    assert processes_with_env("MIGSTAT_TEST_MARK", str(tmp_path / "a")) == []
