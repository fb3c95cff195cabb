"""``migstat load``: files and folders in, raw tables and verdicts out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from loaders.hashcache import HashCache, sha256_of
from loaders.limits import Limits
from loaders.parse import ParsedSubmission, file_name_parts
from loaders.store import FileFacts, Keeper, RawStore, Rejected
from loaders.workbook import SUPPORTED_SUFFIXES
from loaders.workers import CodeListOracle, Job, ReaderPool, Rejection, default_workers, parse_file
from migstat.errors import MigstatError, WorkbookRejected
from migstat.specs import Specs
from migstat.translations import N_, bilingual, translate

__all__ = [
    "CodeListOracle",
    "LoadOutcome",
    "collect_files",
    "load_file",
    "load_paths",
    "retry_rejected",
]

PROGRESS_THRESHOLD = 5
BATCH_CELLS = 500_000
"""Cells written per transaction (with ``BATCH_FILES``, what a batch holds in memory).

Large enough that a source's cells in one transaction usually fill DuckDB's row groups (122,880
rows): DuckDB then writes them compressed once, at the insert, where a smaller insert is
written to the write-ahead log in full and compressed again by the next checkpoint. 200,000
cost the parent ~25 % more CPU on tier-L files (``bench/results/loader-notes.md``, fifth
pass) and no less peak memory."""
BATCH_FILES = 256


@dataclass(frozen=True)
class LoadOutcome:
    file: Path
    status: str
    """``loaded``, ``rejected``, ``skipped`` (same content already received) or ``ignored`` (a
    file in a loaded folder that is not a workbook: reported, never read)."""
    submission_id: int | None
    message: str = ""
    country: str | None = None
    source: str | None = None
    period: str | None = None
    cells: int = 0


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


NOT_A_WORKBOOK = N_("not a workbook ({kinds}): not read; if it is one, send it with its extension")
"""Said of a file in a loaded folder that is not a workbook (Spanish from the catalogue)."""

SYSTEM_FILES = {"thumbs.db", "desktop.ini"}
"""Files an operating system leaves in folders: never reported."""


def not_workbooks(paths: Iterable[Path]) -> list[LoadOutcome]:
    """Files inside the folders of ``paths`` that are not workbooks by their extension (a CSV
    export, a PDF of the bulletin, a workbook renamed ``.csv``): reported as ``ignored`` so
    that the office hears of them, never read, never recorded. Hidden files, Office lock
    files (``~$...``) and system files are left out."""
    ignored: list[LoadOutcome] = []
    for path in paths:
        if not path.is_dir():
            continue
        for found in sorted(path.rglob("*")):
            name = found.name
            if (
                not found.is_file()
                or found.suffix.lower() in SUPPORTED_SUFFIXES
                or name.startswith((".", "~$"))
                or name.lower() in SYSTEM_FILES
                or any(part.startswith(".") for part in found.relative_to(path).parts[:-1])
            ):
                continue
            kinds = ", ".join(SUPPORTED_SUFFIXES)
            ignored.append(
                LoadOutcome(
                    found,
                    "ignored",
                    None,
                    bilingual(NOT_A_WORKBOOK, kinds=kinds),
                )
            )
    return ignored


def file_facts(path: Path, cache: HashCache | None = None) -> FileFacts:
    stat = path.stat()
    resolved = path.resolve()
    digest = cache.sha256(resolved, stat) if cache is not None else sha256_of(path)
    return FileFacts(
        path=resolved,
        sha256=digest,
        size_bytes=stat.st_size,
        received_at=datetime.fromtimestamp(stat.st_mtime),
    )


def verdict_of(
    path: Path, parsed: ParsedSubmission | None, rejection: WorkbookRejected | None
) -> ParsedSubmission | Rejected:
    if parsed is not None:
        return parsed
    assert rejection is not None
    country, year = file_name_parts(path.name)
    return Rejected(
        rejection.message,
        rejection.sheet,
        rejection.cell,
        rejection.rule,
        country,
        year,
        rejection.message_es,
    )


def outcome_of(path: Path, verdict: ParsedSubmission | Rejected, submission_id: int) -> LoadOutcome:
    if isinstance(verdict, Rejected):
        said = verdict.message
        if verdict.message_es and verdict.message_es != said:
            said = f"{verdict.message_es} / {said}"  # Spanish first, as the report
        rejection = WorkbookRejected(
            said,
            file=path.name,
            sheet=verdict.sheet,
            cell=verdict.cell,
            rule=verdict.rule,
            message_es=verdict.message_es,
        )
        return LoadOutcome(path, "rejected", submission_id, str(rejection))
    return LoadOutcome(
        path,
        "loaded",
        submission_id,
        country=verdict.country_code,
        source=verdict.source,
        period=str(verdict.reference_year),
        cells=len(verdict.cell_columns),
        message=verdict.metadata.get("read_as") or "",
    )


def record(
    store: RawStore,
    facts: FileFacts,
    path: Path,
    parsed: ParsedSubmission | None,
    rejection: WorkbookRejected | None,
) -> LoadOutcome:
    """Write one file's verdict (and its rows, when loaded) in one transaction."""
    verdict = verdict_of(path, parsed, rejection)
    return outcome_of(path, verdict, store.record([(facts, verdict)])[0])


class Batch:
    """Verdicts waiting to be written together (``RawStore.record``: one transaction, each
    file still all-or-nothing); their outcomes take their places in ``outcomes`` when written."""

    def __init__(self, store: RawStore, outcomes: list[LoadOutcome | None]) -> None:
        self.store = store
        self.outcomes = outcomes
        self.waiting: list[tuple[int, Path, FileFacts, ParsedSubmission | Rejected]] = []
        self.cells = 0

    def add(self, path: Path, facts: FileFacts, verdict: ParsedSubmission | Rejected) -> None:
        self.outcomes.append(None)
        self.waiting.append((len(self.outcomes) - 1, path, facts, verdict))
        if isinstance(verdict, ParsedSubmission):
            self.cells += len(verdict.cell_columns)
        if self.cells >= BATCH_CELLS or len(self.waiting) >= BATCH_FILES:
            self.flush()

    def flush(self) -> None:
        if not self.waiting:
            return
        ids = self.store.record([(facts, verdict) for _, _, facts, verdict in self.waiting])
        for (place, path, _, verdict), submission_id in zip(self.waiting, ids, strict=True):
            self.outcomes[place] = outcome_of(path, verdict, submission_id)
        self.waiting, self.cells = [], 0


def skipped(
    path: Path, store: RawStore, facts: FileFacts, *, retry: bool = False, journal: bool = False
) -> LoadOutcome | None:
    """The outcome of a file whose content was already received, else ``None`` (also for a
    rejected content when ``retry``); with ``journal``, the store's keeper notes the duplicate."""
    known = store.find_received(facts) if journal else store.find(facts.sha256)
    if known is None or (retry and known.status == "rejected"):
        return None
    return LoadOutcome(
        path,
        "skipped",
        known.submission_id,
        f"same content already received as submission {known.submission_id} ({known.status})",
    )


def load_file(
    store: RawStore,
    specs: Specs,
    path: Path,
    layout_id: str | None = None,
    *,
    retry: bool = False,
    limits: Limits | None = None,
) -> LoadOutcome:
    """Load one file in this process (no crash isolation: ``load_paths`` and
    ``retry_rejected`` read in worker processes); never raises for a bad workbook.

    With ``retry``, a content whose latest verdict is a rejection is read again (a new
    submission; the rejection stays in the history)."""
    facts = file_facts(path)
    known = skipped(path, store, facts, retry=retry, journal=True)
    if known is not None:
        return known
    try:
        parsed = parse_file(path, specs, limits or Limits(), layout_id)
    except WorkbookRejected as error:
        return record(store, facts, path, None, error)
    return record(store, facts, path, parsed, None)


def read_and_record(
    store: RawStore,
    specs: Specs,
    files: Sequence[tuple[Path, FileFacts]],
    *,
    layout_id: str | None,
    limits: Limits,
    retry: bool = False,
    console: Console | None = None,
) -> list[LoadOutcome]:
    """Read and parse ``files`` in worker processes; record each verdict here, in order.

    A content already received is skipped (with ``retry``, a rejected one is read again); a
    content that appears twice is read once."""
    jobs: list[Job] = []
    first_of: dict[str, int] = {}
    for index, (path, fact) in enumerate(files):
        if skipped(path, store, fact, retry=retry) is None and fact.sha256 not in first_of:
            first_of[fact.sha256] = index
            jobs.append(Job(index, fact.path, layout_id))  # absolute: readers run elsewhere
    outcomes: list[LoadOutcome | None] = []
    batch = Batch(store, outcomes)
    if jobs:
        # The readers keep the cores busy; DuckDB's own threads would only contend with them
        # (one thread measured ~15% less CPU for the same writes), so the writer uses one.
        store.con.execute("set threads = 1")
    show = console is not None and len(jobs) >= PROGRESS_THRESHOLD
    with (
        Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not show,
            transient=True,
        ) as progress,
        ReaderPool(specs, limits, default_workers(limits, len(jobs))) as pool,
    ):
        task = progress.add_task("loading", total=len(files))
        results = pool.run(jobs)
        for index, (path, fact) in enumerate(files):
            progress.update(task, description=f"loading {path.name}")
            if first_of.get(fact.sha256) == index:
                _, result = next(results)
                parsed = result.parsed
                rejection = result.rejection or Rejection.translated(
                    N_("no result from the reader"), rule=None
                )
                batch.add(
                    path,
                    fact,
                    verdict_of(
                        path, parsed, None if parsed is not None else rejection.error(path.name)
                    ),
                )
            else:
                batch.flush()  # the first file of this content may be waiting
                unread = WorkbookRejected(
                    "not read", rule="STR-READ", message_es=translate("es", N_("not read"))
                )
                outcomes.append(
                    skipped(path, store, fact, journal=True)
                    or record(store, fact, path, None, unread)
                )
            progress.advance(task)
        batch.flush()
    return [outcome for outcome in outcomes if outcome is not None]


def load_paths(
    paths: Sequence[Path],
    raw_db: Path,
    specs: Specs,
    *,
    layout_id: str | None = None,
    console: Console | None = None,
    limits: Limits | None = None,
    keeper: Keeper | None = None,
) -> list[LoadOutcome]:
    """Load every workbook under ``paths``; each file commits or fails on its own (and, with a
    ``keeper``, is archived and journaled: ``migstat.history``).

    Files are read and parsed in worker processes (``loaders.workers``); this process alone
    writes the store, in the order of the files. Unchanged files are recognised by the hash
    cache next to the raw store without being read again.
    """
    files = collect_files(paths)
    if layout_id is not None and layout_id not in specs.layouts:
        raise MigstatError(
            f"unknown layout {layout_id!r} (known: {', '.join(sorted(specs.layouts))})"
        )
    limits = limits or Limits.from_home()
    cache = HashCache(raw_db.parent / "file-hashes.json")
    with RawStore(raw_db, specs, keeper=keeper) as store:
        facts = [file_facts(path, cache) for path in files]
        cache.save()
        outcomes = read_and_record(
            store,
            specs,
            list(zip(files, facts, strict=True)),
            layout_id=layout_id,
            limits=limits,
            console=console,
        )
    return outcomes + not_workbooks(paths)


def retry_rejected(
    raw_db: Path,
    specs: Specs,
    *,
    layout_id: str | None = None,
    limits: Limits | None = None,
    keeper: Keeper | None = None,
) -> list[LoadOutcome]:
    """Read again every received file whose latest verdict is a rejection (e.g. once a layout
    for it exists); each retry is a new submission, the rejection stays in the history.
    Read in worker processes like any load: a file that crashed the reader is rejected again."""
    limits = limits or Limits.from_home()
    outcomes: list[LoadOutcome | None] = []
    again: list[tuple[Path, FileFacts]] = []
    with RawStore(raw_db, specs, keeper=keeper) as store:
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
            facts = file_facts(path)
            if facts.sha256 != sha256:
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
            outcomes.append(None)
            again.append((path, facts))
        read = iter(
            read_and_record(store, specs, again, layout_id=layout_id, limits=limits, retry=True)
        )
    return [outcome if outcome is not None else next(read) for outcome in outcomes]


def summary_table(outcomes: Sequence[LoadOutcome]) -> Table:
    table = Table(title="migstat load", show_lines=False)
    for header in ("file", "status", "id", "country", "source", "period", "cells", "message"):
        table.add_column(header, overflow="fold")
    styles = {"loaded": "green", "skipped": "yellow", "rejected": "red", "ignored": "yellow"}
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
    if counts["ignored"]:
        table.caption += f"; {counts['ignored']} ignored (not workbooks)"
    return table
