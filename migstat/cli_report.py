"""How a status-like command prints its report: JSON for machines, `key: value` for people."""

from __future__ import annotations

import json
from collections.abc import Mapping

import typer


def echo_report(report: Mapping[str, object], *, as_json: bool) -> None:
    """Print ``report`` as indented JSON, or one ``key: value`` line per entry."""
    if as_json:
        typer.echo(json.dumps(report, indent=1))
        return
    for key, value in report.items():
        typer.echo(f"{key}: {value}")
