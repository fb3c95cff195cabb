"""The project's own quality bar: ruff and mypy on the Python, SQLFluff (dbt templater) on the
models."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import distributions
from pathlib import Path

from migstat.home import REPO_ROOT

BIN = Path(sys.executable).parent


def run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, env=env, check=False
    )


def test_ruff_lint_and_format_are_clean() -> None:
    lint = run(str(BIN / "ruff"), "check", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = run(str(BIN / "ruff"), "format", "--check", ".")
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


def test_mypy_is_clean() -> None:
    """The type hints ruff requires are checked: migstat/ and loaders/, configuration in
    pyproject.toml ([tool.mypy])."""
    checked = run(str(BIN / "mypy"))
    assert checked.returncode == 0, checked.stdout[-6000:] + checked.stderr[-2000:]
    assert "Success: no issues found" in checked.stdout


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_environment_is_the_lock() -> None:
    """constraints.txt (the Makefile installs with -c) agrees with pyproject.toml's pins, and
    every locked package installed here has its locked version."""
    locked = {
        _normalise(name): version
        for name, version in re.findall(
            r"^([A-Za-z0-9_.\-]+)==(\S+)$",
            (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8"),
            re.MULTILINE,
        )
    }
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    for pin in pins:
        name, version = pin.split("==")
        name = name.split("[")[0]  # extras: pysdmx[data,xml]
        assert locked.get(_normalise(name)) == version, f"{pin}: constraints.txt has another"
    installed = {_normalise(d.metadata["Name"]): d.version for d in distributions()}
    wrong = {
        name: (installed[name], version)
        for name, version in locked.items()
        if name in installed and installed[name] != version
    }
    assert not wrong, f"installed (found, locked): {wrong}; run `make` to reinstall"
    missing = sorted(set(locked) - set(installed))
    assert not missing, f"locked but not installed: {missing}"


def test_sqlfluff_is_clean_on_every_model(tmp_path: Path) -> None:
    """Lint against an empty database: no model queries the database while it compiles. A model
    that does not compile is skipped by SQLFluff with only a warning, so any skip fails this
    test too."""
    database = tmp_path / "lint.duckdb"
    env = {
        **os.environ,
        "MIGSTAT_DBT_DATABASE": str(database),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    lint = run(str(BIN / "sqlfluff"), "lint", "-v", "models", env=env)
    output = lint.stdout + lint.stderr
    assert lint.returncode == 0, output[-6000:]
    passed = set(re.findall(r"^== \[(.+?)\] PASS", output, re.MULTILINE))
    models = {str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "models").rglob("*.sql")}
    assert models - passed == set(), "models SQLFluff did not lint (did not compile?)"
