"""The ``migstat`` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import typer

from migstat.errors import MigstatError

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
