"""The ``migstat`` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from migstat.errors import MigstatError
from migstat.home import Home

app = typer.Typer(
    help="migstat: standardized migration workbooks -> DuckDB warehouse -> checks -> dashboards "
    "and products. Every command works in MIGSTAT_HOME (default: ./home in the checkout).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def fail(error: MigstatError) -> typer.Exit:
    """Render a domain error once, on stderr, and return the exit to raise."""
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


# Subcommands are registered below, one line per room.


@app.command()
def load(
    paths: list[Path] = typer.Argument(
        ..., help="Workbooks (.xlsx, .xls, .ods) or folders of them."
    ),
    layout: str | None = typer.Option(
        None, help="Read every file with this layout id instead of detecting it."
    ),
) -> None:
    """Load workbooks into the raw store; rejected files are reported with file, sheet and cell.

    A file already received (same sha256) is skipped. Exit code 1 when any file was rejected.
    """
    from loaders.load import load_paths, summary_table
    from migstat.specs import load_specs

    console = Console()
    home = Home.from_env().ensure()
    try:
        outcomes = load_paths(paths, home.raw_db, load_specs(), layout_id=layout, console=console)
    except MigstatError as error:
        raise fail(error) from error
    console.print(summary_table(outcomes))
    for outcome in outcomes:
        if outcome.status == "rejected":
            typer.secho(f"rejected: {outcome.message}", fg=typer.colors.RED, err=True)
    if any(outcome.status == "rejected" for outcome in outcomes):
        raise typer.Exit(code=1)


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON for machines.")) -> None:
    """Show the published warehouse and every received submission with its status."""
    from migstat.status import home_status

    report = home_status(Home.from_env())
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    console = Console()
    console.print(
        f"warehouse: {report['warehouse']}"
        + ("" if report["warehouse_exists"] else " (not built yet)")
    )
    console.print(f"raw store: {report['raw_store']}")
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
            item["message"] or "",
        )
    console.print(table)


@app.command()
def run(
    superset: bool = typer.Option(True, help="Start Superset at the end."),
    fresh_samples: bool = typer.Option(False, help="Regenerate the sample workbooks."),
    seed: int = typer.Option(2026, help="Seed of the sample workbooks."),
) -> None:
    """The main job: sample workbooks -> load -> build and check -> products -> dashboards."""
    from migstat.pipeline import run as run_pipeline

    try:
        run_pipeline(superset=superset, fresh_samples=fresh_samples, seed=seed)
    except MigstatError as error:
        raise fail(error) from error
