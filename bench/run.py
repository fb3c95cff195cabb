"""The scale benchmark: one tier's data generated deterministically, every measurement side by side.

Usage: .venv/bin/python bench/run.py --tier S|M|L [--superset] [--fresh] [--build-timeout S]

Tiers (all generated from migstat's sample generator, seed 0):

* ``S``: the samples (9 countries x 6 sources x 3 years, 164 files), written as workbooks.
* ``M``: about 10x: the same for 30 years (1995-2024), written as workbooks.
* ``L``: at least 20 million fact rows (``fct_observations``): nine countries x six sources x
  twenty consecutive years (2005-2024), monthly, with the full nationality detail and, for
  movements, nationality by month and age group and by border post and month. Written by
  ``bench/tier_l.py`` (numpy draws, openpyxl write-only, worker processes) into the tier's home
  with a specs overlay (``<home>/specs``) that gives the templates that detail; see its
  docstring. The loader is measured at L too; the readers side by side (pandas, calamine) only at
  S and M (at L pandas alone would take longer than the whole build).

Generated workbooks are kept in ``<home>/inbox`` (a marker file records the plan), so a rerun does
not regenerate them; ``--reuse-raw`` also keeps the loaded raw store.

Measured in one run (machines are noisy; the ratios are what to read):

* loader cells/s (``migstat load``) against ``pandas.read_excel`` (default engine) and against
  the bare parse of python-calamine (``CalamineWorkbook`` -> ``to_python`` of every sheet) on
  the same files;
* ``migstat build`` wall time and peak memory: the resident set (RSS) summed over the process
  tree (migstat, dbt and DuckDB inside it), sampled every 0.1 s from /proc;
* a new reporting period for every country (one next-year workbook per country and source),
  end to end: load + build (incremental) + publish, and the same data rebuilt with
  ``migstat build --full-refresh``; and one corrected workbook resubmitted, end to end;
* re-loading 1,000 unchanged files (or every file the tier has, when fewer);
* products publish time, the first time and again with no data change;
* Superset chart-data latency p50/p95 per dashboard (``--superset``: needs
  ``migstat superset install`` in this checkout; serves on $BENCH_SUPERSET_PORT, default 8391).

Everything is written under /tmp/bench-<tier> (override with --home). The table is printed and
written to bench/results/<tier>.md; the last line printed is ``loader_vs_pandas=<r>
loader_vs_bare_parse=<r> build_L_s=<s> build_L_peak_gb=<g> new_month_L_s=<s>``, where a value that
was not measured in this run is ``n/a`` (the table says why).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from multiprocessing import get_context
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
SOURCES_TABLE = "select source from raw.spec_sources order by source"
L_TARGET_ROWS = 20_000_000
"""Tier L's fact rows (published detail cells, ``fct_observations``) at least."""
RELOAD_FILES = 1000


@dataclass(frozen=True)
class Tier:
    name: str
    years: tuple[int, ...]
    large: bool = False
    """L: workbooks from ``bench/tier_l.py`` (full detail, specs overlay) instead of the samples."""


TIERS = {
    "S": Tier("S", tuple(range(2022, 2025))),
    "M": Tier("M", tuple(range(1995, 2025))),
    "L": Tier("L", tuple(range(2005, 2025)), large=True),
}


@dataclass
class Measure:
    work: str
    value: float | None
    unit: str
    note: str = ""
    cpu: float | None = None
    """CPU seconds (user + system) of the processes behind a wall time: on a shared machine
    the wall time also counts waiting for a core."""

    def text(self) -> str:
        if self.value is None:
            return "n/a"
        if self.unit in ("x", "GB"):
            return f"{self.value:.2f}"
        if self.unit == "s":
            return f"{self.value:.1f}"
        return f"{self.value:,.0f}"


@dataclass
class Report:
    tier: str
    rows: list[Measure] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)
    slowest: list[tuple[str, float]] = field(default_factory=list)

    def add(
        self, work: str, value: float | None, unit: str, note: str = "", cpu: float | None = None
    ) -> Measure:
        measure = Measure(work, value, unit, note, cpu)
        self.rows.append(measure)
        spent = f" (cpu {cpu:.1f} s)" if cpu is not None else ""
        print(f"  {work}: {measure.text()} {unit}{spent} {note}".rstrip(), flush=True)
        return measure

    def get(self, work: str) -> Measure | None:
        return next((m for m in self.rows if m.work == work), None)


# ---------------------------------------------------------------- processes and memory


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(root: int) -> int:
    """Resident set of ``root`` and all its descendants, in bytes."""
    tree = _children()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_bytes(pid)
        stack.extend(tree.get(pid, []))
    return total


@dataclass
class Ran:
    seconds: float
    peak_rss: int
    returncode: int | None
    output: str
    cpu: float = 0.0
    """User + system CPU seconds of the command and every descendant it waited for."""

    @property
    def peak_gb(self) -> float:
        return self.peak_rss / 1e9


def run(argv: Sequence[str], env: dict[str, str], timeout: float | None = None) -> Ran:
    """Run a command, sampling the RSS of its process tree; ``returncode`` None on timeout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with subprocess.Popen(
        list(argv), env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss(process.pid))
                done.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            output, _ = process.communicate(timeout=timeout)
            code: int | None = process.returncode
        except subprocess.TimeoutExpired:
            for child in _descendants(process.pid):
                _kill(child)
            process.kill()
            output, _ = process.communicate()
            code = None
        done.set()
        sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Ran(time.perf_counter() - started, peak, code, output or "", cpu)


def _descendants(root: int) -> list[int]:
    tree = _children()
    found, stack = [], list(tree.get(root, []))
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(tree.get(pid, []))
    return found


def _kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, 9)


def migstat(home: Path, *args: str) -> list[str]:
    del home
    return [sys.executable, "-m", "migstat", *args]


def spill_dir(home: Path) -> Path:
    """Where DuckDB spills during a build of ``home``."""
    from migstat.build import spill_folder
    from migstat.home import Home

    return spill_folder(Home(home))


def run_build(home: Path, *args: str, timeout: float | None) -> Ran:
    """``migstat build ARGS`` in ``home``. DuckDB's spill folder goes afterwards, whether the
    build finished or was stopped at the time limit (a killed DuckDB leaves its spill files)."""
    try:
        return run(migstat(home, "build", *args), home_env(home), timeout=timeout)
    finally:
        shutil.rmtree(spill_dir(home), ignore_errors=True)


def home_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MIGSTAT_HOME"] = str(home)
    env["COLUMNS"] = "160"
    return env


# ---------------------------------------------------------------- data


def _make_one(args: tuple[str, str, int]) -> str:
    from migstat.workbooks.samples import SampleMaker, make_file

    name, out_dir, last_year = args
    return str(make_file(SampleMaker(0), name, Path(out_dir), last_year))


def generate_inbox(inbox: Path, years: Sequence[int], workers: int) -> list[Path]:
    """The tier's sample workbooks (deterministic: seed 0); reused when already complete."""
    from migstat.specs import load_specs
    from migstat.workbooks.samples import planned_files

    names = planned_files(load_specs(), years)
    marker = inbox / ".bench-complete"
    stamp = json.dumps({"years": list(years), "files": len(names)})
    if marker.exists() and marker.read_text() == stamp:
        return [inbox / name for name in names]
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    jobs = [(name, str(inbox), max(years)) for name in names]
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        list(pool.map(_make_one, jobs, chunksize=8))
    marker.write_text(stamp)
    return [inbox / name for name in names]


def write_period(out_dir: Path, year: int) -> list[Path]:
    """One clean workbook per country and source for ``year`` (a new reporting period)."""
    from migstat.workbooks.samples import SampleMaker, clean_submission, write_submission

    maker = SampleMaker(0)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for country in sorted(maker.specs.countries):
        for source in sorted(maker.specs.sources):
            submission = clean_submission(maker, source, country, year, year)
            path = out_dir / f"{country}_{source}_{year}.xlsx"
            written.append(write_submission(submission, path, maker.specs))
    return written


def write_correction(out_dir: Path, country: str, source: str, year: int, tier: str) -> Path:
    """Version 2 of a clean entries submission, flag ``r``: one more entry in January by a man
    of the first nationality, of the first port and of the first age group, with every total
    that covers those cells (so the corrected file is consistent and accepted)."""
    from migstat.workbooks.samples import SampleMaker, clean_submission, write_submission

    maker = SampleMaker(0)
    submission = clean_submission(maker, source, country, year, year)
    first = submission.submitted_on
    submission.submitted_on = date(first.year, min(first.month + 2, 12), first.day)
    submission.version = 2
    submission.flag = "r"
    submission.notes = f"Corrige enero (banco {tier}). / Corrects January (bench {tier})."
    wanted = {"month": "01", "sex": "M"}
    for sheet in maker.specs.template_layout(source).sheets:
        if not sheet.name.startswith("ENTRADAS"):
            continue
        axes = [sheet.rows.dimension, *sheet.columns.dimensions]
        cells = submission.values[sheet.name]
        detail = next(
            key
            for key in cells
            if "_T" not in key
            and all(wanted.get(axis, part) == part for axis, part in zip(axes, key, strict=True))
        )
        for key in cells:
            if all(t in (d, "_T") for t, d in zip(key, detail, strict=True)):
                value = cells[key]
                cells[key] = (value if isinstance(value, int) else 0) + 1
    path = out_dir / f"{country}_{source}_{year}_v2.xlsx"
    return write_submission(submission, path, maker.specs)


def raw_facts(raw_db: Path) -> dict[str, int]:
    with duckdb.connect(str(raw_db), read_only=True) as con:
        sources = [r[0] for r in con.execute(SOURCES_TABLE).fetchall()]
        cells = sum(
            con.execute(f"select count(*) from raw.{source}").fetchone()[0]  # type: ignore[index]
            for source in sources
        )
        submissions = con.execute(
            "select count(*), count(*) filter (status = 'loaded') from raw.submissions"
        ).fetchone()
    assert submissions is not None
    return {"cells": cells, "submissions": submissions[0], "loaded": submissions[1]}


def fact_rows(home: Path) -> int:
    """Rows of ``fct_observations`` in the published warehouse."""
    with duckdb.connect(str(home / "warehouse" / "migstat.duckdb"), read_only=True) as con:
        row = con.execute("select count(*) from marts.fct_observations").fetchone()
    assert row is not None
    return int(row[0])


REFERENCE_DATE_ENV = "MIGSTAT_REFERENCE_DATE"


def judging_date(last_year: int) -> str | None:
    """The date every build of the run judges as of (``MIGSTAT_REFERENCE_DATE``), so that the
    new period (the year after ``last_year``) is over and published rather than quarantined as
    a future period (STR-006) when the bench runs during or before that year. None when the
    period is already over or the variable is set by the caller."""
    if os.environ.get(REFERENCE_DATE_ENV):
        return None
    over = date(last_year + 2, 1, 31)
    return over.isoformat() if date.today() < date(last_year + 2, 1, 1) else None


def published_submissions(home: Path, year: int) -> int:
    """Submissions of ``year`` with rows in the published ``fct_observations``."""
    with duckdb.connect(str(home / "warehouse" / "migstat.duckdb"), read_only=True) as con:
        row = con.execute(
            "select count(distinct submission_id) from marts.fct_observations where year = ?",
            [year],
        ).fetchone()
    return int(row[0]) if row else 0


def latest_year(home: Path) -> int:
    """The latest reference year in a home's raw store (a new period comes after it)."""
    with duckdb.connect(str(home / "warehouse" / "landing.duckdb"), read_only=True) as con:
        row = con.execute("select max(reference_year) from raw.submissions").fetchone()
    assert row is not None and row[0] is not None
    return int(row[0])


# ---------------------------------------------------------------- readers side by side


def read_pandas(files: Sequence[Path]) -> int:
    """``pandas.read_excel`` with its default engine (openpyxl for .xlsx today)."""
    import warnings

    import pandas as pd

    total = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the default engine will change": we time the default
        for path in files:
            frames = pd.read_excel(path, sheet_name=None, header=None)
            total += sum(frame.size for frame in frames.values())
    return total


def read_calamine(files: Sequence[Path]) -> int:
    from python_calamine import CalamineWorkbook

    total = 0
    for path in files:
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            total += sum(len(row) for row in book.get_sheet_by_name(name).to_python())
    return total


def timed(action: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()  # type: ignore[operator]
    return time.perf_counter() - started, result


# ---------------------------------------------------------------- the steps


def slowest_models(home: Path, count: int = 8) -> list[tuple[str, float]]:
    results = home / "dbt" / "target" / "run_results.json"
    if not results.exists():
        return []
    data = json.loads(results.read_text(encoding="utf-8"))
    timings = [
        (item["unique_id"].split(".", 2)[-1], float(item.get("execution_time") or 0.0))
        for item in data.get("results", [])
    ]
    return sorted(timings, key=lambda t: -t[1])[:count]


def step_build(report: Report, home: Path, label: str, timeout: float | None) -> Ran:
    ran = run_build(home, timeout=timeout)
    if ran.returncode is None:
        report.add(f"{label} wall", None, "s", f"stopped after the {timeout:.0f} s limit")
        report.add(
            f"{label} peak RSS (process tree)", ran.peak_gb, "GB", "until stopped (lower bound)"
        )
    elif ran.returncode != 0:
        tail = ran.output.strip().splitlines()[-3:]
        report.add(f"{label} wall", None, "s", f"build failed: {' | '.join(tail)}")
        report.add(f"{label} peak RSS (process tree)", ran.peak_gb, "GB", "failed build")
    else:
        report.add(f"{label} wall", ran.seconds, "s", cpu=ran.cpu)
        report.add(f"{label} peak RSS (process tree)", ran.peak_gb, "GB")
    return ran


def compile_bytecode() -> None:
    """Compile migstat's own modules to bytecode first, as ``pip install`` does: a shell with
    ``PYTHONDONTWRITEBYTECODE=1`` (this machine's) and a fresh checkout otherwise make every
    process of every command compile them from source (~0.25 CPU s each, the command and each
    of its readers), which no installed copy pays."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "migstat", "loaders"],
        cwd=REPO,
        check=True,
        capture_output=True,
    )


def loader_fixed_cost(home: Path, files: Sequence[Path]) -> Ran:
    """A `migstat load` of the inbox's smallest file into a fresh home (same specs overlay):
    the interpreter, imports, a new store, one reader started and one small file. What a load of
    many files pays once, whatever their cells."""
    scratch = home / "fixed-cost"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    if (home / "specs").is_dir():
        shutil.copytree(home / "specs", scratch / "specs")
    smallest = min(files, key=lambda path: path.stat().st_size)
    ran = run(migstat(scratch, "load", str(smallest)), home_env(scratch))
    shutil.rmtree(scratch, ignore_errors=True)
    return ran


def step_loader(report: Report, home: Path, files: list[Path], skip_readers: bool) -> None:
    ran = run(migstat(home, "load", str(home / "inbox")), home_env(home))
    facts = raw_facts(home / "warehouse" / "landing.duckdb")
    report.facts.update({"files": len(files), **facts})
    report.add(
        "migstat load (all files)", ran.seconds, "s", f"{facts['cells']:,} data cells", ran.cpu
    )
    fixed = loader_fixed_cost(home, files)
    report.add(
        "migstat load of one small file (fixed cost)",
        fixed.seconds,
        "s",
        "interpreter, imports, new store, one reader",
        fixed.cpu,
    )
    loader_rate = facts["cells"] / ran.seconds
    report.add("loader data cells/s", loader_rate, "cells/s")
    if skip_readers:
        for name in ("loader_vs_pandas", "loader_vs_bare_parse"):
            report.add(name, None, "x", "readers left out of this run (--skip readers)")
        return
    with duckdb.connect(str(home / "warehouse" / "landing.duckdb"), read_only=True) as con:
        loaded = [
            Path(r[0])
            for r in con.execute(
                "select file_path from raw.submissions where status = 'loaded'"
            ).fetchall()
        ]
    cpu = time.process_time()
    pandas_s, grid = timed(lambda: read_pandas(loaded))
    pandas_cpu = time.process_time() - cpu
    report.add(
        "pandas.read_excel default engine (same loaded files)",
        pandas_s,
        "s",
        f"{grid:,} grid cells read",
        pandas_cpu,
    )
    cpu = time.process_time()
    bare_s, _ = timed(lambda: read_calamine(loaded))
    bare_cpu = time.process_time() - cpu
    report.add("python-calamine bare parse (same loaded files)", bare_s, "s", cpu=bare_cpu)
    # The loader also reads the few rejected files: the ratios are on its whole run (slightly
    # unfavourable to it). Wall-time ratios are the targets; CPU ratios are steadier when the
    # machine is shared (they do not credit the loader's worker processes).
    report.add("loader_vs_pandas", pandas_s / ran.seconds, "x", "pandas s / loader s (wall)")
    report.add("loader_vs_bare_parse", bare_s / ran.seconds, "x", "bare parse s / loader s (wall)")
    if ran.cpu > 0:
        report.add("loader_vs_pandas (CPU seconds)", pandas_cpu / ran.cpu, "x")
        report.add("loader_vs_bare_parse (CPU seconds)", bare_cpu / ran.cpu, "x")
    # The same ratios with the fixed cost taken out: what the loader costs per cell, which is
    # what a bigger inbox approaches (bench/loader_scale.py measures one).
    if ran.seconds > fixed.seconds and ran.cpu > fixed.cpu:
        report.add(
            "loader_vs_bare_parse without the fixed cost",
            bare_s / (ran.seconds - fixed.seconds),
            "x",
            f"wall; CPU {bare_cpu / (ran.cpu - fixed.cpu):.2f}",
        )


def reload_files(home: Path, files: list[Path]) -> tuple[list[Path], str]:
    """1,000 files already received: the tier's own, or, when it has fewer, copies of them in
    numbered folders (same content: each is checked and skipped like an unchanged file)."""
    if len(files) >= RELOAD_FILES:
        return files[:RELOAD_FILES], ""
    folder = home / "reload-copies"
    chosen: list[Path] = []
    while len(chosen) < RELOAD_FILES:
        copy = len(chosen) // len(files)
        for original in files[: RELOAD_FILES - len(chosen)]:
            target = folder / f"copy-{copy}" / original.name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(original, target)
            chosen.append(target)
    return chosen, f"the tier's {len(files)} files and copies of them"


def step_reload(report: Report, home: Path, files: list[Path]) -> None:
    chosen, note = reload_files(home, files)
    if note:
        # The copies are new paths: a first load hashes them (and skips them as duplicates),
        # so that the measured one re-checks 1,000 files it has seen, as a re-run does.
        run(migstat(home, "load", str(home / "reload-copies")), home_env(home))
    ran = run(migstat(home, "load", *(str(f) for f in chosen)), home_env(home))
    report.add(f"re-load {len(chosen):,} unchanged files", ran.seconds, "s", note, ran.cpu)


def step_publish(report: Report, home: Path, label: str, timeout: float | None) -> Ran:
    ran = run(migstat(home, "publish"), home_env(home), timeout=timeout)
    if ran.returncode == 0:
        report.add(label, ran.seconds, "s", _products_note(ran.output), ran.cpu)
    else:
        report.add(label, None, "s", publish_outcome(ran, timeout))
    report.add(f"{label}: peak RSS (process tree)", ran.peak_gb, "GB", "", None)
    return ran


def publish_outcome(ran: Ran, timeout: float | None) -> str:
    """What a publish run came to, for a row of the table: its time, peak memory and, when it
    did not finish, why (the error line it printed), never a bare "failed"."""
    spent = f"after {ran.seconds:.0f} s, peak {ran.peak_gb:.2f} GB"
    if ran.returncode is None:
        return f"publish stopped at the {timeout or 0:.0f} s limit ({spent})"
    if ran.returncode < 0:  # SIGKILL: the kernel's OOM killer, or another process
        return f"publish killed by signal {-ran.returncode} {spent} (out of memory?)"
    if ran.returncode != 0:
        lines = [line.strip() for line in ran.output.splitlines() if line.strip()]
        errors = [line for line in lines if line.lower().startswith("error")]
        why = (errors or lines or ["no output"])[-1][:240]
        return f"publish failed {spent}, exit {ran.returncode}: {why}"
    return f"publish {ran.seconds:.1f} s, peak {ran.peak_gb:.2f} GB"


def _products_note(output: str) -> str:
    lines = [line for line in output.splitlines() if "product" in line.lower()]
    return lines[-1].strip()[:160] if lines else ""


def step_new_period(
    report: Report,
    home: Path,
    year: int,
    timeout: float | None,
    publish_too: bool = True,
    large: bool = False,
) -> None:
    new_dir = home / "new-period"
    shutil.rmtree(new_dir, ignore_errors=True)
    if large:
        from tier_l import write_period as write_large_period

        files = write_large_period(home, new_dir, year)
    else:
        files = write_period(new_dir, year)
    load = run(migstat(home, "load", str(new_dir)), home_env(home))
    build = run_build(home, timeout=timeout)
    if build.returncode != 0:
        why = "stopped at the time limit" if build.returncode is None else "build failed"
        report.add("new period, every country: load + build + publish", None, "s", why)
        return
    report.add(
        "new period: load + migstat build (incremental)",
        load.seconds + build.seconds,
        "s",
        f"{len(files)} workbooks of {year}, {published_submissions(home, year)} published; "
        f"load {load.seconds:.1f} + build {build.seconds:.1f}",
        load.cpu + build.cpu,
    )
    if publish_too:
        publish = run(migstat(home, "publish"), home_env(home), timeout=timeout)
        if publish.returncode != 0:
            report.add(
                "new period, every country: load + build + publish",
                None,
                "s",
                publish_outcome(publish, timeout),
            )
        else:
            report.add(
                "new period, every country: load + build + publish",
                load.seconds + build.seconds + publish.seconds,
                "s",
                f"{len(files)} workbooks of {year} (full year: an upper bound of one month); "
                f"load {load.seconds:.1f} + build {build.seconds:.1f} (incremental) + "
                f"{publish_outcome(publish, timeout)}",
                load.cpu + build.cpu + publish.cpu,
            )
    else:
        report.add("new period, every country: load + build + publish", None, "s", "--skip publish")
    # The same warehouse rebuilt from scratch: what the incremental build saves.
    full = run_build(home, "--full-refresh", timeout=timeout)
    if full.returncode == 0:
        report.add(
            "same data: migstat build --full-refresh",
            full.seconds,
            "s",
            f"incremental build / full build = {build.seconds / full.seconds:.2f}",
            full.cpu,
        )


def step_correction(
    report: Report, home: Path, year: int, timeout: float | None, tier: str
) -> None:
    out = home / "correction"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if tier == "L":
        from tier_l import write_correction as write_large_correction

        path = write_large_correction(home, out, "CRI", "entries_exits", year)
    else:
        path = write_correction(out, "CRI", "entries_exits", year, tier)
    load = run(migstat(home, "load", str(path)), home_env(home))
    build = run_build(home, timeout=timeout)
    if build.returncode != 0:
        why = "stopped at the time limit" if build.returncode is None else "build failed"
        report.add("corrected workbook resubmitted: load + build + publish", None, "s", why)
        return
    publish = run(migstat(home, "publish"), home_env(home), timeout=timeout)
    if publish.returncode != 0:
        report.add(
            "corrected workbook resubmitted: load + build + publish",
            None,
            "s",
            publish_outcome(publish, timeout),
        )
        return
    report.add(
        "corrected workbook resubmitted: load + build + publish",
        load.seconds + build.seconds + publish.seconds,
        "s",
        f"{path.name}; load {load.seconds:.1f} + build {build.seconds:.1f} + "
        f"{publish_outcome(publish, timeout)}",
        load.cpu + build.cpu + publish.cpu,
    )


def step_superset(report: Report, home: Path, port: int) -> None:
    env = home_env(home)
    up = run(migstat(home, "superset", "up", "--port", str(port)), env, timeout=900)
    if up.returncode != 0:
        report.add("Superset chart data p95", None, "ms", "superset up failed")
        return
    try:
        ran = run(
            [sys.executable, str(REPO / "bench" / "superset_latency.py"), "--rounds", "5"],
            env,
            timeout=1200,
        )
        line = next((x for x in reversed(ran.output.splitlines()) if x.startswith("{")), "")
        data = json.loads(line) if line else {}
        dashboards = data.get("dashboards") or {}
        cached = (data.get("cached") or {}).get("dashboards") or {}
        for name, stats in dashboards.items():
            report.add(f"Superset chart data p50 [{name}]", stats.get("p50_ms"), "ms", "cold")
            report.add(f"Superset chart data p95 [{name}]", stats.get("p95_ms"), "ms", "cold")
            if name in cached:
                report.add(
                    f"Superset chart data p95 cached [{name}]", cached[name].get("p95_ms"), "ms"
                )
        if not dashboards:
            report.add("Superset chart data p95", data.get("p95_ms"), "ms", line[:200])
    finally:
        run(migstat(home, "superset", "down"), env, timeout=120)


# ---------------------------------------------------------------- output


def final_line(report: Report) -> str:
    def value(work: str, fmt: str) -> str:
        measure = report.get(work)
        return format(measure.value, fmt) if measure and measure.value is not None else "n/a"

    large = report.tier == "L"
    loader = {k: value(k, ".2f") for k in ("loader_vs_pandas", "loader_vs_bare_parse")}
    build_s = value("migstat build (full) wall", ".1f") if large else "n/a"
    peak = value("migstat build (full) peak RSS (process tree)", ".2f") if large else "n/a"
    month = value("new period, every country: load + build + publish", ".1f") if large else "n/a"
    return (
        f"loader_vs_pandas={loader['loader_vs_pandas']} "
        f"loader_vs_bare_parse={loader['loader_vs_bare_parse']} "
        f"build_L_s={build_s} build_L_peak_gb={peak} new_month_L_s={month}"
    )


def git_commit() -> str:
    """The commit the benchmark ran on (``+dirty`` when tracked files had changes)."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{head or 'unknown'}{'+dirty' if dirty else ''}"


def write_results(report: Report, line: str, started: datetime) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{report.tier}.md"
    facts = ", ".join(
        f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}" for k, v in report.facts.items()
    )
    lines = [
        f"# bench/run.py --tier {report.tier}",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} CPUs, "
        f"shared machine), code at {git_commit()}; {facts}.",
        "",
        "Wall times count waiting for a core on this shared machine; `cpu s` is the user + system",
        "time of the processes behind them (migstat, dbt, DuckDB, workers).",
        "",
        "| work | value | unit | cpu s | note |",
        "|---|---:|---|---:|---|",
    ]
    lines += [
        f"| {m.work} | {m.text()} | {m.unit} | {'' if m.cpu is None else f'{m.cpu:.1f}'} "
        f"| {m.note} |"
        for m in report.rows
    ]
    if report.slowest:
        lines += ["", "Slowest dbt nodes of the full build (run_results.json, seconds):", ""]
        lines += [f"- `{name}`: {seconds:.2f}" for name, seconds in report.slowest]
    lines += ["", "```", line, "```", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tier", choices=sorted(TIERS), required=True)
    parser.add_argument("--home", type=Path, default=None, help="default /tmp/bench-<tier>")
    parser.add_argument("--fresh", action="store_true", help="regenerate the tier's data")
    parser.add_argument("--superset", action="store_true", help="measure chart-data latency")
    parser.add_argument("--build-timeout", type=float, default=1800.0)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--reuse-raw",
        action="store_true",
        help="keep the tier's loaded raw store (the loader is then not measured again)",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated steps to leave out: readers, build (and all after it), publish, "
        "reload, correction, period",
    )
    args = parser.parse_args()
    compile_bytecode()
    skip = {step.strip() for step in args.skip.split(",") if step.strip()}
    why_skipped = "left out of this run (--skip)"
    tier = TIERS[args.tier]
    home = (args.home or Path(f"/tmp/bench-{tier.name}")).resolve()
    started = datetime.now(UTC)
    report = Report(tier.name)
    print(f"tier {tier.name}: home {home}", flush=True)
    if args.fresh:
        shutil.rmtree(home, ignore_errors=True)
    # Derived state (warehouses, site) starts empty; generated workbooks are reused.
    raw_db = home / "warehouse" / "landing.duckdb"
    reuse = args.reuse_raw and raw_db.exists()
    if not reuse:
        # The archive and history of an earlier run: a load into an empty store refuses them.
        shutil.rmtree(home / "archive", ignore_errors=True)
        (home / "history.jsonl").unlink(missing_ok=True)
    for sub in ("warehouse", "site", "dbt", "new-period", "correction"):
        if reuse and sub == "warehouse":
            for stale in (home / sub).glob("*"):
                if stale.name != raw_db.name:
                    stale.unlink() if stale.is_file() else shutil.rmtree(stale)
            continue
        shutil.rmtree(home / sub, ignore_errors=True)
    reference = judging_date(latest_year(home) if reuse else max(tier.years))
    if reference:
        os.environ[REFERENCE_DATE_ENV] = reference
        report.facts["judged as of"] = reference
    if tier.large:
        from tier_l import generate as generate_large

        gen_started = time.perf_counter()
        files, written = generate_large(home, args.workers, tier.years)
        gen_s = time.perf_counter() - gen_started
        what = f"{written:,} grid cells written" if written else "reused"
        report.add(
            "generate workbooks (bench/tier_l.py)", gen_s, "s", f"{len(files):,} files, {what}"
        )
        skip.add("readers")
    else:
        gen_started = time.perf_counter()
        files = generate_inbox(home / "inbox", tier.years, args.workers)
        gen_s = time.perf_counter() - gen_started
        report.add("generate workbooks", gen_s, "s", f"{len(files):,} files (reused when present)")
    if reuse:
        facts = raw_facts(raw_db)
        report.facts.update({"files": len(files), **facts})
        report.add("migstat load (all files)", None, "s", "raw store reused (--reuse-raw)")
        for name in ("loader_vs_pandas", "loader_vs_bare_parse"):
            report.add(name, None, "x", "raw store reused (--reuse-raw): see the other tiers")
    else:
        step_loader(report, home, files, "readers" in skip)
    if "build" in skip:  # the loader alone (and the readers beside it)
        report.add("migstat build (full) wall", None, "s", why_skipped)
        line = final_line(report)
        path = write_results(report, line, started)
        print()
        print(path.read_text(encoding="utf-8"))
        print(line)
        return
    build = step_build(report, home, "migstat build (full)", args.build_timeout)
    report.slowest = slowest_models(home)
    if build.returncode == 0:
        facts_rows = fact_rows(home)
        report.facts["fct_observations rows"] = facts_rows
        note = f"target at L: at least {L_TARGET_ROWS:,}" if tier.large else ""
        report.add("fct_observations rows (published detail cells)", facts_rows, "rows", note)
    if build.returncode == 0:
        if "publish" in skip:
            report.add("publish (first, whole site)", None, "s", why_skipped)
        else:
            first = step_publish(report, home, "publish (first, whole site)", args.build_timeout)
            if first.returncode == 0:
                step_publish(report, home, "publish again, no data change", args.build_timeout)
        if "reload" in skip:
            report.add("re-load unchanged files", None, "s", why_skipped)
        else:
            step_reload(report, home, files)
        if "correction" in skip:
            report.add("corrected workbook resubmitted", None, "s", why_skipped)
        else:
            step_correction(report, home, max(tier.years), args.build_timeout, tier.name)
        if "period" in skip:
            report.add("new period, every country", None, "s", why_skipped)
        else:
            step_new_period(
                report,
                home,
                latest_year(home) + 1,
                args.build_timeout,
                "publish" not in skip,
                tier.large,
            )
        if args.superset:
            port = int(os.environ.get("BENCH_SUPERSET_PORT", "8391"))
            step_superset(report, home, port)
        else:
            report.add("Superset chart data p50/p95", None, "ms", "not asked (--superset)")
    else:
        for work in ("publish", "re-load unchanged files", "corrected workbook", "new period"):
            report.add(work, None, "s", "no passing full build to start from")
    line = final_line(report)
    path = write_results(report, line, started)
    print()
    print(path.read_text(encoding="utf-8"))
    print(line)


if __name__ == "__main__":
    main()
