"""Errors a user can act on: each names the file, sheet, cell and rule it is about."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class MigstatError(Exception):
    """A domain error, rendered once by the CLI."""

    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    rule: str | None = None
    message_es: str | None = None
    """The message in Spanish, for what a country office reads (quality reports)."""

    def __str__(self) -> str:
        where = [
            f"{label} {value}"
            for label, value in (
                ("file", self.file),
                ("sheet", self.sheet),
                ("cell", self.cell),
                ("rule", self.rule),
            )
            if value
        ]
        return f"{', '.join(where)}: {self.message}" if where else self.message


class SpecError(MigstatError):
    """A source, layout or country spec is invalid."""


class WorkbookRejected(MigstatError):
    """A workbook is structurally unreadable and cannot be loaded."""
