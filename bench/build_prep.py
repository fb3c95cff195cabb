"""What an incremental `migstat build` costs before dbt starts, on a copy of a home (issue 10).

Runs the preparation of the build file of an incremental build, step by step, in two ways and
alternates them (``--rounds``): ``snapshot`` (until this branch: the raw store copied beside the
build file first, then the published warehouse copied and its raw tables brought up to the
snapshot) and ``direct`` (now: the published warehouse copied, its raw tables brought up to the
raw store itself, attached read-only under the store lock). Then the steps both share:
``refresh_specs``, ``forget_unjudged``, ``write_touched_keys``. Also times the no-op check
(:func:`migstat.build.unchanged_since_published`). Prints wall and CPU seconds per step.

    .venv/bin/python bench/build_prep.py /tmp/noop-L --rounds 2

The home's published warehouse and raw store are only read; the build file is
``warehouse/build-prep.duckdb``, removed at the end. Do not run it while the home builds.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from migstat.build import (
    built_with,
    forget_unjudged,
    project_fingerprint,
    refresh_specs,
    start_from_published,
    unchanged_since_published,
    write_touched_keys,
)
from migstat.home import Home
from migstat.specs import load_specs
from migstat.wiring import dbt_vars


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def timed(name: str, step: Callable[[], object], rows: list[tuple[str, float, float]]) -> None:
    wall, cpu = time.monotonic(), _cpu()
    step()
    rows.append((name, time.monotonic() - wall, _cpu() - cpu))


def prepare(home: Home, way: str) -> list[tuple[str, float, float]]:
    rows: list[tuple[str, float, float]] = []
    build = home.warehouse_dir / "build-prep.duckdb"
    snapshot = home.warehouse_dir / "build-prep-raw.duckdb"
    previous = built_with(home.published_db)
    assert previous is not None, "the published warehouse has no build_meta"
    raw = home.raw_db
    if way == "snapshot":
        timed("copy raw store", lambda: shutil.copy2(home.raw_db, snapshot), rows)
        raw = snapshot
    timed("copy published", lambda: shutil.copy2(home.published_db, build), rows)
    added: list[list[int] | None] = []
    timed("raw tables brought up", lambda: added.append(start_from_published(raw, build)), rows)
    if way == "snapshot":
        timed("remove snapshot", lambda: snapshot.unlink(), rows)
    # snapshot: every label resolved again (until this branch); direct: the new ones only.
    new = added[0] if way == "direct" else None
    timed("refresh_specs", lambda: refresh_specs(build, home.root / "specs", new), rows)
    blocking = cast("list[str]", dbt_vars(load_specs())["rule_families_blocking"])
    timed("forget_unjudged", lambda: forget_unjudged(build, previous[1], blocking), rows)
    timed(
        "write_touched_keys",
        lambda: write_touched_keys(build, home.published_db, previous[1]),
        rows,
    )
    timed("remove build file", lambda: build.unlink(), rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    home = Home(args.home.resolve())
    fingerprint = project_fingerprint(home, dbt_vars(load_specs(overlay=home.root / "specs")))
    wall, cpu = time.monotonic(), _cpu()
    reason = unchanged_since_published(home, fingerprint)
    print(
        f"no-op check: {time.monotonic() - wall:.2f} s wall, {_cpu() - cpu:.2f} CPU s: "
        f"{reason or 'nothing changed'}"
    )
    totals: dict[str, list[tuple[float, float]]] = {"snapshot": [], "direct": []}
    for number in range(args.rounds):
        for way in ("snapshot", "direct") if number % 2 == 0 else ("direct", "snapshot"):
            rows = prepare(home, way)
            total = (sum(row[1] for row in rows), sum(row[2] for row in rows))
            totals[way].append(total)
            steps = ", ".join(f"{name} {w:.1f}/{c:.1f}" for name, w, c in rows)
            head = f"round {number + 1} {way:8} {total[0]:6.1f} s wall {total[1]:5.1f} CPU s"
            print(f"{head}: {steps}")
    for way, runs in totals.items():
        shown = " ".join(f"{w:.1f}/{c:.1f}" for w, c in runs)
        print(f"{way:8} wall/CPU s per round: {shown}")


if __name__ == "__main__":
    main()
