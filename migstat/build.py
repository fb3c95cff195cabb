"""``migstat build``: raw store -> a new warehouse file -> dbt build -> atomic swap if it passes.

The build never touches the published file while dbt writes: it copies ``landing.duckdb`` to
``warehouse/build-current.duckdb`` (one fixed name, so dbt parses only what changed), refreshes
the ``raw.spec_*`` tables there from ``specs/``, resolves every distinct label into
``raw.label_resolutions`` (migstat.resolutions), runs ``dbt build`` against that copy (target
and log paths inside the home, so several homes can build at once), and only when every model
and every error-severity test passed, moves it onto ``warehouse/migstat.duckdb`` with
``os.replace``. Dashboards keep reading the previous file meanwhile.

A build holds ``locks/build.lock`` from start to swap and ``locks/store.lock`` while it reads
the raw store, so it waits for a running load and snapshots all of it (:mod:`migstat.lock`).
A build with nothing to do keeps the published warehouse (:func:`unchanged_since_published`).
dbt runs through ``dbtRunner`` in a child process (:mod:`migstat.dbt_child`), which reports
each node as it finishes (the CLI prints one line per model). That process has its own process
group and dies with the build (``PR_SET_PDEATHSIG``; SIGTERM, SIGINT
and SIGHUP kill the group), and build files and dbt processes left by a build that died anyway
are removed when the next build starts. A build that would drop (country, source, period) keys
the published warehouse has, other than by a withdrawal, refuses to publish unless
``allow_unpublish`` is given (a lost raw store must be restored, not republished empty).

Builds are incremental (README "Incremental builds and --full-refresh"): when the published
warehouse was built by the same project and specs (:func:`project_fingerprint`), the tables of
its incremental models are copied into the new build file (:func:`carry_over`) and dbt judges
only the submissions not judged yet and merges the marts by key; dbt's unit tests and the docs
page (both depend on the project only) are left out. Otherwise, and with ``full_refresh``, dbt
rebuilds everything (``--full-refresh``). Either way the published file is only read.

Quarantine is data, not a build failure: rule models compute each submission's verdict before
the marts, so one bad submission never blocks the others. When dbt fails anyway, the build
bisects the submissions (``migstat.containment``): the ones whose data makes it fail are set
aside (rule ``STR-BUILD``) and the rest is published. A failed build means the project itself is
broken (it fails without any submission: a model error, or a mart invariant test).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

import duckdb

from migstat.codes import build_resolver
from migstat.containment import find_culprits
from migstat.dbt_child import EVENTS_FD_ENV
from migstat.errors import MigstatError
from migstat.home import PROJECT_ROOT, Home
from migstat.lock import writer_lock
from migstat.process_group import (
    die_with_parent,
    kill_group,
    processes_with_env,
    stop_group_on_signals,
)
from migstat.readonly import connect_read_only
from migstat.resolutions import add_label_resolutions, write_label_resolutions
from migstat.resources import duckdb_env
from migstat.rules import write_rule_table
from migstat.specs import Specs, load_specs
from migstat.wiring import dbt_vars, missing_declarations

Key = tuple[str, str, str]


class BuildInterrupted(MigstatError):
    """The build got a stop signal: dbt was stopped, the published warehouse is unchanged."""


def _interrupted(signum: int) -> BuildInterrupted:
    return BuildInterrupted(f"build interrupted by signal {signum}; dbt stopped")


class UnpublishRefused(MigstatError):
    """The build would drop published keys."""

    def __init__(self, keys: list[Key]) -> None:
        self.keys = keys
        shown = ", ".join("/".join(key) for key in keys[:20])
        more = f" and {len(keys) - 20} more" if len(keys) > 20 else ""
        super().__init__(
            f"refusing to publish: this build would unpublish {len(keys)} "
            f"(country, source, period) key(s) the published warehouse has: {shown}{more}. "
            "The published warehouse is unchanged. If the raw store was lost or damaged, run "
            "`migstat restore`; to take one submission out, `migstat withdraw ID`; to publish "
            "anyway, `migstat build --allow-unpublish`."
        )


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
    refused_keys: list[Key] = field(default_factory=list)
    """Published (country, source, period) keys this build would have dropped (not published)."""
    cleaned: list[str] = field(default_factory=list)
    """Leftovers of dead builds removed at the start (files, dbt processes)."""
    set_aside: list[int] = field(default_factory=list)
    """Submissions whose data made dbt fail, kept out of this build (rule STR-BUILD)."""
    mode: str = "full"
    """``incremental`` (from the published warehouse's tables), ``full`` (everything rebuilt) or
    ``unchanged`` (nothing changed since the published build: kept, dbt not run)."""

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


def refresh_specs(
    path: Path, overlay: Path | None = None, new_submissions: list[int] | None = None
) -> None:
    """Rewrite the ``raw.spec_*`` tables of a warehouse file from ``specs/``, and resolve every
    label it holds into ``raw.label_resolutions`` (shipped seeds plus the user's code files
    under ``overlay``, usually ``$MIGSTAT_HOME/specs``). ``new_submissions``: the file is a copy
    of the published warehouse (same project fingerprint, so the same resolver) whose raw
    tables got these submissions: only their labels not resolved yet are resolved and added,
    which gives the same table as resolving every label (no scan of every cell ever loaded)."""
    from loaders.store import WITHDRAWALS_DDL, write_spec_tables

    specs = load_specs()
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists raw")
        con.execute(WITHDRAWALS_DDL)
        write_spec_tables(con, specs)
        write_sheet_positions(con, specs)
        write_rule_table(con)
        resolved = con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'raw' and table_name = 'label_resolutions'"
        ).fetchone()
        if new_submissions is not None and resolved is not None and resolved[0]:
            add_label_resolutions(con, build_resolver(overlay), new_submissions)
        else:
            write_label_resolutions(con, build_resolver(overlay))


BUILD_FILE = "build-current.duckdb"
"""The file a build writes, always the same name (a build holds the build lock, and a file left
by a dead build is removed by the next one): dbt's profile then names the same database at every
build, so dbt keeps its partial parse (``target/partial_parse.msgpack``) instead of parsing the
whole project again. A symlink would not do: DuckDB names the catalog after the link."""

REFERENCE_DATE_ENV = "MIGSTAT_REFERENCE_DATE"
"""``YYYY-MM-DD``: the date date-dependent rules (STR-006, a future period) judge against instead
of today (a re-run as of a past date, tests). Not part of the project fingerprint: submissions
failing such a rule are judged again at every build (macro ``date_dependent_rules``)."""

META_SCHEMA = "build_meta"
"""Schema of a build file recording how it was built (project fingerprint, incremental tables)."""
FINGERPRINT_FILES = ("dbt_project.yml", "selectors.yml", "profiles.yml")
FINGERPRINT_DIRS = ("models", "macros", "seeds", "specs")
FINGERPRINT_CODE = ("codes.py", "resolutions.py", "rules.py", "wiring.py", "specs.py")


def project_fingerprint(home: Home, spec_vars: dict[str, Any]) -> str:
    """sha256 of what decides a submission's verdict and the marts besides its own data: the dbt
    project (models, macros, seeds, dbt tests), the shipped specs and the home's spec overlay,
    the dbt vars, the Python that writes the build's spec and label tables, and the versions of
    migstat, dbt and DuckDB. An incremental build needs the published warehouse's to be equal."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    for name in ("migstat", "dbt-core", "dbt-duckdb", "duckdb"):
        digest.update(f"{name}={version(name)}\n".encode())
    digest.update(json.dumps(spec_vars, sort_keys=True).encode())
    files = [PROJECT_ROOT / name for name in FINGERPRINT_FILES]
    for folder in FINGERPRINT_DIRS:
        files += sorted((PROJECT_ROOT / folder).rglob("*"))
    files += sorted(p for p in (PROJECT_ROOT / "tests").rglob("*") if "python" not in p.parts)
    files += sorted((home.root / "specs").rglob("*"))
    code = Path(__file__).parent
    files += [code / name for name in FINGERPRINT_CODE]
    files.append(PROJECT_ROOT / "loaders" / "store.py")
    for path in files:
        if path.is_file():
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def built_with(path: Path) -> tuple[str, list[tuple[str, str]]] | None:
    """The fingerprint a warehouse file was built with and its incremental tables, or None
    (no file, or built before incremental builds)."""
    if not path.exists():
        return None
    try:
        with connect_read_only(path) as con:
            row = con.execute(f"select fingerprint from {META_SCHEMA}.build").fetchone()
            tables = con.execute(
                f"select schema_name, table_name from {META_SCHEMA}.incremental_tables"
            ).fetchall()
    except duckdb.Error:
        return None
    return (str(row[0]), [(str(t[0]), str(t[1])) for t in tables]) if row else None


def incremental_tables(manifest: Path) -> list[tuple[str, str]]:
    """(schema, table) of every incremental model of a dbt manifest (none without one)."""
    if not manifest.exists():
        return []
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {})
    return sorted(
        (node["schema"], node.get("alias") or node["name"])
        for node in nodes.values()
        if node.get("resource_type") == "model"
        and node.get("config", {}).get("materialized") == "incremental"
    )


def carry_over(published: Path, build_path: Path, tables: list[tuple[str, str]]) -> bool:
    """Copy the incremental models' tables of the published warehouse into the build file
    (the published file is attached read-only: a killed build never changes it). False, and
    nothing copied, when a submission the published warehouse knows is no longer the same in
    the raw store (another file under its id, or gone: a store rebuilt differently)."""
    with duckdb.connect(str(build_path)) as con:
        con.execute("attach ? as previous (read_only)", [str(published)])
        try:
            changed = con.execute(
                "select count(*) from previous.raw.submissions as before "
                "left join raw.submissions as now on before.submission_id = now.submission_id "
                "where now.sha256 is distinct from before.sha256"
            ).fetchone()
            if changed is None or changed[0]:
                return False
            for schema, table in tables:
                con.execute(f'create schema if not exists "{schema}"')
                con.execute(
                    f'create or replace table "{schema}"."{table}" as '
                    f'select * from previous."{schema}"."{table}"'
                )
        finally:
            con.execute("detach previous")
    return True


def start_from_published(raw: Path, build_path: Path) -> list[int] | None:
    """Bring the raw tables of ``build_path``, a file copy of the published warehouse (every
    model's table, seeds and views as the last build left them), up to the raw store ``raw``
    (attached read-only: call it holding the store lock): the cells of submissions it does not
    have yet are added, the submissions, withdrawals and spec tables replaced. A file copy and
    the new rows only, where copying the raw store and then the incremental models' tables
    (:func:`carry_over`) costs in proportion to everything ever loaded. The ids of the
    submissions added; None, and no ``build_path``, when the published raw tables are not a
    prefix of the raw store's (a submission changed or gone, other columns, submissions set
    aside by a containment search): the caller starts from the raw store then."""
    try:
        with duckdb.connect(str(build_path)) as con:
            con.execute("attach ? as landing (read_only)", [str(raw)])
            try:
                refreshed = _bring_raw_up_to(con)
            finally:
                con.execute("detach landing")
    except duckdb.Error:
        refreshed = None
    if refreshed is None:
        build_path.unlink(missing_ok=True)
        build_path.with_name(build_path.name + ".wal").unlink(missing_ok=True)
    return refreshed


def _raw_columns(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = 'raw' order by table_name, column_index",
        [database],
    ).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        columns.setdefault(str(table), []).append((str(column), str(kind)))
    return columns


def _bring_raw_up_to(con: duckdb.DuckDBPyConnection) -> list[int] | None:
    """The raw tables of the current database (a copy of the published warehouse) made equal
    to those of the attached raw store ``landing``: the ids of the submissions added; None,
    with nothing changed, when they cannot be by adding rows (see :func:`start_from_published`).
    The new submissions' rows are selected by their ids written as literals (DuckDB's zone maps
    skip the row groups of the others; every row of a per-submission table belongs to a
    submission: the loader writes a file's rows and its submission in one transaction)."""
    from migstat.containment import SIDE_SCHEMA

    database = str(con.execute("select current_database()").fetchone()[0])  # type: ignore[index]
    side = con.execute(
        "select count(*) from duckdb_schemas() where database_name = ? and schema_name = ?",
        [database, SIDE_SCHEMA],
    ).fetchone()
    changed = con.execute(
        "select count(*) from raw.submissions as before "
        "left join landing.raw.submissions as now on before.submission_id = now.submission_id "
        "where now.sha256 is distinct from before.sha256 "
        "or now.status is distinct from before.status"
    ).fetchone()
    if side is None or side[0] or changed is None or changed[0]:
        return None
    now, before = _raw_columns(con, "landing"), _raw_columns(con, database)
    if any(table in before and before[table] != columns for table, columns in now.items()):
        return None
    new = [
        int(row[0])
        for row in con.execute(
            "select submission_id from landing.raw.submissions where submission_id not in "
            "(select submission_id from raw.submissions) order by 1"
        ).fetchall()
    ]
    per_submission = [
        table
        for table, columns in now.items()
        if any(column == "submission_id" for column, _kind in columns)
        and table not in ("submissions", "withdrawals")
    ]
    con.execute("begin")
    for table in per_submission:
        if table in before:
            if new:
                con.execute(
                    f'insert into raw."{table}" select * from landing.raw."{table}" '
                    f"where submission_id in ({', '.join(map(str, new))})"
                )
        else:
            con.execute(f'create table raw."{table}" as select * from landing.raw."{table}"')
    for table in now:
        if table not in per_submission:
            con.execute(
                f'create or replace table raw."{table}" as select * from landing.raw."{table}"'
            )
    con.execute("commit")
    return new


LEDGER = "int_submissions_judged"


STAMP_FILE = "migstat.built.json"
"""Beside the published warehouse: its size and modification time right after ``migstat build``
published it, with the fingerprint and schema environment of that build. A published file whose
size or time no longer match was changed outside ``migstat build`` (or by an older migstat):
the next build is never skipped then (:func:`unchanged_since_published`)."""

SCHEMA_ENV = ("MIGSTAT_ENVIRONMENT", "MIGSTAT_CI_RUN", "MIGSTAT_DEVELOPER", "USER")
"""Environment variables that name the dbt schemas (macros/generate_schema_name.sql); the
no-op check compares the prefix they give (:func:`_schema_environment`)."""

REFRESHED_RAW = ("label_resolutions",)
"""Raw tables every build rewrites from the specs and code (:func:`refresh_specs`), besides
``spec_*``: derived from what the project fingerprint covers, not compared with the raw store."""


def _schema_environment() -> str:
    """The schema prefix dbt's ``generate_schema_name`` gives this environment ('' in prod)."""
    environment = os.environ.get("MIGSTAT_ENVIRONMENT", "prod").lower()
    if environment == "ci":
        return f"ci_{os.environ.get('MIGSTAT_CI_RUN', 'local').lower()}_"
    if environment == "dev":
        developer = os.environ.get("MIGSTAT_DEVELOPER", os.environ.get("USER", "anonymous"))
        return f"dev_{developer.lower()}_"
    return "" if environment == "prod" else f"{environment}?"


def _file_stamp(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def write_stamp(home: Home, fingerprint: str) -> None:
    """Record the published warehouse as ``migstat build`` left it (:data:`STAMP_FILE`)."""
    stamp = {
        **_file_stamp(home.published_db),
        "fingerprint": fingerprint,
        "environment": _schema_environment(),
    }
    path = home.warehouse_dir / STAMP_FILE
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(stamp, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)


def unchanged_since_published(home: Home, fingerprint: str) -> str | None:
    """None when a build now would publish exactly the published warehouse, so ``migstat
    build`` can keep it without copying anything or running dbt; else why it would not (the
    first reason found). Nothing changed means all of:

    * the published warehouse is the file the last build published (size and modification
      time as :data:`STAMP_FILE` recorded them, no write-ahead log beside it), with the
      documentation page beside it, built
      with this project fingerprint (:func:`project_fingerprint`) and schema environment;
    * no submission set aside by a containment search (their schema is in the file), and every
      submission in the ledger ``int_submissions_judged``: the ledger leaves out the ones an
      incremental build judges again, those failing a date-dependent rule
      (``date_dependent_rules()``: the reference date could change their verdict) and those set
      aside (rule ``STR-BUILD``). A verdict in the ledger is kept by incremental builds
      whatever the reference date;
    * the raw store holds what the published raw tables hold: the same submissions (ids,
      sha256, status, every column), the same withdrawals and other whole tables, the same
      columns, and no row of a per-submission table (cells, sheets) for a submission the
      published warehouse lacks. Then the incremental build's raw tables would equal the
      published ones (:func:`_bring_raw_up_to`), ``raw.label_resolutions`` and ``spec_*``
      would be rewritten from the same specs and code (both in the fingerprint), no key would
      be touched and no submission judged.

    Call it holding the build lock and the store lock (a load could change the raw store)."""
    from migstat.containment import SIDE_SCHEMA
    from migstat.dbt_docs import docs_path

    published = home.published_db
    if not published.exists():
        return "no published warehouse"
    previous = built_with(published)
    if previous is None or previous[0] != fingerprint or not previous[1]:
        return "the published warehouse was built by another project, specs or versions"
    try:
        stamp = json.loads((home.warehouse_dir / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stamp = None
    wal = published.with_name(published.name + ".wal")
    if (
        not isinstance(stamp, dict)
        or wal.exists()
        or any(stamp.get(name) != value for name, value in _file_stamp(published).items())
    ):
        return "the published warehouse is not the file the last build published"
    if stamp.get("fingerprint") != fingerprint:
        return "the published warehouse was built by another project, specs or versions"
    if stamp.get("environment") != _schema_environment():
        return f"another schema environment ({', '.join(SCHEMA_ENV)})"
    if not docs_path(published).exists():
        return "the documentation page is missing"
    ledger = next((schema for schema, table in previous[1] if table == LEDGER), None)
    if ledger is None:
        return "the published warehouse has no ledger of judged submissions"
    if not home.raw_db.exists():
        return "no raw store"
    with duckdb.connect(":memory:") as con:
        con.execute("attach ? as published (read_only)", [str(published)])
        con.execute("attach ? as landing (read_only)", [str(home.raw_db)])
        side = con.execute(
            "select count(*) from duckdb_schemas() "
            "where database_name = 'published' and schema_name = ?",
            [SIDE_SCHEMA],
        ).fetchone()
        if side is None or side[0]:
            return "submissions were set aside by a containment search"
        unjudged = con.execute(
            "select count(*) from published.raw.submissions where submission_id not in "
            f'(select submission_id from published."{ledger}"."{LEDGER}")'
        ).fetchone()
        if unjudged is None or unjudged[0]:
            count = unjudged[0] if unjudged else "?"
            return (
                f"{count} submission(s) judged again at every build (a date-dependent rule "
                "such as STR-006, or set aside)"
            )
        now, before = _raw_columns(con, "landing"), _raw_columns(con, "published")
        if now.get("submissions") != before.get("submissions"):
            return "raw table submissions differs in its columns"
        counts = con.execute(
            "select count(*) filter (where before.submission_id is null), "
            "count(*) filter (where now.submission_id is null), "
            "count(*) filter (where before.sha256 is distinct from now.sha256 "
            "or before.status is distinct from now.status) "
            "from landing.raw.submissions as now "
            "full join published.raw.submissions as before using (submission_id)"
        ).fetchone()
        if counts is None or any(counts):
            new, gone, changed = counts or ("?", "?", "?")
            return (
                f"the raw store has {new} new submission(s) ({gone} gone, {changed} changed "
                "since the published build)"
            )
        ordered = sorted(
            now, key=lambda table: (table not in ("submissions", "withdrawals"), table)
        )
        for table in ordered:
            columns = now[table]
            if table.startswith("spec_") or table in REFRESHED_RAW:
                continue
            if before.get(table) != columns:
                return f"raw table {table} differs in its columns"
            per_submission = any(column == "submission_id" for column, _ in columns)
            if per_submission and table not in ("submissions", "withdrawals"):
                extra = con.execute(
                    f'select count(*) from landing.raw."{table}" where submission_id not in '
                    "(select submission_id from published.raw.submissions)"
                ).fetchone()
            else:
                extra = con.execute(
                    "select count(*) from ("
                    f'(select * from landing.raw."{table}" '
                    f'except all select * from published.raw."{table}") union all '
                    f'(select * from published.raw."{table}" '
                    f'except all select * from landing.raw."{table}"))'
                ).fetchone()
            if extra is None or extra[0]:
                return f"the raw store's {table} changed since the published build"
    return None


def forget_unjudged(path: Path, tables: list[tuple[str, str]], families: list[str]) -> None:
    """Remove from the blocking rule models' tables the failures of submissions the ledger
    (``int_submissions_judged``) does not list: those the build judges again (a date-dependent
    failure such as STR-006, a containment set-aside). dbt's delete+insert only replaces the
    submissions a new judgment finds failures for; a submission that now passes every rule
    would otherwise keep its old failures."""
    names = {f"int_{family}_failures_detected" for family in families}
    ledger = next((schema for schema, table in tables if table == LEDGER), None)
    if ledger is None:
        return
    with duckdb.connect(str(path)) as con:
        for schema, table in tables:
            if table in names:
                con.execute(
                    f'delete from "{schema}"."{table}" where submission_id not in '
                    f'(select submission_id from "{ledger}"."{LEDGER}")'
                )


TOUCHED_KEYS = "touched_keys"
"""Table of schema ``build_meta`` listing the (key_country_code, key_source, key_year) keys an
incremental build recomputes (macros/marts_by_key.sql and the windowed warning families read it)."""


def write_touched_keys(path: Path, published: Path, tables: list[tuple[str, str]]) -> int:
    """Write ``build_meta.touched_keys`` into the build file of an incremental build: the
    (country, source, year) keys of the submissions the build judges (those the ledger
    ``int_submissions_judged`` does not list: new, set aside, or failing a date-dependent rule)
    and of those withdrawn, or no longer withdrawn, since the published warehouse. No other
    key can change what is published. The number of keys."""
    ledger = next((schema for schema, table in tables if table == LEDGER), None)
    with duckdb.connect(str(path)) as con:
        con.execute(f"create schema if not exists {META_SCHEMA}")
        con.execute("attach ? as previous (read_only)", [str(published)])
        try:
            unjudged = (
                f'submission_id not in (select submission_id from "{ledger}"."{LEDGER}")'
                if ledger is not None
                else "true"
            )
            con.execute(
                f"create or replace table {META_SCHEMA}.{TOUCHED_KEYS} as "
                "select distinct upper(country_code) as key_country_code, source as key_source, "
                "reference_year as key_year from raw.submissions "
                "where country_code is not null and source is not null "
                "and reference_year is not null and ("
                f"{unjudged} or submission_id in ("
                "(select submission_id from raw.withdrawals "
                "except select submission_id from previous.raw.withdrawals) union all "
                "(select submission_id from previous.raw.withdrawals "
                "except select submission_id from raw.withdrawals)))"
            )
        finally:
            con.execute("detach previous")
        row = con.execute(f"select count(*) from {META_SCHEMA}.{TOUCHED_KEYS}").fetchone()
    return int(row[0]) if row else 0


def record_build(path: Path, fingerprint: str, mode: str, tables: list[tuple[str, str]]) -> None:
    """Write how the build file was built (schema ``build_meta``), read by the next build."""
    with duckdb.connect(str(path)) as con:
        con.execute(f"create schema if not exists {META_SCHEMA}")
        con.execute(
            f"create or replace table {META_SCHEMA}.build as select ? as fingerprint, "
            "? as mode, current_timestamp as built_at",
            [fingerprint, mode],
        )
        con.execute(
            f"create or replace table {META_SCHEMA}.incremental_tables "
            "(schema_name varchar, table_name varchar)"
        )
        if tables:
            con.executemany(f"insert into {META_SCHEMA}.incremental_tables values (?, ?)", tables)


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
            **duckdb_env(spill_folder(home)),
        }
    )
    return argv, env


def build_vars(home: Home) -> dict[str, object]:
    """The ``--vars`` of every dbt invocation of a build (build and docs alike: dbt parses the
    project again from scratch when the vars differ from its last run's)."""
    spec_vars = dbt_vars(load_specs(overlay=home.root / "specs"))
    reference = os.environ.get(REFERENCE_DATE_ENV)
    if reference:
        try:
            spec_vars["migstat_reference_date"] = date.fromisoformat(reference).isoformat()
        except ValueError as error:
            message = f"{REFERENCE_DATE_ENV}={reference!r}: not a YYYY-MM-DD date"
            raise MigstatError(message) from error
    return spec_vars


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


def published_keys(path: Path) -> dict[Key, int]:
    """(country, source, period) -> submission id of what a warehouse file publishes."""
    if not path.exists():
        return {}
    try:
        with connect_read_only(path) as con:
            rows = con.execute(
                "select country_code, source, period, submission_id "
                "from marts.quality_submissions where is_published"
            ).fetchall()
    except duckdb.Error:
        return {}
    return {(row[0], row[1], row[2]): row[3] for row in rows}


def _raw_keys(path: Path) -> tuple[set[Key], set[int]]:
    """Keys a raw snapshot can publish at most (loaded, not withdrawn), and withdrawn ids."""
    with connect_read_only(path) as con:
        withdrawn = {
            row[0] for row in con.execute("select submission_id from raw.withdrawals").fetchall()
        }
        rows = con.execute(
            "select distinct upper(country_code), source, period from raw.submissions "
            "where status = 'loaded' and submission_id not in "
            "(select submission_id from raw.withdrawals)"
        ).fetchall()
    return {(row[0], row[1], row[2]) for row in rows}, withdrawn


def dropped_keys(before: dict[Key, int], after: set[Key], withdrawn: set[int]) -> list[Key]:
    """Keys published before and not after, except those whose published version was withdrawn."""
    return sorted(key for key, sid in before.items() if key not in after and sid not in withdrawn)


def dbt_processes(home: Home) -> list[int]:
    """PIDs of dbt processes (of this user) building a file of this home's warehouse."""
    return processes_with_env(
        "MIGSTAT_DBT_DATABASE", str(home.warehouse_dir / "build-"), prefix=True
    )


def spill_folder(home: Home) -> Path:
    """Where DuckDB spills during this home's builds (its ``temp_directory``)."""
    return home.root / "tmp" / "duckdb"


def remove_spill(home: Home) -> int:
    """Remove DuckDB's spill files of this home's builds; the bytes they held. A DuckDB that is
    killed leaves them (tens of GB at tier L). Call it holding the build lock, with no dbt of
    this home running."""
    folder = spill_folder(home)
    size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    shutil.rmtree(folder, ignore_errors=True)
    return size


def clean_leftovers(home: Home) -> list[str]:
    """Remove what dead builds left: dbt processes, ``build-*`` files and DuckDB spill files.
    Call it holding the build lock: then no live build of this home owns any of them."""
    cleaned = []
    for pid in dbt_processes(home):
        kill_group(pid)
        cleaned.append(f"dbt process {pid}")
    spilled = remove_spill(home)
    if spilled:
        cleaned.append(f"DuckDB spill files ({spilled / 1e6:,.1f} MB)")
    for path in sorted(home.warehouse_dir.glob("build-*")):
        owner = ""
        if path.suffix == ".json":
            try:
                owner = f" (build PID {json.loads(path.read_text(encoding='utf-8'))['pid']})"
            except (OSError, ValueError, KeyError):
                owner = ""
        path.unlink(missing_ok=True)
        cleaned.append(f"{path.name}{owner}")
    return cleaned


@dataclass(frozen=True)
class NodeDone:
    """A dbt node (model, test, seed) finished: what ``migstat build`` shows as progress."""

    index: int
    total: int
    resource_type: str
    name: str
    status: str
    seconds: float


@dataclass
class DbtRun:
    exit_code: int
    failed_nodes: list[str] = field(default_factory=list)


def run_dbt(
    home: Home,
    build_path: Path,
    log_path: Path,
    on_node: Callable[[NodeDone], None] | None = None,
    *,
    full_refresh: bool = True,
) -> DbtRun:
    """``dbt build`` on ``build_path`` through dbtRunner in a child process (its own process
    group, tied to this process: :mod:`migstat.dbt_child`); ``on_node`` hears of every node as it
    finishes. dbt's console output goes to ``log_path``. The vars follow from the specs
    (:func:`migstat.wiring.dbt_vars`). ``full_refresh``: rebuild every incremental model;
    otherwise an incremental run, without the unit tests (they test the project, unchanged)."""
    spec_vars = build_vars(home)
    _, env = dbt_command(home, build_path)
    argv = [sys.executable, "-m", "migstat.dbt_child", "build", "--vars", json.dumps(spec_vars)]
    argv += ["--full-refresh"] if full_refresh else ["--exclude-resource-type", "unit_test"]
    argv += ["--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT)]
    owner = build_path.with_suffix(".json")
    read_end, write_end = os.pipe()
    env[EVENTS_FD_ENV] = str(write_end)
    run = DbtRun(exit_code=-1)
    with log_path.open("w", encoding="utf-8") as log:
        try:
            process = subprocess.Popen(
                argv,
                cwd=home.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(write_end,),
                start_new_session=True,
                preexec_fn=die_with_parent(os.getpid()),  # the CLI is single-threaded here
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        owner.write_text(
            json.dumps({"pid": os.getpid(), "dbt_pid": process.pid, "build": str(build_path)}),
            encoding="utf-8",
        )
        try:
            with (
                stop_group_on_signals(process, _interrupted),
                os.fdopen(read_end, encoding="utf-8") as events,
            ):
                for line in events:
                    _hear(json.loads(line), run, on_node)
                run.exit_code = process.wait()
                return run
        except BaseException:
            kill_group(process.pid)
            process.wait()
            raise
        finally:
            owner.unlink(missing_ok=True)
            remove_spill(home)


def render_docs(home: Home, build_path: Path) -> Path | None:
    """dbt's documentation site of a passing build (lineage, every mart and column), one static
    page that opens offline, written beside the build file. Reuses the build's manifest
    (``--no-compile``) and reads the catalogue from the build file. None when dbt cannot render
    it (see ``$MIGSTAT_HOME/dbt/docs.log``): the build publishes all the same."""
    from migstat.dbt_docs import docs_path, offline

    page = home.root / "dbt" / "target" / "static_index.html"
    page.unlink(missing_ok=True)
    argv, env = dbt_command(home, build_path, "docs", "generate", "--static", "--no-compile")
    argv += ["--vars", json.dumps(build_vars(home))]
    with (home.root / "dbt" / "docs.log").open("w", encoding="utf-8") as log:
        done = subprocess.run(
            argv,
            cwd=home.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
            preexec_fn=die_with_parent(os.getpid()),
        )
    if done.returncode != 0 or not page.exists():
        return None
    target = docs_path(build_path)
    target.write_text(offline(page.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def _hear(event: dict[str, Any], run: DbtRun, on_node: Callable[[NodeDone], None] | None) -> None:
    if event.get("kind") == "done":
        run.failed_nodes = [str(node) for node in event.get("failed", [])]
    elif event.get("kind") == "node" and on_node is not None:
        on_node(
            NodeDone(
                index=int(event["index"]),
                total=int(event["total"]),
                resource_type=str(event["resource_type"]),
                name=str(event["name"]),
                status=str(event["status"]),
                seconds=float(event["seconds"]),
            )
        )


def retry_in_full(
    home: Home,
    build_path: Path,
    log_path: Path,
    on_node: Callable[[NodeDone], None] | None,
    failed: DbtRun,
    tell: Callable[[str], None],
) -> tuple[DbtRun, bool]:
    """After a failed incremental run, the same build file rebuilt in full: ``(run, False)``.

    An incremental run keeps the published warehouse's rows of every untouched key, so a
    published table changed or damaged outside `migstat build` fails it although no submission
    is at fault; the search for culprits would then blame innocent ones (it probes with full
    rebuilds, which pass). Only a full rebuild that fails too is the submissions' or the
    project's. The failed incremental run's dbt output is kept beside ``log_path``."""
    nodes = ", ".join(node.split(":")[0] for node in failed.failed_nodes) or "dbt build"
    kept = log_path.with_name(log_path.stem + "-incremental" + log_path.suffix)
    if log_path.exists():
        os.replace(log_path, kept)
    tell(
        f"the incremental build failed ({nodes}; dbt output in {kept}); "
        "building again in full (every model rebuilt from the raw tables) before looking "
        "for a submission at fault"
    )
    run = run_dbt(home, build_path, log_path, on_node, full_refresh=True)
    if run.exit_code == 0:
        tell(
            "the full build passes: the published warehouse's incremental tables did not "
            "agree with its submissions (changed outside `migstat build`?); the full build "
            "replaces them"
        )
    return run, False


def build(
    home: Home,
    *,
    quiet: bool = False,
    allow_unpublish: bool = False,
    say: Callable[[str], None] | None = None,
    on_node: Callable[[NodeDone], None] | None = None,
    full_refresh: bool = False,
) -> BuildResult:
    """Run one build for ``home``; publish it when it passes. dbt's output goes to
    ``$MIGSTAT_HOME/dbt/build.log``. ``say`` gets the waiting and cleaning messages. The build
    is incremental when the published warehouse was built by the same project and specs, unless
    ``full_refresh``."""
    home.ensure()
    tell = say or (lambda text: print(text, file=sys.stderr))
    missing = missing_declarations(load_specs(overlay=home.root / "specs"))
    if missing:
        raise MigstatError("the dbt project lacks what the specs need:\n  " + "\n  ".join(missing))
    with writer_lock(home, "build", "build", say=tell):
        started = time.monotonic()
        cleaned = clean_leftovers(home)
        if cleaned:
            tell(f"removed leftovers of dead builds: {', '.join(cleaned)}")
        build_path = home.warehouse_dir / BUILD_FILE
        fingerprint = project_fingerprint(home, dbt_vars(load_specs(overlay=home.root / "specs")))
        if not full_refresh:
            with writer_lock(home, "store", "build (unchanged?)", say=tell):
                try:
                    reason = unchanged_since_published(home, fingerprint)
                except duckdb.Error as error:
                    reason = f"cannot compare with the published warehouse: {error}"
            if reason is None:
                tell(
                    "build: nothing changed since the published build (same project, raw store "
                    "and verdicts): the published warehouse is kept, dbt not run"
                )
                return BuildResult(
                    passed=True,
                    build_path=build_path,
                    published_path=home.published_db,
                    seconds=time.monotonic() - started,
                    dbt_exit_code=0,
                    verdicts=read_verdicts(home.published_db),
                    failed_nodes=[],
                    log_path=None,
                    cleaned=cleaned,
                    mode="unchanged",
                )
            tell(f"build needed: {reason}")
        previous = None if full_refresh else built_with(home.published_db)
        incremental = previous is not None and previous[0] == fingerprint and bool(previous[1])
        # An incremental build starts from a file copy of the published warehouse (the build
        # lock keeps it as it is) and adds the raw store's new submissions to it, read straight
        # from the raw store under the store lock (no copy of the raw store). A full build, or
        # one whose new submissions cannot simply be added, starts from a copy of the raw store
        # taken under the store lock. Either way the build sees all of a load or none of it.
        no_store = MigstatError(
            f"no raw store at {home.raw_db}: run `migstat load` first"
            " (or `migstat restore` if it was lost)"
        )
        if not home.raw_db.exists():
            raise no_store
        if incremental:
            shutil.copy2(home.published_db, build_path)
        touched = 0
        try:
            started_from_published = False
            added: list[int] | None = None
            with writer_lock(home, "store", "build (snapshot)", say=tell):
                if not home.raw_db.exists():
                    build_path.unlink(missing_ok=True)
                    raise no_store
                if incremental:
                    added = start_from_published(home.raw_db, build_path)
                    started_from_published = added is not None
                if not started_from_published:
                    shutil.copy2(home.raw_db, build_path)
                    wal = home.raw_db.with_name(home.raw_db.name + ".wal")
                    if wal.exists():
                        shutil.copy2(wal, build_path.with_name(build_path.name + ".wal"))
            refresh_specs(build_path, home.root / "specs", added)
            before = published_keys(home.published_db)
            possible, withdrawn = _raw_keys(build_path)
            if incremental and previous is not None and not started_from_published:
                incremental = carry_over(home.published_db, build_path, previous[1])
            if incremental and previous is not None:
                blocking = build_vars(home)["rule_families_blocking"]
                forget_unjudged(build_path, previous[1], cast("list[str]", blocking))
                touched = write_touched_keys(build_path, home.published_db, previous[1])
        except duckdb.Error as error:
            build_path.unlink(missing_ok=True)
            raise MigstatError(f"cannot prepare the build from {home.raw_db}: {error}") from error
        prepared = time.monotonic() - started
        lost = dropped_keys(before, possible, withdrawn)
        if lost and not allow_unpublish:
            build_path.unlink(missing_ok=True)
            raise UnpublishRefused(lost)
        log_path = home.root / "dbt" / "build.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        set_aside: list[int] = []
        searched_in_vain = False
        try:
            tell(
                (
                    f"build: incremental (new submissions judged, marts merged by key: {touched} "
                    "(country, source, year) key(s) touched)"
                    if incremental
                    else "build: full (every model rebuilt, every submission judged)"
                )
                + f"; build file prepared in {prepared:.1f} s"
            )
            dbt = run_dbt(home, build_path, log_path, on_node, full_refresh=not incremental)
            if dbt.exit_code != 0 and incremental:
                dbt, incremental = retry_in_full(home, build_path, log_path, on_node, dbt, tell)
            if dbt.exit_code != 0:
                first = dbt
                search_log = log_path.with_name("build-search.log")
                # The search probes rebuild everything: each probe starts from the raw tables.
                found = find_culprits(
                    build_path,
                    lambda: run_dbt(home, build_path, search_log, full_refresh=True).exit_code == 0,
                    lambda: first.failed_nodes,
                    tell,
                )
                if found is not None:
                    set_aside, dbt = found, DbtRun(exit_code=0)
                else:
                    searched_in_vain = True
        except BuildInterrupted:
            build_path.unlink(missing_ok=True)
            build_path.with_name(build_path.name + ".wal").unlink(missing_ok=True)
            raise
        exit_code = dbt.exit_code
        if not quiet:
            print(f"dbt build: exit {exit_code}, output in {log_path}")
        passed = exit_code == 0
        failed = [] if passed else dbt.failed_nodes
        verdicts: list[Verdict] = []
        try:
            # After a search in vain, the build file's marts are those of its last probe (with
            # submissions set aside), not verdicts: none are reported.
            verdicts = [] if searched_in_vain else read_verdicts(build_path)
        except duckdb.Error:
            verdicts = []
        refused: list[Key] = []
        if passed and not allow_unpublish:
            refused = dropped_keys(before, set(published_keys(build_path)), withdrawn)
        published = None
        if passed and not refused:
            from migstat.dbt_docs import docs_path

            manifest = home.root / "dbt" / "target" / "manifest.json"
            mode = "incremental" if incremental and not set_aside else "full"
            record_build(build_path, fingerprint, mode, incremental_tables(manifest))
            # The docs page describes the project: an incremental build (same project) keeps
            # the published one.
            keep_docs = incremental and docs_path(home.published_db).exists()
            docs = None if keep_docs else render_docs(home, build_path)
            (home.warehouse_dir / STAMP_FILE).unlink(missing_ok=True)
            os.replace(build_path, home.published_db)
            published = home.published_db
            if docs is not None:
                os.replace(docs, docs_path(published))
            write_stamp(home, fingerprint)
        return BuildResult(
            passed=passed and not refused,
            build_path=build_path,
            published_path=published,
            seconds=time.monotonic() - started,
            dbt_exit_code=exit_code,
            verdicts=verdicts,
            failed_nodes=failed,
            log_path=log_path,
            refused_keys=refused,
            cleaned=cleaned,
            set_aside=set_aside,
            mode="incremental" if incremental and not set_aside else "full",
        )
