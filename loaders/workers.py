"""Reading and parsing workbooks in worker processes, each under a memory cap.

A workbook is read by python-calamine, native code: a file it cannot handle may abort the process
or allocate without bound. Each file is therefore read and parsed in a worker process whose
address space is capped (``RLIMIT_AS``); a crash or a memory blow-up kills that worker only, the
file is rejected (``STR-READ`` "the reader crashed" or ``STR-LIMIT`` "ran out of memory") and a new
worker takes the next file. The parent never reads a workbook: it only writes the store.
"""

from __future__ import annotations

import contextlib
import gc
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path

from loaders.limits import Limits
from loaders.parse import ParsedSubmission, detect_layout, parse_workbook
from loaders.workbook import Workbook
from migstat import codes
from migstat.errors import WorkbookRejected
from migstat.specs import LayoutSpec, Specs
from migstat.translations import N_, translate

MiB = 1 << 20
WINDOW_PER_WORKER = 2
LAST_WORDS_BYTES = 1 << 20
"""How much of a dead reader's stderr is read to tell why it died."""
"""Files handed out ahead of the one being written, per worker (bounds the results held)."""


class CodeListOracle:
    """Answers the parser's label questions from the shared code lists and the layout."""

    def __init__(self, layout: LayoutSpec) -> None:
        self._totals = {codes.normalize(label) for label in layout.reading.total_labels}
        self._is_total: dict[str, bool] = {}
        self._is_member: dict[tuple[str, str], bool] = {}

    def is_total(self, label: str) -> bool:
        known = self._is_total.get(label)
        if known is None:
            known = any(candidate in self._totals for candidate in codes.candidates(label))
            self._is_total[label] = known
        return known

    def is_member(self, codelist: str, label: str) -> bool:
        known = self._is_member.get((codelist, label))
        if known is None:
            known = codes.user_resolver().resolve(codelist, label) not in (None, "_T")
            self._is_member[(codelist, label)] = known
        return known


SHEET_MARK = "migstat-reader: reading sheet "
FILE_MARK = "migstat-reader: reading file "


def parse_file(
    path: Path,
    specs: Specs,
    limits: Limits,
    layout_id: str | None = None,
    on_sheet: Callable[[str], None] | None = None,
    oracles: dict[str, CodeListOracle] | None = None,
) -> ParsedSubmission:
    """Read and parse one workbook; raises ``WorkbookRejected`` naming file, sheet and cell.

    ``oracles`` (layout id -> oracle) keeps the answers about labels from one file to the
    next: a reader process passes the same dict for every file it reads with the same specs."""
    book = Workbook(path, limits, on_sheet)
    layout = specs.layouts[layout_id] if layout_id else detect_layout(book, specs, path.name)
    if oracles is None:
        oracle = CodeListOracle(layout)
    else:
        oracle = oracles.get(layout.id) or oracles.setdefault(layout.id, CodeListOracle(layout))
    return parse_workbook(book, layout, specs, oracle, path.name)


@dataclass(frozen=True)
class Rejection:
    """A ``WorkbookRejected`` in a form that crosses a process boundary."""

    message: str
    sheet: str | None = None
    cell: str | None = None
    rule: str | None = None
    message_es: str | None = None

    @classmethod
    def of(cls, error: WorkbookRejected) -> Rejection:
        return cls(error.message, error.sheet, error.cell, error.rule, error.message_es)

    @classmethod
    def translated(
        cls, message: str, *, rule: str | None, sheet: str | None = None, **values: object
    ) -> Rejection:
        """``message`` an English msgid of the gettext catalogue (``str.format`` fields filled
        from ``values``); its Spanish comes from the catalogue."""
        return cls(
            message.format(**values),
            sheet,
            rule=rule,
            message_es=translate("es", message, **values),
        )

    def error(self, file_name: str) -> WorkbookRejected:
        return WorkbookRejected(
            self.message,
            file=file_name,
            sheet=self.sheet,
            cell=self.cell,
            rule=self.rule,
            message_es=self.message_es,
        )


@dataclass(frozen=True)
class Job:
    key: int
    path: Path
    layout_id: str | None = None


@dataclass(frozen=True)
class JobResult:
    key: int
    parsed: ParsedSubmission | None
    """Its cells travel as columns (``CellColumns.pack``): no object per cell crosses over."""
    rejection: Rejection | None
    last: bool = False
    """The worker stops after this result (it ran out of memory and may be unsound)."""


def out_of_memory(limits: Limits) -> Rejection:
    return Rejection.translated(
        N_(
            "the reader ran out of memory on this file (the limit is {limit:,} MB per file; see "
            "loader limits in the README)"
        ),
        rule="STR-LIMIT",
        limit=limits.worker_memory_mb,
    )


def _cap_memory(megabytes: int) -> None:
    limit = megabytes * MiB
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _serve(jobs: Connection, results: Connection) -> None:
    """One reader process: settings, then jobs in and results out, until told to stop."""
    specs, limits = jobs.recv()
    _cap_memory(limits.worker_memory_mb)
    # What the reader keeps for good (modules, specs) is never garbage: left out of every
    # collection (the collector's time over 30 tier-L files, 903 k cells: 0.14 -> 0.08 s).
    gc.collect()
    gc.freeze()
    oracles: dict[str, CodeListOracle] = {}
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        exhausted = False
        os.write(2, f"{FILE_MARK}{job.path.name}\n".encode())
        try:
            parsed = parse_file(job.path, specs, limits, job.layout_id, _trace_sheet, oracles)
            parsed.cell_columns.pack()
            result = JobResult(job.key, parsed, None)
            del parsed
        except WorkbookRejected as error:
            result = JobResult(job.key, None, Rejection.of(error))
        except MemoryError:
            result = JobResult(job.key, None, out_of_memory(limits), last=True)
            exhausted = True
        except RecursionError:
            result = JobResult(
                job.key,
                None,
                Rejection.translated(N_("the workbook nests too deeply"), rule="STR-READ"),
            )
        try:
            results.send(result)
        except MemoryError:
            results.send(JobResult(job.key, None, out_of_memory(limits), last=True))
            exhausted = True
        del result
        if exhausted:
            return


def _trace_sheet(name: str) -> None:
    """Leave the sheet about to be read in stderr: if the reader dies there, the parent names it."""
    os.write(2, f"{SHEET_MARK}{name}\n".encode())


def worker_main() -> None:
    """Entry point of ``python -m loaders.workers``: the channel is this process's stdin/stdout;
    anything printed goes to stderr (a file the parent reads if the process dies)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    channel_out = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _serve(Connection(0, writable=False), Connection(channel_out, readable=False))
    # Every answer is written; leave without tearing the interpreter down (the parent waits
    # for this exit).
    sys.stderr.flush()
    os._exit(0)


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    jobs: Connection
    results: Connection
    stderr_path: Path
    job: Job | None = None
    started: float = 0.0


def default_workers(limits: Limits, files: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    wanted = limits.workers or cores or 1
    return max(1, min(wanted, files))


class ReaderPool:
    """Worker processes (``python -m loaders.workers``) that read and parse files, each replaced
    when it dies. Plain subprocesses, not fork: the parent holds DuckDB's threads."""

    def __init__(self, specs: Specs, limits: Limits, size: int) -> None:
        self.specs = specs
        self.limits = limits
        self.size = size
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._workers: list[_Worker] = []
        self._serial = 0

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _start(self) -> _Worker:
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="migstat-readers-")
        self._serial += 1
        stderr_path = Path(self._scratch.name) / f"worker-{self._serial}.err"
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "loaders.workers"],
                env={**os.environ, "RUST_BACKTRACE": "0", "PYTHONFAULTHANDLER": "1"},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                close_fds=True,
                cwd=str(Path(__file__).resolve().parent.parent),
            )
        assert process.stdin is not None and process.stdout is not None
        jobs = Connection(os.dup(process.stdin.fileno()), readable=False)
        results = Connection(os.dup(process.stdout.fileno()), writable=False)
        process.stdin.close()
        process.stdout.close()
        worker = _Worker(process, jobs, results, stderr_path)
        with contextlib.suppress(BrokenPipeError, OSError):
            jobs.send((self.specs, self.limits))
        self._workers.append(worker)
        return worker

    def _retire(self, worker: _Worker, *, kill: bool = False) -> None:
        if kill and worker.process.poll() is None:
            worker.process.kill()
        try:
            worker.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        worker.jobs.close()
        worker.results.close()
        self._workers.remove(worker)

    def _death(self, worker: _Worker) -> Rejection:
        """Why a worker died without answering, from its exit status and its last words."""
        try:
            code = worker.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            code = worker.process.wait()
        try:
            with worker.stderr_path.open("rb") as handle:
                handle.seek(max(0, worker.stderr_path.stat().st_size - LAST_WORDS_BYTES))
                last_words = handle.read().decode("utf-8", "replace")
        except OSError:
            last_words = ""
        sheet = None
        for line in last_words.splitlines():
            if line.startswith(FILE_MARK):
                sheet = None
            elif line.startswith(SHEET_MARK):
                sheet = line[len(SHEET_MARK) :]
        if (
            "memory allocation of" in last_words
            or "MemoryError" in last_words
            or "Cannot allocate memory" in last_words
            or "std::bad_alloc" in last_words
            or code == -signal.SIGKILL
        ):
            return replace(out_of_memory(self.limits), sheet=sheet)
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            return Rejection.translated(
                N_(
                    "the reader crashed on this file (signal {signal}); the file cannot be read "
                    "safely"
                ),
                rule="STR-READ",
                sheet=sheet,
                signal=name,
            )
        return Rejection.translated(
            N_(
                "the reader crashed on this file (exit code {code}); the file cannot be read safely"
            ),
            rule="STR-READ",
            sheet=sheet,
            code=code,
        )

    def run(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, JobResult]]:
        """Results in the order of ``jobs``, whatever order the workers finish in."""
        queue = deque(jobs)
        done: dict[int, JobResult] = {}
        expected = deque(jobs)
        window = self.size * WINDOW_PER_WORKER
        in_flight = 0
        while expected:
            while queue and in_flight < window:
                idle = next((w for w in self._workers if w.job is None), None)
                if idle is None:
                    if len(self._workers) >= self.size:
                        break
                    idle = self._start()
                job = queue.popleft()
                idle.job, idle.started = job, time.monotonic()
                with contextlib.suppress(BrokenPipeError, OSError):
                    idle.jobs.send(job)  # a dead worker is found below
                in_flight += 1
            while expected and expected[0].key in done:
                job = expected.popleft()
                in_flight -= 1
                yield job, done.pop(job.key)
            if not expected:
                break
            busy = [w for w in self._workers if w.job is not None]
            if not busy:
                continue
            deadline = min(w.started for w in busy) + self.limits.worker_seconds
            ready = set(wait([w.results for w in busy], max(0.0, deadline - time.monotonic())))
            for worker in busy:
                running = worker.job
                assert running is not None
                if worker.results in ready:
                    try:
                        result: JobResult = worker.results.recv()
                    except (EOFError, OSError):
                        done[running.key] = JobResult(running.key, None, self._death(worker))
                        self._retire(worker)
                        continue
                    done[running.key] = result
                    worker.job = None
                    if result.last:
                        self._retire(worker)
                elif time.monotonic() - worker.started > self.limits.worker_seconds:
                    self._retire(worker, kill=True)
                    done[running.key] = JobResult(
                        running.key,
                        None,
                        Rejection.translated(
                            N_("reading the file took over {seconds:,.0f} s, the limit"),
                            rule="STR-LIMIT",
                            seconds=self.limits.worker_seconds,
                        ),
                    )

    def close(self) -> None:
        for worker in list(self._workers):
            with contextlib.suppress(BrokenPipeError, OSError):
                worker.jobs.send(None)
        for worker in list(self._workers):
            self._retire(worker)
        if self._scratch is not None:
            self._scratch.cleanup()


def child_peak_rss_mb() -> float:
    """Peak resident memory of the largest finished child process (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / MiB


if __name__ == "__main__":
    # Run the imported module, not this ``__main__`` copy, so results pickle as
    # ``loaders.workers.JobResult`` for the parent.
    from loaders.workers import worker_main as imported_main

    imported_main()
