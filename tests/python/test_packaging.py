"""`pip install .` (not editable) gives a working CLI: the wheel carries the project files.

The setup is the cheapest one that is still an ordinary install, chosen on purpose:

* The wheel is built by pip from a copy of the checkout (without .git, virtual environments,
  homes or earlier build/ output), with ``pip wheel --no-build-isolation --no-deps --no-index``:
  the dev environment has the pinned setuptools, so nothing is downloaded, and the checkout gets
  no build/ or *.egg-info (nor can a stale build/lib leak into the wheel).
* It is installed by pip into a fresh virtual environment (``python -m venv --without-pip``, pip
  driven from the dev environment with ``pip --python``), so the package and the ``migstat``
  console script land in a real site-packages, as ``pip install .`` puts them.
* The dependencies (dbt, DuckDB, ...) are not installed again: a ``.pth`` file appends the dev
  environment's site-packages *after* the fresh one. A folder named in a ``.pth`` is not a site
  directory, so the dev environment's editable-install hook (itself a ``.pth``) never runs there:
  ``import migstat`` can only find the installed copy, which the test asserts.
* dbt's console script is therefore not beside the fresh interpreter: ``migstat build`` runs
  ``python -m dbt.cli.main`` of the same interpreter (migstat/build.py); this covers that path.
* Every command runs in a working directory outside the checkout, with a temporary
  ``MIGSTAT_HOME`` and ``XDG_DATA_HOME``. The installed tree is fingerprinted before and after
  the commands: nothing may be written into site-packages (the tests run as root here, so a
  read-only chmod would prove nothing).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from migstat.home import REPO_ROOT

pytestmark = pytest.mark.slow

PROJECT_DIRS = ("specs", "seeds", "models", "macros", "superset/dashboards")
PROJECT_FILES = (
    "dbt_project.yml",
    "profiles.yml",
    "selectors.yml",
    ".dbtignore",
    "docs/rules.md",
)
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv*", "home", "build", "dist", "*.egg-info", "test-artifacts", "__pycache__"
)


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    site_packages: Path
    work: Path
    """The working directory of every command (outside the checkout)."""
    home: Path
    xdg: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MIGSTAT_", "PYTHON", "VIRTUAL_ENV", "DBT_", "XDG_DATA_HOME"))
        }
        return env | {"MIGSTAT_HOME": str(self.home), "XDG_DATA_HOME": str(self.xdg)} | extra

    def migstat(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """The installed console script, as a user types it."""
        return run([str(self.venv / "bin" / "migstat"), *args], cwd=self.work, env=self.env(**env))

    def python_code(self, code: str) -> subprocess.CompletedProcess[str]:
        return run([str(self.python), "-c", code], cwd=self.work, env=self.env())


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    # A timeout only so that a hung child cannot hang the suite; nothing asserts on time.
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=1800, **kwargs)


def ok(completed: subprocess.CompletedProcess[str]) -> str:
    assert completed.returncode == 0, (
        f"{' '.join(completed.args)} exited {completed.returncode}\n"
        f"stdout:\n{completed.stdout[-4000:]}\nstderr:\n{completed.stderr[-4000:]}"
    )
    return completed.stdout


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (bytecode caches aside) with its sha256."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    shutil.copytree(REPO_ROOT, source, ignore=COPY_IGNORE)
    wheels = root / "wheels"
    ok(
        run(
            [
                *(sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps"),
                *("--no-index", "--quiet", "--wheel-dir", str(wheels), str(source)),
            ]
        )
    )
    (wheel,) = wheels.glob("migstat-*.whl")
    venv = root / "venv"
    ok(run([sys.executable, "-m", "venv", "--without-pip", str(venv)]))
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site_packages = Path(ok(run([str(venv / "bin" / "python"), "-c", purelib])).strip())
    dev_site_packages = Path(ok(run([sys.executable, "-c", purelib])).strip())
    (site_packages / "migstat-dependencies.pth").write_text(f"{dev_site_packages}\n")
    ok(
        run(
            [
                *(sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")),
                *("install", "--no-deps", "--no-index", "--quiet", str(wheel)),
            ]
        )
    )
    work = root / "work"
    work.mkdir()
    return Installed(wheel, venv, site_packages, work, root / "home", root / "xdg")


def test_wheel_ships_every_project_file_and_nothing_else(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    shipped = {name.removeprefix("migstat/_project/") for name in names}
    expected = set(PROJECT_FILES)
    for folder in PROJECT_DIRS:
        expected |= {
            str(path.relative_to(REPO_ROOT))
            for path in (REPO_ROOT / folder).rglob("*")
            if path.is_file() and not path.name.startswith(".") and "__pycache__" not in path.parts
        }
    assert expected - shipped == set(), "project files missing from the wheel"
    # pyproject.toml lists the packages explicitly: a new subpackage must be added there.
    modules = {
        str(path.relative_to(REPO_ROOT))
        for package in ("migstat", "loaders")
        for path in (REPO_ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert modules - names == set(), "modules missing from the wheel (pyproject packages list)"
    extra = {
        name
        for name in names
        if name.startswith("migstat/_project/")
        and name.removeprefix("migstat/_project/") not in expected
    }
    assert extra == set(), "the wheel ships files the CLI does not read"


def test_installed_cli_runs_the_main_job_from_package_data(installed: Installed) -> None:
    where = json.loads(
        ok(
            installed.python_code(
                "import json, loaders, migstat, migstat.home as h, migstat.superset.paths as s; "
                "print(json.dumps([migstat.__file__, loaders.__file__, str(h.PROJECT_ROOT), "
                "str(s.VENV)]))"
            )
        )
    )
    package, loaders, project, superset_venv = map(Path, where)
    assert package == installed.site_packages / "migstat" / "__init__.py"
    assert loaders == installed.site_packages / "loaders" / "__init__.py"
    assert project == installed.site_packages / "migstat" / "_project"
    assert superset_venv == installed.xdg / "migstat" / ".venv-superset"
    before = fingerprint(installed.site_packages)

    template = installed.work / "MEX_entries_exits_2024.xlsx"
    ok(
        installed.migstat(
            "template", "-s", "entries_exits", "-c", "MEX", "-y", "2024", "-o", str(template)
        )
    )
    assert template.stat().st_size > 0
    inbox = installed.work / "inbox"
    ok(installed.migstat("sample", "-o", str(inbox), "--years", "2024"))
    workbooks = sorted(inbox.glob("*.xlsx"))
    assert workbooks
    ok(installed.migstat("load", str(inbox)))
    resolved = json.loads(ok(installed.migstat("codes", "resolve", "Dominicana, Rep.", "--json")))
    assert [entry["code"] for entry in resolved] == ["DOM"]

    build = json.loads(ok(installed.migstat("build", "--json")))
    assert build["passed"], build["failed_nodes"]
    assert build["published"] == str(installed.home / "warehouse" / "migstat.duckdb")
    verdicts = {item["file"]: item["verdict"] for item in build["submissions"]}
    assert {path.name for path in workbooks} <= set(verdicts)
    assert "accepted" in verdicts.values()
    # dbt read the installed project and wrote its target and logs into the home.
    dbt_args = json.loads((installed.home / "dbt" / "target" / "run_results.json").read_text())[
        "args"
    ]
    assert Path(dbt_args["project_dir"]) == project
    assert Path(dbt_args["profiles_dir"]) == project
    assert Path(dbt_args["target_path"]) == installed.home / "dbt" / "target"
    assert Path(dbt_args["log_path"]) == installed.home / "dbt" / "logs"
    assert (installed.home / "dbt" / "logs" / "dbt.log").stat().st_size > 0

    status = json.loads(ok(installed.migstat("status", "--json")))
    assert status["warehouse_exists"]
    assert {item["file"] for item in status["submissions"]} == set(verdicts)

    # The dashboards YAML shipped in the package builds Superset's bundle over this warehouse.
    bundle = installed.work / "bundle.zip"
    ok(
        installed.python_code(
            "from pathlib import Path\n"
            "from migstat.superset.bundle import bundle_files, write_bundle\n"
            "from migstat.superset.spec import load_project\n"
            "from migstat.superset.warehouse import duckdb_uri, warehouse_types\n"
            f"db = Path({str(build['published'])!r})\n"
            "project = load_project().with_types(warehouse_types(db))\n"
            f"write_bundle(bundle_files(project, duckdb_uri(db)), Path({str(bundle)!r}))\n"
        )
    )
    assert any(name.endswith(".yaml") for name in zipfile.ZipFile(bundle).namelist())

    # Without MIGSTAT_HOME the home is a per-user folder, never site-packages.
    default = json.loads(ok(installed.migstat("status", "--json", MIGSTAT_HOME="")))
    assert Path(default["home"]) == installed.xdg / "migstat" / "home"
    # The rules document of an installed package is read-only; regenerating it is a checkout job.
    refused = installed.migstat("rules", "--write")
    assert refused.returncode == 3
    assert "repository checkout" in refused.stderr
    assert "| ADD-001 |" in ok(installed.migstat("rules"))

    assert fingerprint(installed.site_packages) == before
