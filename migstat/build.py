"""``migstat build``: raw store -> a new warehouse file -> dbt build -> atomic swap if it passes.

The build never touches the published file while dbt writes: it copies ``raw.duckdb`` to
``warehouse/build-<timestamp>.duckdb``, refreshes the ``raw.spec_*`` tables there from
``specs/``, runs ``dbt build`` against that copy (target and log paths inside the home, so
several homes can build at once), and only when every model and every error-severity test
passed, moves it onto ``warehouse/migstat.duckdb`` with ``os.replace``. Dashboards keep reading
the previous file meanwhile.

Quarantine is data, not a build failure: rule models compute each submission's verdict before
the marts, so one bad submission never blocks the others. A failed build means the project
itself is broken (a model error, or a mart invariant test of error severity).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from migstat.errors import MigstatError
from migstat.home import PROJECT_ROOT, Home
from migstat.readonly import connect_read_only
from migstat.resources import duckdb_env
from migstat.rules import write_rule_table
from migstat.specs import Specs, load_specs


@dataclass(frozen=True)
class Verdict:
    """One submission's verdict as the build reports it."""

    submission_id: int
    file_name: str
    country_code: str | None
    source: str | None
    period: str | None
    status: str
    has_warnings: bool
    error_count: int
    warning_count: int
    problems: list[str] = field(default_factory=list)
    """``RULE sheet!cell`` of the error failures (quarantined) or the rejection message."""

    @property
    def label(self) -> str:
        if self.status == "accepted" and self.has_warnings:
            return "accepted with warnings"
        return self.status


@dataclass
class BuildResult:
    passed: bool
    build_path: Path
    published_path: Path | None
    seconds: float
    dbt_exit_code: int
    verdicts: list[Verdict]
    failed_nodes: list[str]
    log_path: Path | None = None

    @property
    def quarantined(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status == "quarantined"]


def write_sheet_positions(con: duckdb.DuckDBPyConnection, specs: Specs) -> None:
    """``raw.spec_sheet_positions``: where each layout sheet writes its labels, so rules can
    name the label cell of a problem (``A31`` for a row label, ``E5`` for a column header)."""
    con.execute(
        "create or replace table raw.spec_sheet_positions (layout varchar, sheet varchar, "
        "row_dimension varchar, label_column varchar, first_row integer, "
        "column_dimensions varchar, header_rows varchar)"
    )
    rows = [
        (
            layout.id,
            sheet.name,
            sheet.rows.dimension,
            sheet.rows.label_column,
            sheet.rows.first_row,
            ",".join(sheet.columns.dimensions),
            ",".join(str(row) for row in sheet.columns.header_rows),
        )
        for layout in specs.layouts.values()
        for sheet in layout.sheets
    ]
    if rows:
        con.executemany("insert into raw.spec_sheet_positions values (?, ?, ?, ?, ?, ?, ?)", rows)


def refresh_specs(path: Path) -> None:
    """Rewrite the ``raw.spec_*`` tables of a warehouse file from ``specs/``."""
    from loaders.store import write_spec_tables

    specs = load_specs()
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists raw")
        write_spec_tables(con, specs)
        write_sheet_positions(con, specs)
        write_rule_table(con)


def dbt_command(home: Home, database: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of a dbt invocation against ``database`` for ``home``."""
    # dbt of migstat's own environment: its console script beside the interpreter, or (when the
    # scripts live elsewhere, e.g. an install whose dependencies come from another site dir)
    # the same module run by this interpreter; never another `dbt` found on PATH.
    script = Path(sys.executable).with_name("dbt")
    dbt = [str(script)] if script.exists() else [sys.executable, "-m", "dbt.cli.main"]
    argv = [*dbt, *args, "--project-dir", str(PROJECT_ROOT)]
    argv += ["--profiles-dir", str(PROJECT_ROOT)]
    env = dict(os.environ)
    env.update(
        {
            "MIGSTAT_DBT_DATABASE": str(database),
            "DBT_TARGET_PATH": str(home.root / "dbt" / "target"),
            "DBT_LOG_PATH": str(home.root / "dbt" / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **duckdb_env(home.root / "tmp" / "duckdb"),
        }
    )
    return argv, env


def _failed_nodes(home: Home) -> list[str]:
    results = home.root / "dbt" / "target" / "run_results.json"
    if not results.exists():
        return []
    data = json.loads(results.read_text(encoding="utf-8"))
    return [
        f"{item['unique_id']}: {item['status']}"
        for item in data.get("results", [])
        if item.get("status") in ("error", "fail", "runtime error")
    ]


def read_verdicts(path: Path, limit_problems: int = 8) -> list[Verdict]:
    """The verdict of every submission, from the quality marts of a warehouse file."""
    with connect_read_only(path) as con:
        rows = con.execute(
            "select submission_id, file_name, country_code, source, period, status, "
            "has_warnings, error_count, warning_count, rejection_message "
            "from marts.quality_submissions order by submission_id"
        ).fetchall()
        problems: dict[int, list[str]] = {}
        for submission_id, rule_id, sheet, cell in con.execute(
            "select submission_id, rule_id, sheet, cell from marts.quality_rule_failures "
            "where severity = 'error' order by submission_id, rule_id, sheet, length(cell), cell"
        ).fetchall():
            where = f"{sheet}!{cell}" if sheet and cell else (sheet or "")
            problems.setdefault(submission_id, []).append(f"{rule_id} {where}".strip())
    verdicts = []
    for row in rows:
        found = problems.get(row[0], [])
        shown = found[:limit_problems] + (
            [f"... +{len(found) - limit_problems}"] if len(found) > limit_problems else []
        )
        if row[5] == "rejected" and row[9]:
            shown = [row[9]]
        verdicts.append(
            Verdict(
                row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), row[7], row[8], shown
            )
        )
    return verdicts


def build(home: Home, *, quiet: bool = False) -> BuildResult:
    """Run one build for ``home``; publish it when it passes. dbt's output goes to
    ``$MIGSTAT_HOME/dbt/build.log``."""
    home.ensure()
    if not home.raw_db.exists():
        raise MigstatError(f"no raw store at {home.raw_db}: run `migstat load` first")
    started = time.monotonic()
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
    build_path = home.warehouse_dir / f"build-{stamp}.duckdb"
    shutil.copy2(home.raw_db, build_path)
    wal = home.raw_db.with_name(home.raw_db.name + ".wal")
    if wal.exists():
        shutil.copy2(wal, build_path.with_name(build_path.name + ".wal"))
    try:
        refresh_specs(build_path)
    except duckdb.Error as error:
        build_path.unlink(missing_ok=True)
        raise MigstatError(f"cannot prepare the build from {home.raw_db}: {error}") from error
    argv, env = dbt_command(home, build_path, "build")
    log_path = home.root / "dbt" / "build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        completed = subprocess.run(
            argv, cwd=home.root, env=env, check=False, stdout=log, stderr=subprocess.STDOUT
        )
    if not quiet:
        print(f"dbt build: exit {completed.returncode}, output in {log_path}")
    passed = completed.returncode == 0
    failed = [] if passed else _failed_nodes(home)
    verdicts: list[Verdict] = []
    try:
        verdicts = read_verdicts(build_path)
    except duckdb.Error:
        verdicts = []
    published = None
    if passed:
        os.replace(build_path, home.published_db)
        published = home.published_db
    return BuildResult(
        passed=passed,
        build_path=build_path,
        published_path=published,
        seconds=time.monotonic() - started,
        dbt_exit_code=completed.returncode,
        verdicts=verdicts,
        failed_nodes=failed,
        log_path=log_path,
    )
