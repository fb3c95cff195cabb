"""``migstat load``: files and folders in, raw tables and verdicts out."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from loaders.parse import detect_layout, file_name_parts, parse_workbook
from loaders.store import FileFacts, RawStore
from loaders.workbook import SUPPORTED_SUFFIXES, Workbook
from migstat import codes
from migstat.errors import MigstatError, WorkbookRejected
from migstat.specs import LayoutSpec, Specs

PROGRESS_THRESHOLD = 5


@dataclass(frozen=True)
class LoadOutcome:
    file: Path
    status: str
    """``loaded``, ``rejected`` or ``skipped`` (same content already received)."""
    submission_id: int | None
    message: str = ""
    country: str | None = None
    source: str | None = None
    period: str | None = None
    cells: int = 0


class CodeListOracle:
    """Answers the parser's label questions from the shared code lists and the layout."""

    def __init__(self, layout: LayoutSpec) -> None:
        self._totals = {codes.normalize(label) for label in layout.reading.total_labels}

    def is_total(self, label: str) -> bool:
        return any(candidate in self._totals for candidate in codes.candidates(label))

    def is_member(self, codelist: str, label: str) -> bool:
        return codes.resolve(codelist, label) not in (None, "_T")


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Workbooks named directly, plus those found (recursively) in folders, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith("~$")
                )
            )
        elif path.exists():
            found.append(path)
        else:
            raise MigstatError(f"no such file or folder: {path}")
    return found


def file_facts(path: Path) -> FileFacts:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    stat = path.stat()
    return FileFacts(
        path=path.resolve(),
        sha256=digest.hexdigest(),
        size_bytes=stat.st_size,
        received_at=datetime.fromtimestamp(stat.st_mtime),
    )


def load_file(
    store: RawStore, specs: Specs, path: Path, layout_id: str | None = None, *, retry: bool = False
) -> LoadOutcome:
    """Load one file into the store; never raises for a bad workbook, records its verdict.

    With ``retry``, a content whose latest verdict is a rejection is read again (a new
    submission; the rejection stays in the history)."""
    facts = file_facts(path)
    known = store.find(facts.sha256)
    if known is not None and not (retry and known.status == "rejected"):
        return LoadOutcome(
            path,
            "skipped",
            known.submission_id,
            f"same content already received as submission {known.submission_id} ({known.status})",
        )
    try:
        book = Workbook(path)
        layout = specs.layouts[layout_id] if layout_id else detect_layout(book, specs, path.name)
        parsed = parse_workbook(book, layout, specs, CodeListOracle(layout), path.name)
    except WorkbookRejected as error:
        country, year = file_name_parts(path.name)
        submission_id = store.add_rejected(
            facts,
            error.message,
            error.sheet,
            error.cell,
            error.rule,
            country,
            year,
            error.message_es,
        )
        return LoadOutcome(path, "rejected", submission_id, str(error))
    submission_id = store.add_loaded(facts, parsed)
    return LoadOutcome(
        path,
        "loaded",
        submission_id,
        country=parsed.country_code,
        source=parsed.source,
        period=str(parsed.reference_year),
        cells=len(parsed.cells),
    )


def load_paths(
    paths: Sequence[Path],
    raw_db: Path,
    specs: Specs,
    *,
    layout_id: str | None = None,
    console: Console | None = None,
) -> list[LoadOutcome]:
    """Load every workbook under ``paths``; each file commits or fails on its own."""
    files = collect_files(paths)
    if layout_id is not None and layout_id not in specs.layouts:
        raise MigstatError(
            f"unknown layout {layout_id!r} (known: {', '.join(sorted(specs.layouts))})"
        )
    outcomes: list[LoadOutcome] = []
    with RawStore(raw_db, specs) as store:
        show = console is not None and len(files) >= PROGRESS_THRESHOLD
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not show,
            transient=True,
        ) as progress:
            task = progress.add_task("loading", total=len(files))
            for path in files:
                progress.update(task, description=f"loading {path.name}")
                outcomes.append(load_file(store, specs, path, layout_id))
                progress.advance(task)
    return outcomes


def retry_rejected(
    raw_db: Path, specs: Specs, *, layout_id: str | None = None
) -> list[LoadOutcome]:
    """Read again every received file whose latest verdict is a rejection (e.g. once a layout
    for it exists); each retry is a new submission, the rejection stays in the history."""
    outcomes: list[LoadOutcome] = []
    with RawStore(raw_db, specs) as store:
        for submission_id, sha256, path in store.rejected_files():
            if not path.exists():
                outcomes.append(
                    LoadOutcome(
                        path,
                        "skipped",
                        submission_id,
                        f"rejected submission {submission_id}: the file is no longer at {path}",
                    )
                )
                continue
            if file_facts(path).sha256 != sha256:
                outcomes.append(
                    LoadOutcome(
                        path,
                        "skipped",
                        submission_id,
                        f"rejected submission {submission_id}: {path} has changed since; "
                        "load it as a new file",
                    )
                )
                continue
            outcomes.append(load_file(store, specs, path, layout_id, retry=True))
    return outcomes


def summary_table(outcomes: Sequence[LoadOutcome]) -> Table:
    table = Table(title="migstat load", show_lines=False)
    for header in ("file", "status", "id", "country", "source", "period", "cells", "message"):
        table.add_column(header, overflow="fold")
    styles = {"loaded": "green", "skipped": "yellow", "rejected": "red"}
    for outcome in outcomes:
        table.add_row(
            outcome.file.name,
            f"[{styles[outcome.status]}]{outcome.status}[/]",
            str(outcome.submission_id or ""),
            outcome.country or "",
            outcome.source or "",
            outcome.period or "",
            f"{outcome.cells:,}" if outcome.cells else "",
            outcome.message,
        )
    counts = {status: sum(o.status == status for o in outcomes) for status in styles}
    table.caption = (
        f"{counts['loaded']} loaded, {counts['skipped']} skipped, {counts['rejected']} rejected; "
        f"{sum(o.cells for o in outcomes):,} cells"
    )
    return table
