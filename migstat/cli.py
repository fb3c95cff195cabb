"""The ``migstat`` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from migstat.cli_report import echo_report
from migstat.errors import MigstatError
from migstat.home import Home

if TYPE_CHECKING:
    from loaders.load import LoadOutcome
    from migstat.build import NodeDone


class ExitCode(IntEnum):
    """What a ``migstat`` exit status means (README, "Exit codes")."""

    OK = 0
    DATA = 1
    """Data problems: a file rejected, a submission quarantined (``build --strict``), a rule
    that would fail (``layout check``), archive and store that disagree (``verify``)."""
    USAGE = 2
    """A wrong command line (click's own code): unknown option, missing or invalid argument."""
    ERROR = 3
    """The command could not do its job: a domain or environment error (a spec, a lock, a
    missing store, a failed or refused build, Superset not starting) or an internal error."""


EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 data problems (a file rejected, a submission quarantined with "
    "--strict); 2 usage; 3 the command could not do its job (domain or environment error)."
)

app = typer.Typer(
    help="migstat: standardized migration workbooks -> DuckDB warehouse -> checks -> dashboards "
    "and products.\n\nEvery command works in one home: --home, or MIGSTAT_HOME (default: ./home "
    "in the checkout, ~/.local/share/migstat/home for an installed package). Commands that write "
    "a home (load, build, withdraw, restore) run one at a time and wait for each other; readers "
    "(status, report, publish, superset) never wait.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class Output:
    """How much the commands say: set once by the global options."""

    verbosity: int = 0
    """-1 quiet (results and errors only), 0 normal, 1 verbose (-v), 2 more (-vv)."""
    debug: bool = False
    """Tracebacks for errors (--debug)."""

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0


OUTPUT = Output()


def make_console(*, stderr: bool = False) -> Console:
    """A console for tables: wide enough not to fold file names when output goes to a log."""
    quiet = OUTPUT.quiet and not stderr
    console = Console(stderr=stderr, quiet=quiet)
    return console if console.is_terminal else Console(stderr=stderr, width=160, quiet=quiet)


def fail(error: MigstatError) -> typer.Exit:
    """Render a domain error once, on stderr (with its traceback under --debug), and return the
    exit to raise (code 3)."""
    if OUTPUT.debug:
        traceback.print_exception(error, file=sys.stderr)
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=ExitCode.ERROR)


def usage_error(message: str) -> typer.Exit:
    """A wrong command line that click cannot see by itself (exit code 2)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=ExitCode.USAGE)


def say_on_stderr(text: str) -> None:
    if not OUTPUT.quiet:
        typer.secho(text, fg=typer.colors.YELLOW, err=True)


def info(text: str) -> None:
    """An informational line on stdout: silent under -q."""
    if not OUTPUT.quiet:
        typer.echo(text)


def progress(text: str) -> None:
    """A progress line on stderr (stdout stays for results and --json): silent under -q."""
    if not OUTPUT.quiet:
        typer.echo(text, err=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"migstat {version('migstat')}")
        raise typer.Exit()


@app.callback()
def main(
    home: Path | None = typer.Option(
        None,
        "--home",
        envvar="MIGSTAT_HOME",
        metavar="DIR",
        help="The home every command works in: inbox, archive, warehouse, site, Superset.",
        show_envvar=True,
    ),
    lock_timeout: float | None = typer.Option(
        None,
        "--lock-timeout",
        metavar="SECONDS",
        help="How long a writing command waits for another one of the same home "
        "(default: MIGSTAT_LOCK_TIMEOUT or 600).",
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Say only results and errors (no progress)."
    ),
    verbose: int = typer.Option(
        0,
        "--verbose",
        "-v",
        count=True,
        show_default=False,
        metavar="",
        help="Say more (-v: build shows every dbt test too; -vv: debug logging).",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error."),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Print migstat's version and exit.",
    ),
) -> None:
    """Global options: they come before the command (`migstat -q --home DIR build`)."""
    from migstat.lock import TIMEOUT_ENV

    if home is not None and str(home):
        # The environment carries the home to every child process (dbt, readers, Superset).
        os.environ["MIGSTAT_HOME"] = str(home.expanduser().resolve())
    if lock_timeout is not None:
        os.environ[TIMEOUT_ENV] = str(lock_timeout)
    OUTPUT.verbosity = -1 if quiet else verbose
    OUTPUT.debug = debug
    level = logging.DEBUG if debug or verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def entry() -> None:
    """The ``migstat`` program: domain errors that escape a command are rendered once (exit 3);
    an unexpected error says how to see its traceback (--debug), and exits 3 too."""
    try:
        app(prog_name="migstat")
    except MigstatError as error:
        raise SystemExit(fail(error).exit_code) from None
    except Exception as error:
        if OUTPUT.debug:
            raise
        typer.secho(
            f"error: internal error ({type(error).__name__}: {error}); "
            "run again with --debug for the traceback",
            fg=typer.colors.RED,
            err=True,
        )
        raise SystemExit(ExitCode.ERROR) from None


# Subcommands are registered below, one line per room.


def print_user_specs(specs: object) -> None:
    """Say which of the user's own spec files (``$MIGSTAT_HOME/specs``) are in use."""
    from migstat.specs import Specs

    assert isinstance(specs, Specs)
    for path in specs.user_files():
        progress(f"using {path}")


SKIPPED_LISTED = 20
"""Up to this many skipped (already received) files, ``migstat load`` lists each one."""


@app.command()
def load(
    paths: list[Path] = typer.Argument(
        None, help="Workbooks (.xlsx, .xls, .ods) or folders of them."
    ),
    layout: str | None = typer.Option(
        None, help="Read every file with this layout id instead of detecting it."
    ),
    retry: bool = typer.Option(
        False,
        "--retry",
        help="Read again every file whose latest verdict is a rejection (e.g. after adding the "
        "layout it lacked under $MIGSTAT_HOME/specs/layouts); the rejection stays in the history.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print each file's outcome as JSON."),
) -> None:
    """Load workbooks into the raw store; rejected files are reported with file, sheet and cell.

    A file already received (same sha256) is skipped. Exit code 1 when any file was rejected.
    Layouts, countries and aliases under $MIGSTAT_HOME/specs overlay the shipped ones.
    Every received file (loaded, rejected or skipped) is kept read-only in MIGSTAT_HOME/archive
    and listed in MIGSTAT_HOME/history.jsonl. Waits while another command writes the raw store.
    """
    from loaders.load import load_paths, retry_rejected, summary_table
    from migstat.history import Keeper, store_lost
    from migstat.lock import writer_lock
    from migstat.specs import load_specs

    console = make_console(stderr=as_json)
    home = Home.from_env().ensure()
    if not paths and not retry:
        raise usage_error("give workbooks or folders to load, or --retry")
    try:
        specs = load_specs()
        print_user_specs(specs)
        with writer_lock(home, "store", "load", say=say_on_stderr):
            if store_lost(home):
                raise MigstatError(
                    f"the raw store {home.raw_db} is missing but the history lists received "
                    "files: run `migstat restore` first (it rebuilds the store from the archive)"
                )
            keeper = Keeper(home)
            outcomes = (
                retry_rejected(home.raw_db, specs, layout_id=layout, keeper=keeper) if retry else []
            )
            if paths:
                outcomes += load_paths(
                    paths,
                    home.raw_db,
                    specs,
                    layout_id=layout,
                    console=console,
                    keeper=keeper,
                )
    except MigstatError as error:
        raise fail(error) from error
    # Many files already received (a whole inbox checked again): one line for them, not a table
    # row each (drawing a 1,000-row table costs more than checking the files).
    skipped = [outcome for outcome in outcomes if outcome.status == "skipped"]
    one_line = len(skipped) > SKIPPED_LISTED
    if as_json:
        typer.echo(json.dumps([_outcome_json(o) for o in outcomes], ensure_ascii=False, indent=2))
    elif not one_line:
        console.print(summary_table(outcomes))
    elif len(skipped) < len(outcomes):
        console.print(summary_table([o for o in outcomes if o.status != "skipped"]))
    if one_line and not as_json:
        info(
            f"skipped {len(skipped)} files already received with the same content "
            "(`migstat load --json` lists each)"
        )
    for outcome in outcomes:
        if outcome.status == "rejected":
            typer.secho(f"rejected: {outcome.message}", fg=typer.colors.RED, err=True)
        elif outcome.status == "skipped" and not as_json and not one_line:
            info(f"skipped: {outcome.file.name}: {outcome.message}")
        elif outcome.status == "ignored":
            typer.secho(f"ignored: {outcome.file}: {outcome.message}", fg="yellow", err=True)
    if any(outcome.status == "rejected" for outcome in outcomes):
        raise typer.Exit(code=ExitCode.DATA)


def _outcome_json(outcome: LoadOutcome) -> dict[str, object]:
    """One loaded, skipped or rejected file, for ``load --json``."""
    return {
        "file": str(outcome.file),
        "status": outcome.status,
        "id": outcome.submission_id,
        "country": outcome.country,
        "source": outcome.source,
        "period": outcome.period,
        "cells": outcome.cells,
        "message": outcome.message,
    }


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON for machines.")) -> None:
    """Show the published warehouse and every received submission with its status."""
    from migstat.status import home_status

    report = home_status(Home.from_env())
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    console = make_console()
    console.print(
        f"warehouse: {report['warehouse']}"
        + ("" if report["warehouse_exists"] else " (not built yet)")
    )
    console.print(f"raw store: {report['raw_store']}")
    if report["store_note"]:
        console.print(f"[yellow]{report['store_note']}[/]")
    table = Table(title=f"{len(report['submissions'])} submissions")
    for header in ("id", "file", "country", "source", "period", "status", "message"):
        table.add_column(header, overflow="fold")
    for item in report["submissions"]:
        table.add_row(
            str(item["id"]),
            item["file"],
            item["country"] or "",
            item["source"] or "",
            item["period"] or "",
            item["status"],
            _status_message(item),
        )
    console.print(table)


def _status_message(item: dict) -> str:
    withdrawn = item.get("withdrawn")
    if withdrawn:
        return f"withdrawn {str(withdrawn['at'])[:16]} by {withdrawn['by']}: {withdrawn['reason']}"
    return item["message"] or ""


@app.command()
def withdraw(
    submission_id: int = typer.Argument(..., help="Submission id (see `migstat status`)."),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the history)."),
    by: str | None = typer.Option(None, "--by", help="Who withdraws it (default: your login)."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Take a submission out of what is published, from the next build on.

    The file, its rows and its verdict stay (nothing is deleted); its status becomes
    `withdrawn`, it never supersedes anything, and the next build publishes the previous
    accepted version of the same country, source and period, if any. Who, when and why are
    kept in MIGSTAT_HOME/history.jsonl and raw.withdrawals.
    """
    import getpass

    from migstat.lifecycle import withdraw as run_withdraw
    from migstat.lock import writer_lock

    home = Home.from_env().ensure()
    try:
        with writer_lock(home, "store", "withdraw", say=say_on_stderr):
            event = run_withdraw(home, submission_id, reason, by or getpass.getuser())
    except MigstatError as error:
        raise fail(error) from error
    if as_json:
        typer.echo(json.dumps(event, ensure_ascii=False, indent=2, default=str))
        return
    typer.echo(
        f"withdrew submission {submission_id} ({event['file_name']}) by {event['by']}: "
        f"{event['reason']}; run `migstat build` to republish without it"
    )


@app.command()
def restore(
    force: bool = typer.Option(
        False, "--force", help="Rebuild even when the raw store is there and readable."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Rebuild the raw store (landing.duckdb) from the archive and the history.

    Replays every received file from MIGSTAT_HOME/archive in submission order under the id,
    name and received time it had, then every withdrawal; reports any file whose verdict
    changed and any submission whose file was never archived. A damaged store is kept aside
    as landing.replaced-<time>.duckdb. Run `migstat build` afterwards.
    """
    from migstat.lifecycle import restore as run_restore
    from migstat.lock import writer_lock

    home = Home.from_env().ensure()
    try:
        with writer_lock(home, "store", "restore", say=say_on_stderr):
            result = run_restore(home, force=force)
    except MigstatError as error:
        raise fail(error) from error
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "restored": result.restored,
                    "withdrawals": result.withdrawals,
                    "path": str(result.path),
                    "set_aside": str(result.set_aside) if result.set_aside else None,
                    "changed": result.changed,
                    "lost": result.lost,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        if result.lost:
            raise typer.Exit(code=ExitCode.DATA)
        return
    typer.echo(
        f"restored {result.restored} submissions and {result.withdrawals} withdrawals "
        f"into {result.path}"
    )
    if result.set_aside:
        typer.echo(f"the previous raw store is kept at {result.set_aside}")
    for line in result.changed:
        typer.secho(f"verdict changed: {line}", fg=typer.colors.YELLOW, err=True)
    for line in result.lost:
        typer.secho(f"not in the archive: {line}", fg=typer.colors.RED, err=True)
    if result.lost:
        raise typer.Exit(code=ExitCode.DATA)


@app.command()
def verify(
    as_json: bool = typer.Option(False, "--json", help="Print the problems as a JSON list."),
) -> None:
    """Check that the archive, the history and the raw store agree.

    Every archived file is a submission, every submission is in the history, every archived copy
    has its sha256. Exit code 1 when they disagree (each problem is printed).
    """
    from migstat.lifecycle import verify as run_verify

    problems = run_verify(Home.from_env())
    if as_json:
        typer.echo(json.dumps(problems, ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            typer.secho(problem, fg=typer.colors.RED, err=True)
    if problems:
        raise typer.Exit(code=ExitCode.DATA)
    if not as_json:
        typer.echo("archive, history and raw store agree")


@app.command()
def run(
    superset: bool = typer.Option(True, help="Start Superset at the end."),
    fresh_samples: bool = typer.Option(False, help="Regenerate the sample workbooks."),
    seed: int = typer.Option(2026, help="Seed of the sample workbooks."),
    portal: bool = typer.Option(True, help="Start the submission portal at the end."),
) -> None:
    """The main job, end to end on the sample workbooks.

    Sample workbooks -> load -> build and check -> products -> dashboards -> submission portal.
    """
    from migstat.pipeline import run as run_pipeline

    try:
        run_pipeline(superset=superset, fresh_samples=fresh_samples, seed=seed, portal=portal)
    except MigstatError as error:
        raise fail(error) from error


# --- portal, users: the submission portal (migstat/portal/cli.py) ---
from migstat.portal.cli import portal_app, users_app  # noqa: E402

app.add_typer(portal_app, name="portal")
app.add_typer(users_app, name="users")

# --- codes: label -> code resolution over the code-list seeds (migstat/codes.py) ---
codes_app = typer.Typer(
    help="Code lists: resolve labels as offices write them to codes, list a code list.",
    no_args_is_help=True,
)
app.add_typer(codes_app, name="codes")

layout_app = typer.Typer(
    help="The layout workbench: preview how a published table will be read, draft a layout.",
    no_args_is_help=True,
)
app.add_typer(layout_app, name="layout")


@layout_app.command("check")
def layout_check(
    file: Path = typer.Argument(..., help="A workbook (.xlsx, .xls, .ods)."),
    layout: str | None = typer.Option(
        None, help="A layout id or a layout .yml file (default: the layout that recognises it)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """Show how a workbook will be read, loading nothing.

    Every row and column (kind, place in the table's hierarchy), each label's code or ? with the
    closest codes, the period and flags, and the rules that would fail with their cells. Exit
    code 1 when a rule would fail.
    """
    from migstat.specs import load_specs
    from migstat.workbench import check_file, render_check

    try:
        result = check_file(file, load_specs(), layout)
    except MigstatError as error:
        raise fail(error) from error
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2, default=str))
    else:
        render_check(result, make_console())
    if any(finding.rule.startswith(("ADD", "VAL-00", "COD")) for finding in result.findings):
        raise typer.Exit(code=ExitCode.DATA)


@layout_app.command("draft")
def layout_draft(
    file: Path = typer.Argument(..., help="A workbook (.xlsx, .xls, .ods)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the layout here."),
    layout_id: str | None = typer.Option(None, "--id", help="The new layout's id."),
) -> None:
    """Propose a starting layout from a published table's shape.

    Header row, label column, first data row, title and period, regions, stacked blocks. Check
    it with `migstat layout check`.
    """
    from migstat.specs import load_specs
    from migstat.workbench import draft_layout

    try:
        text = draft_layout(file, load_specs(), layout_id)
    except MigstatError as error:
        raise fail(error) from error
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}; preview it: migstat layout check {file} --layout {output}")


@codes_app.command("resolve")
def codes_resolve(
    labels: list[str] = typer.Argument(..., help="Labels as written, e.g. 'Dominicana, Rep.'."),
    codelist: str = typer.Option("countries", help="Code list to resolve in (see `codes list`)."),
    country: str | None = typer.Option(
        None, "--country", "-c", help="Reporting country (ISO3) whose ports to resolve in."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON list of objects."),
) -> None:
    """Resolve labels to codes as `migstat build` does.

    Prints the code, the method (alias, fuzzy, ambiguous, none), the fuzzy score and the three
    closest codes. Uses the user's code files under $MIGSTAT_HOME/specs/ (codes/aliases.yml,
    countries/<ISO3>.yml) too.
    """
    import json

    from rich.console import Console
    from rich.table import Table

    from migstat.codes import user_resolver

    resolver = user_resolver()
    results: list[dict[str, Any]] = []
    for label in labels:
        match = resolver.match(codelist, label, scope=country)
        member = resolver.member(codelist, match.code) if match.code else None
        results.append(
            {
                "label": label,
                "code": match.code,
                "method": match.method,
                "score": None if match.score is None else round(match.score, 1),
                "name_es": member.name_es if member else None,
                "name_en": member.name_en if member else None,
                "suggestions": [
                    {"code": code, "name_es": name, "score": round(score, 1)}
                    for code, name, score in match.suggestions
                ],
            }
        )
    if json_output:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{codelist}" + (f" ({country})" if country else ""))
    for column in ("label", "code", "name", "method", "score", "suggestions"):
        table.add_column(column, overflow="fold")
    for item in results:
        table.add_row(
            item["label"],
            item["code"] or "?",
            item["name_es"] or "",
            item["method"],
            "" if item["score"] is None else f"{item['score']:.0f}",
            "; ".join(f"{s['code']} {s['name_es']} {s['score']:.0f}" for s in item["suggestions"]),
        )
    Console(width=160).print(table)


@codes_app.command("list")
def codes_list(
    codelist: str = typer.Argument(..., help="A code list, e.g. sex, age_groups, countries."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON list of objects."),
) -> None:
    """Print CODE<TAB>Spanish name<TAB>English name for every member of a code list."""
    import json

    from migstat.codes import default_resolver

    resolver = default_resolver()
    members = resolver.list(codelist)
    if not members:
        known = ", ".join(resolver.codelists())
        raise usage_error(f"unknown code list {codelist!r} (known: {known})")
    if json_output:
        rows = [{"code": m.code, "name_es": m.name_es, "name_en": m.name_en} for m in members]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for member in members:
        typer.echo(f"{member.code}\t{member.name_es}\t{member.name_en}")


@app.command()
def template(
    source: str = typer.Option(..., "--source", "-s", help="Source id, e.g. entries_exits."),
    country: str = typer.Option(..., "--country", "-c", help="Reporting country, ISO3 (MEX)."),
    year: int = typer.Option(..., "--year", "-y", help="Reference year of the submission."),
    output: Path = typer.Option(..., "--output", "-o", help="The .xlsx file to write."),
) -> None:
    """Write the blank standardized workbook of a source for one country and year.

    The office fills it in (totals typed, "-" for zero, blank for not available) and sends it back.
    """
    from migstat.workbooks.template import write_template

    try:
        path = write_template(source, country, year, output)
    except MigstatError as error:
        raise fail(error) from error
    typer.echo(f"wrote {path}")


@app.command()
def sample(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Folder to write into (default: MIGSTAT_HOME/inbox)."
    ),
    seed: int = typer.Option(0, help="Random seed: the same seed writes the same workbooks."),
    years: str = typer.Option("2022-2024", help="Reference years: 2022-2024, 2023 or 2021,2023."),
) -> None:
    """Write realistic filled sample submissions for every country and source.

    Clean files are internally consistent; a documented handful are deliberately flawed (see
    migstat.workbooks.samples.FLAWS), plus a corrected resubmission and one file in Mexico's own
    published layout.
    """
    import time

    from rich.progress import track

    from migstat.specs import load_specs
    from migstat.workbooks.samples import SampleMaker, make_file, parse_years, planned_files

    try:
        year_list = parse_years(years)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--years") from error
    out_dir = output or Home.from_env().ensure().inbox
    started = time.perf_counter()
    try:
        maker = SampleMaker(seed, load_specs())
        names = planned_files(maker.specs, year_list)
        for name in track(
            names, description="Writing samples", transient=True, disable=OUTPUT.quiet
        ):
            make_file(maker, name, out_dir, max(year_list))
    except MigstatError as error:
        raise fail(error) from error
    elapsed = time.perf_counter() - started
    typer.echo(f"wrote {len(names)} workbooks to {out_dir} in {elapsed:.1f} s")


# ---------------------------------------------------------------------- spark
spark_app = typer.Typer(
    help="The same dbt project on Spark (dbt-spark session mode, .venv-spark).",
    no_args_is_help=True,
)
app.add_typer(spark_app, name="spark")


@spark_app.command("export")
def spark_export(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Folder for the Parquet files (default: HOME/spark/raw)."
    ),
) -> None:
    """Write the published warehouse's raw store as Parquet, one folder per table."""
    from migstat.spark import export_raw

    home = Home.from_env()
    out_dir = output or home.root / "spark" / "raw"
    tables = export_raw(home.published_db, out_dir)
    typer.echo(f"wrote {len(tables)} raw tables to {out_dir}")


@spark_app.command("build")
def spark_build(
    compare: bool = typer.Option(
        True, help="Compare every mart row by row with the published DuckDB warehouse."
    ),
) -> None:
    """Export the raw store, build every seed and model on Spark (HOME/spark), compare marts."""
    from migstat.spark import TIMEOUT_ENV, compare_marts, export_raw, run_spark_dbt

    home = Home.from_env()
    spark_dir = home.root / "spark"
    export_raw(home.published_db, spark_dir / "raw")
    run = run_spark_dbt(spark_dir / "raw", spark_dir)
    ended = f"stopped after its timeout ({TIMEOUT_ENV})" if run.timed_out else "exit"
    typer.echo(
        f"dbt on Spark: {ended} {run.exit_code} in {run.seconds:.1f} s, output in {run.log_path}"
    )
    if run.exit_code != 0:
        raise typer.Exit(code=1)
    if compare:
        differences = compare_marts(home.published_db, spark_dir)
        for table, difference in differences.items():
            typer.echo(f"{table}: {difference}")
        if differences:
            raise typer.Exit(code=1)
        typer.echo("every mart has the same rows on Spark and DuckDB")


# ---------------------------------------------------------------------- superset
superset_app = typer.Typer(
    help="Apache Superset over the published warehouse: dashboards as code (superset/dashboards/).",
    no_args_is_help=True,
)
app.add_typer(superset_app, name="superset")


@superset_app.command("install")
def superset_install(
    force: bool = typer.Option(False, help="Reinstall even when the pins did not change."),
) -> None:
    """Create Superset's own environment (.venv-superset) from its pinned requirements.

    Idempotent: does nothing until a pin in migstat/superset/requirements.txt or
    constraints.txt changes. Says each step as it starts.
    """
    from migstat.superset.install import install

    try:
        install(info, force=force)
    except MigstatError as error:
        raise fail(error) from error


@superset_app.command("up")
def superset_up(
    port: int = typer.Option(8088, help="Port to serve on."),
    host: str = typer.Option(
        "127.0.0.1",
        help="Address to bind. Only 127.0.0.1 (this machine) unless you say otherwise.",
    ),
    sql_lab: bool = typer.Option(
        False,
        "--sql-lab/--no-sql-lab",
        envvar="MIGSTAT_SUPERSET_SQL_LAB",
        help="Open SQL Lab on the warehouse database (off by default; queries stay read-only "
        "and cannot read or write files either way).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the URL and what was done as JSON."),
) -> None:
    """Provision Superset (metadata, admin, init, dashboards) and serve it in the background.

    Returns once /health answers. Running it again is safe: a changed superset/dashboards/ YAML
    is re-imported, a running server is kept. The admin password is SUPERSET_ADMIN_PASSWORD when
    set (12 characters or more), otherwise generated once and kept in
    MIGSTAT_HOME/superset/admin_password (mode 0600), next to the generated secret key.
    """
    from migstat.superset.control import login_help, up

    home = Home.from_env()
    try:
        result = up(home, port=port, host=host, say=progress if as_json else info, sql_lab=sql_lab)
    except MigstatError as error:
        raise fail(error) from error
    if as_json:
        typer.echo(
            json.dumps(
                {"url": result.url, "started": result.started, "provisioned": result.provisioned}
            )
        )
        return
    typer.echo(login_help(home, result.url))


@superset_app.command("down")
def superset_down() -> None:
    """Stop this home's Superset server."""
    from migstat.superset.control import stop

    stopped = stop(Home.from_env())
    info("Superset stopped" if stopped else "Superset was not running")


@superset_app.command("status")
def superset_status(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Whether this home's Superset is installed, provisioned and serving."""
    from migstat.superset.control import status

    echo_report(status(Home.from_env()), as_json=as_json)


# --- build, report, rules: dbt models and consistency checks (migstat/build.py, report.py) ---
@app.command()
def build(
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 when any submission is quarantined (for CI of data)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the verdicts as JSON."),
    allow_unpublish: bool = typer.Option(
        False,
        "--allow-unpublish",
        help="Publish even if country/source/period keys published now would disappear.",
    ),
    full_refresh: bool = typer.Option(
        False, "--full-refresh", help="Rebuild every model and judge every submission again."
    ),
) -> None:
    """Build the warehouse with dbt and publish it if every model and error test passed.

    Copies the raw store to a new build file, runs `dbt build` on it (one line per model on
    stderr as it finishes; tests too with -v) and swaps it atomically into
    warehouse/migstat.duckdb (dashboards keep reading the old one meanwhile). Prints each
    submission's verdict: accepted, accepted with warnings, quarantined (rule ids and cells),
    rejected, superseded, withdrawn.

    Incremental when the published warehouse was built by the same project and specs: only new
    submissions are judged and the marts are merged by key; --full-refresh rebuilds everything.

    A build that would drop a (country, source, period) the published warehouse has (other than
    by `migstat withdraw`) refuses to publish unless --allow-unpublish. Waits for a running load
    or build of the same home. Exit 0 when the build passed; 3 when it failed or refused (the
    published warehouse is unchanged); 1 with --strict when a submission is quarantined.
    """
    from migstat.build import UnpublishRefused
    from migstat.build import build as run_build
    from migstat.specs import load_specs

    console = make_console(stderr=as_json)
    try:
        if not as_json:
            print_user_specs(load_specs())
        result = run_build(
            Home.from_env(),
            quiet=as_json or OUTPUT.quiet,
            allow_unpublish=allow_unpublish,
            say=say_on_stderr,
            on_node=_show_node,
            full_refresh=full_refresh,
        )
    except MigstatError as error:
        raise fail(error) from error
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "passed": result.passed,
                    "mode": result.mode,
                    "seconds": round(result.seconds, 1),
                    "published": str(result.published_path) if result.published_path else None,
                    "build": str(result.build_path),
                    "failed_nodes": result.failed_nodes,
                    "set_aside": result.set_aside,
                    "refused_keys": ["/".join(key) for key in result.refused_keys],
                    "submissions": [
                        {
                            "id": v.submission_id,
                            "file": v.file_name,
                            "country": v.country_code,
                            "source": v.source,
                            "period": v.period,
                            "verdict": v.label,
                            "errors": v.error_count,
                            "warnings": v.warning_count,
                            "problems": v.problems,
                        }
                        for v in result.verdicts
                    ],
                },
                indent=2,
            )
        )
    else:
        table = Table(title=f"{len(result.verdicts)} submissions")
        for header in ("id", "file", "country", "source", "period", "verdict", "problems"):
            table.add_column(header, overflow="fold")
        colours = {"accepted": "green", "quarantined": "red", "rejected": "red"}
        for v in result.verdicts:
            colour = "yellow" if v.label == "accepted with warnings" else colours.get(v.status, "")
            table.add_row(
                str(v.submission_id),
                v.file_name,
                v.country_code or "",
                v.source or "",
                v.period or "",
                f"[{colour}]{v.label}[/]" if colour else v.label,
                "; ".join(v.problems),
            )
        console.print(table)
        if result.passed and result.mode == "unchanged":
            console.print(f"nothing changed: {result.published_path} kept ({result.seconds:.1f} s)")
        elif result.passed:
            console.print(f"published {result.published_path} in {result.seconds:.1f} s")
        elif result.refused_keys:
            console.print(f"[red]{UnpublishRefused(result.refused_keys)}[/]")
            console.print(f"the refused build is kept at {result.build_path}")
        else:
            console.print(
                f"[red]build failed[/] (dbt exit {result.dbt_exit_code}); the published "
                f"warehouse is unchanged; the failed build is kept at {result.build_path}"
            )
            for node in result.failed_nodes:
                console.print(f"  {node}")
            console.print(f"dbt output: {result.log_path}")
    if not result.passed:
        raise typer.Exit(code=ExitCode.ERROR)
    if strict and result.quarantined:
        typer.secho(
            f"--strict: {len(result.quarantined)} submission(s) quarantined", err=True, fg="red"
        )
        raise typer.Exit(code=ExitCode.DATA)


def _show_node(node: NodeDone) -> None:
    """One line per dbt model (and seed) as it finishes; tests too with -v; errors always."""
    failed = node.status in {"error", "fail", "runtime error"}
    if OUTPUT.quiet and not failed:
        return
    if (
        node.resource_type not in {"model", "seed", "snapshot"}
        and not failed
        and (OUTPUT.verbosity < 1)
    ):
        return
    width = len(str(node.total)) if node.total else 1
    where = f"{node.index:>{width}}/{node.total}" if node.total else "?"
    typer.secho(
        f"  {where} {node.resource_type} {node.name}: {node.status} ({node.seconds:.1f} s)",
        err=True,
        fg=typer.colors.RED if failed else None,
    )


@app.command()
def report(
    submission_id: int = typer.Argument(..., help="Submission id (see `migstat status`)."),
    output: Path = typer.Option(..., "--output", "-o", help="Report file: .xlsx or .html."),
) -> None:
    """Write the validation report a country office receives: Spanish, then English.

    Every problem with its sheet, cell, rule, expected and found values and the message.
    """
    from migstat.report import read_report, write_report

    try:
        path = write_report(read_report(Home.from_env().published_db, submission_id), output)
    except MigstatError as error:
        raise fail(error) from error
    typer.echo(f"wrote {path}")


@app.command()
def rules(
    write: bool = typer.Option(False, "--write", help="Regenerate docs/rules.md."),
    check: bool = typer.Option(False, "--check", help="Exit 1 if docs/rules.md is out of date."),
) -> None:
    """Print the consistency rule catalogue (specs/rules.yml) as Markdown."""
    from migstat.rules import RULES_DOC, render_doc, write_doc

    try:
        text = render_doc()
    except MigstatError as error:
        raise fail(error) from error
    if write:
        try:
            typer.echo(f"wrote {write_doc()}")
        except MigstatError as error:
            raise fail(error) from error
    elif check:
        current = RULES_DOC.read_text(encoding="utf-8") if RULES_DOC.exists() else ""
        if current != text:
            typer.secho(f"{RULES_DOC} is out of date: run `migstat rules --write`", err=True)
            raise typer.Exit(code=ExitCode.DATA)
    else:
        typer.echo(text)


@app.command("dbt-sources")
def dbt_sources(
    write: bool = typer.Option(False, "--write", help="Regenerate models/staging/_sources.yml."),
    check: bool = typer.Option(False, "--check", help="Exit 1 if _sources.yml is out of date."),
) -> None:
    """Print the raw cell tables dbt reads, generated from specs/sources.

    They go into models/staging/_sources.yml (columns, code lists, cross-table groups), so dbt
    never queries the database to compile."""
    from migstat import dbt_sources as generated

    try:
        if write:
            typer.echo(f"wrote {generated.write()}")
        elif check:
            if not generated.is_current():
                typer.secho(
                    f"{generated.SOURCES_YML} is out of date: run `migstat dbt-sources --write`",
                    err=True,
                )
                raise typer.Exit(code=1)
        else:
            typer.echo(generated.render_tables(generated.shipped_specs()), nl=False)
    except MigstatError as error:
        raise fail(error) from error


@app.command()
def publish(
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Site folder (default: MIGSTAT_HOME/site)."
    ),
    serve: int | None = typer.Option(
        None, "--serve", metavar="PORT", help="Then serve the site at http://127.0.0.1:PORT/."
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="Processes that write pages and downloads (default: one per CPU)."
    ),
    full: bool = typer.Option(
        False, "--full", help="Render every product again, even those whose data did not change."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print what was published as JSON."),
) -> None:
    """Render the static products site from the published warehouse (read-only).

    Tables, graphs, CSV/XLSX downloads and search: every standard product per reporting
    country, source and year, and the regional comparisons. Spanish pages in es/, English in
    en/. Only products whose data changed since the last publish into the same folder are
    rendered again.
    """
    from migstat.publish import publish as publish_site
    from migstat.publish.serve import serve_site

    home = Home.from_env()
    try:
        result = publish_site(
            home.published_db, output or home.site_dir, workers=workers, full=full, say=progress
        )
    except MigstatError as error:
        raise fail(error) from error
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "products": result.products,
                    "rendered": result.rendered,
                    "queried": result.queried,
                    "queries": result.queries,
                    "unchanged": result.unchanged,
                    "seconds": round(result.seconds, 1),
                    "size_bytes": result.size_bytes,
                    "site": str(result.site_dir),
                    "index": str(result.index),
                },
                indent=2,
            )
        )
    else:
        typer.echo(
            f"published {result.products} products in {result.seconds:.1f} s "
            f"({result.rendered} rendered, {result.unchanged} unchanged; {result.size_mb:.1f} MB; "
            f"{result.queried} of {result.queries} product queries run) into {result.site_dir}\n"
            f"open {result.index.as_uri()}"
        )
    if serve is not None:
        serve_site(result.site_dir, serve)


@app.command()
def export(
    format: list[str] = typer.Option(
        ...,
        "--format",
        "-f",
        help="sdmx-csv (SDMX-CSV 2.0 data), sdmx-ml (SDMX-ML 3.0 structures) or json-stat "
        "(JSON-stat 2.0, Spanish and English); repeat for several.",
    ),
    dataset: str | None = typer.Option(
        None, "--dataset", "-d", help="One dataset id (default: every dataset)."
    ),
    output: Path = typer.Option(..., "-o", "--output", help="Folder to write the files into."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Export the published datasets as open-data files, with the catalogue datasets.json.

    One dataset per source and counting unit, plus the indicators; `migstat publish` puts the
    same files on the products site under api/v1/."""
    from migstat.publish.export import export as export_datasets

    home = Home.from_env()
    try:
        result = export_datasets(home.published_db, output, tuple(format), dataset)
    except MigstatError as error:
        raise fail(error) from error
    largest = result.largest_json
    summary = {
        "datasets": result.datasets,
        "files": len(result.files),
        "seconds": round(result.seconds, 2),
        "largest_json": [str(largest[0]), largest[1]] if largest else None,
        "output": str(output.resolve()),
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(
            f"exported {result.datasets} datasets ({len(result.files)} files) in "
            f"{result.seconds:.1f} s into {output.resolve()}"
        )
