"""The command line's habits: --version, --home, exit codes, --json, -q, --debug, helps.

Every test runs the real ``migstat`` process (``fixtures.cli.migstat``) in a fresh home; none
runs dbt (build progress is checked by test_dbt_build.py on its own build).
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import click
import pytest
import typer
from fixtures.cli import migstat

from migstat.cli import ExitCode, app
from migstat.workbooks.template import write_template


def test_version_is_the_package_version(home: Path) -> None:
    done = migstat(home, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"migstat {version('migstat')}"


def test_home_option_wins_over_the_environment(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    from_env = json.loads(migstat(home, "status", "--json").stdout)
    assert Path(from_env["home"]) == home.resolve()
    from_option = json.loads(migstat(home, "--home", str(other), "status", "--json").stdout)
    assert Path(from_option["home"]) == other.resolve()


def test_exit_codes_usage_data_and_domain(home: Path, tmp_path: Path) -> None:
    assert migstat(home, "load", "--no-such-option").returncode == ExitCode.USAGE
    nothing = migstat(home, "load")
    assert nothing.returncode == ExitCode.USAGE and "give workbooks" in nothing.stderr
    unknown = migstat(home, "codes", "list", "no_such_list")
    assert unknown.returncode == ExitCode.USAGE and "unknown code list" in unknown.stderr

    broken = tmp_path / "MEX_entries_exits_2024.xlsx"
    broken.write_bytes(b"not a workbook")
    rejected = migstat(home, "load", str(broken), "--json")
    assert rejected.returncode == ExitCode.DATA, rejected.stderr
    [outcome] = json.loads(rejected.stdout)
    assert outcome["status"] == "rejected" and outcome["file"] == str(broken)
    assert outcome["message"]

    missing = migstat(home, "report", "1", "-o", str(tmp_path / "r.xlsx"))
    assert missing.returncode == ExitCode.ERROR
    assert missing.stderr.startswith("error: ") and "Traceback" not in missing.stderr
    debug = migstat(home, "--debug", "report", "1", "-o", str(tmp_path / "r.xlsx"))
    assert debug.returncode == ExitCode.ERROR and "Traceback" in debug.stderr


def test_load_json_and_quiet(home: Path, tmp_path: Path) -> None:
    workbook = write_template(
        "entries_exits", "MEX", 2024, tmp_path / "MEX_entries_exits_2024.xlsx"
    )
    done = migstat(home, "-q", "load", str(workbook), "--json")
    assert done.returncode in (ExitCode.OK, ExitCode.DATA), done.stderr
    [outcome] = json.loads(done.stdout)
    assert outcome["file"] == str(workbook) and outcome["status"] in ("loaded", "rejected")
    again = migstat(home, "-q", "load", str(workbook))
    assert again.returncode == ExitCode.OK, again.stderr
    assert again.stdout.strip() == "", "quiet: no table, no 'skipped' line"
    verified = json.loads(migstat(home, "verify", "--json").stdout)
    assert verified == []


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


@pytest.mark.parametrize(
    ("name", "command"), _commands(typer.main.get_group(app)), ids=lambda item: str(item)
)
def test_every_help_starts_with_one_sentence(name: str, command: click.Command) -> None:
    """The first paragraph is what the command list shows: one line, one sentence."""
    text = (command.help or "").strip()
    assert text, f"migstat {name} has no help"
    first = text.split("\n\n", 1)[0]
    assert "\n" not in first and first.endswith("."), f"migstat {name}: {first!r}"
