"""One sample submission: its cell values and metadata, made clean, and written as a workbook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from openpyxl import Workbook

from migstat.specs import CountrySpec, Specs
from migstat.workbooks.samples.sources import SampleMaker
from migstat.workbooks.template import CellKey, CellValue, build_template


@dataclass
class Submission:
    """What one sample workbook holds: cell values per sheet and its metadata."""

    source: str
    country: str
    year: int
    values: dict[str, dict[CellKey, CellValue]]
    submitted_on: date
    flag: str | None = None
    version: int = 1
    notes: str = ""
    contact: str = ""
    post: list[Callable[[Workbook], None]] = field(default_factory=list)


def sample_file_name(country: str, source: str, year: int) -> str:
    return f"{country}_{source}_{year}.xlsx"


def _contact(country: CountrySpec) -> str:
    mailbox = f"estadistica@{country.code.lower()}.example.org"
    return f"Unidad de Estadística, {country.institution.es} <{mailbox}>"


def clean_submission(
    maker: SampleMaker, source: str, country: str, year: int, last_year: int
) -> Submission:
    """A clean submission: consistent values, version 1, provisional for the latest year."""
    rng = maker.rng(country, source, year, "metadata")
    return Submission(
        source=source,
        country=country,
        year=year,
        values=maker.values(source, country, year),
        submitted_on=date(year + 1, rng.randint(1, 3), rng.randint(1, 28)),
        flag="p" if year == last_year else None,
        contact=_contact(maker.specs.country(country)),
    )


def parse_name(file_name: str) -> tuple[str, str, int]:
    country, rest = file_name.split("_", 1)
    source, year = rest.removesuffix(".xlsx").rsplit("_", 1)
    return country, source, int(year)


def write_submission(submission: Submission, path: Path, specs: Specs) -> Path:
    book = build_template(
        submission.source,
        submission.country,
        submission.year,
        submission.values,
        flag=submission.flag,
        version=submission.version,
        submitted_on=submission.submitted_on,
        contact=submission.contact,
        notes=submission.notes,
        specs=specs,
    )
    for apply in submission.post:
        apply(book)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path
