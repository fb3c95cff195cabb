"""bench/run.py's own housekeeping: no DuckDB spill files left behind by the builds it runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from migstat.home import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "bench"))

import run as bench


@pytest.mark.parametrize("timeout", [0.01, None], ids=["stopped", "finished"])
def test_the_spill_folder_goes_after_a_build(tmp_path: Path, timeout: float | None) -> None:
    spill = bench.spill_dir(tmp_path)
    spill.mkdir(parents=True)
    # What a DuckDB killed while spilling leaves.
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"\0" * 4096)
    ran = bench.run_build(tmp_path, timeout=timeout)
    if timeout is None:
        assert ran.returncode is not None, "the build was not meant to be stopped"
    else:
        assert ran.returncode is None, "the build was meant to be stopped at its time limit"
    assert not spill.exists()


def test_a_failed_publish_row_says_time_peak_and_why(tmp_path: Path) -> None:
    """A publish that fails is reported with its time, peak memory and the error it printed,
    never a bare "publish failed" (a real `migstat publish` on a home with no warehouse)."""
    report = bench.Report("S")
    ran = bench.step_publish(report, tmp_path, "publish (first, whole site)", None)
    assert ran.returncode not in (0, None)
    row = report.get("publish (first, whole site)")
    assert row is not None and row.value is None
    assert row.note.startswith("publish failed after ")
    assert " GB, exit " in row.note and "no published warehouse" in row.note
    peak = report.get("publish (first, whole site): peak RSS (process tree)")
    assert peak is not None and peak.value is not None and peak.value > 0


def test_the_new_period_is_judged_as_of_a_date_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bench run whose new period (the year after the last loaded) is not over yet judges as
    of the end of January after it, so the period is published, not quarantined as future
    (STR-006); a period already over, or a date given by the caller, leaves the date alone."""
    from datetime import date

    monkeypatch.delenv(bench.REFERENCE_DATE_ENV, raising=False)
    this_year = date.today().year
    assert bench.judging_date(this_year - 1) == f"{this_year + 1}-01-31"
    assert bench.judging_date(this_year) == f"{this_year + 2}-01-31"
    assert bench.judging_date(this_year - 3) is None
    monkeypatch.setenv(bench.REFERENCE_DATE_ENV, "2030-06-30")
    assert bench.judging_date(this_year - 1) is None
