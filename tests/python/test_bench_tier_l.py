"""Tier L's generator (bench/tier_l.py): deterministic, internally consistent, and its workbooks
load as the offices' own (the loader reads the specs overlay it writes into the home)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import numpy as np
from fixtures.cli import migstat

from migstat.home import REPO_ROOT
from migstat.specs import load_specs

sys.path.insert(0, str(REPO_ROOT / "bench"))

import tier_l


def test_numbers_are_deterministic_and_every_total_is_the_sum_of_its_parts(
    tmp_path: Path,
) -> None:
    tier_l.write_overlay(tmp_path)
    specs = load_specs(overlay=tmp_path / "specs")
    job = tier_l.Job(str(tmp_path), str(tmp_path), "CRI", "entries_exits", 2010, 2024)
    first = tier_l.submission_values(job, specs)
    again = tier_l.submission_values(job, specs)
    assert first.keys() == again.keys()
    assert all(np.array_equal(first[name], again[name]) for name in first)
    other = tier_l.submission_values(
        tier_l.Job(str(tmp_path), str(tmp_path), "CRI", "entries_exits", 2011, 2024), specs
    )
    assert not np.array_equal(first["ENTRADAS_NAC"], other["ENTRADAS_NAC"])
    # The full nationality detail and the overlay's extra sheets.
    countries = len(specs.source("entries_exits").member_lists["nationalities"])
    assert countries > 200
    assert first["ENTRADAS_NAC_EDAD"].shape[0] == countries + 1
    for name, grid in first.items():
        for axis in range(grid.ndim):
            parts = np.delete(grid, -1, axis=axis).sum(axis=axis)
            assert np.array_equal(np.take(grid, -1, axis=axis), parts), (name, axis)
    # Sheets of one flow are sums of one cube: they agree on the flow's total.
    totals = {name: int(grid[(-1,) * grid.ndim]) for name, grid in first.items()}
    assert totals["ENTRADAS_NAC"] == totals["ENTRADAS_NAC_EDAD"] == totals["ENTRADAS_PUERTO"]
    assert totals["SALIDAS_NAC"] == totals["SALIDAS_NAC_PUERTO"]


def test_generated_workbooks_load_and_a_rerun_reuses_them(tmp_path: Path) -> None:
    home = tmp_path / "home"
    files, cells = tier_l.generate(home, workers=1, years=[2024], countries=["CRI"])
    assert len(files) == 6 and all(path.exists() for path in files)
    assert cells > 150_000
    assert tier_l.generate(home, workers=1, years=[2024], countries=["CRI"]) == (files, 0)
    chosen = files
    done = migstat(home, "load", *map(str, chosen), timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    with duckdb.connect(str(home / "warehouse" / "landing.duckdb"), read_only=True) as con:
        statuses = con.execute(
            "select file_name, status, error_rule from raw.submissions order by file_name"
        ).fetchall()
        sheets = {
            row[0]
            for row in con.execute(
                "select distinct sheet from raw.entries_exits where submission_id = "
                "(select submission_id from raw.submissions where source = 'entries_exits')"
            ).fetchall()
        }
    assert [(name, status) for name, status, _ in statuses] == [
        (path.name, "loaded") for path in sorted(chosen)
    ], json.dumps(statuses)
    assert {"ENTRADAS_NAC_EDAD", "ENTRADAS_NAC_PUERTO", "SALIDAS_NAC_PUERTO"} <= sheets
