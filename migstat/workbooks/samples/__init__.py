"""Realistic synthetic submissions: filled standardized workbooks for every country and source.

One module per job:

* :mod:`.drawing`: integer micro-tables (crosses, splits, sums) and the shapes of the region
  (seasonality, age structure, year-on-year changes);
* :mod:`.sources`: the numbers of each source, shaped for the shipped ones and drawn from the
  template layout for any other, summed into every data cell of the layout's sheets
  (:class:`SampleMaker`);
* :mod:`.submissions`: one clean submission and its workbook;
* :mod:`.flaws`: the deliberately flawed files and the rule family each one must trip;
* :mod:`.published`: Mexico's own published table, read through a published layout.

Clean files are named ``<ISO3>_<source>_<YYYY>.xlsx``: every configured country and every source
spec, with sizes from the country spec's ``sample:`` (else the source spec's). Everything is
drawn from ``random.Random`` seeded by ``(seed, country, source, year)``: the same seed gives the
same workbooks, in any order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from migstat.specs import Specs
from migstat.workbooks.samples.drawing import Table, aggregate
from migstat.workbooks.samples.flaws import (
    FLAWS,
    RESUBMISSION,
    Flaw,
    flawed_submission,
    resubmission,
)
from migstat.workbooks.samples.published import (
    PUBLISHED_FILE,
    PUBLISHED_REGIONS,
    write_published_mexico,
)
from migstat.workbooks.samples.sources import SampleMaker
from migstat.workbooks.samples.submissions import (
    Submission,
    clean_submission,
    parse_name,
    sample_file_name,
    write_submission,
)

DEFAULT_YEARS = (2022, 2023, 2024)

__all__ = [
    "DEFAULT_YEARS",
    "FLAWS",
    "PUBLISHED_FILE",
    "PUBLISHED_REGIONS",
    "RESUBMISSION",
    "Flaw",
    "SampleMaker",
    "Submission",
    "Table",
    "aggregate",
    "clean_submission",
    "make_file",
    "parse_years",
    "planned_files",
    "sample_file_name",
    "write_samples",
    "write_submission",
]


def planned_files(specs: Specs, years: Sequence[int]) -> list[str]:
    """Every file ``write_samples`` writes for ``years``, in order."""
    names = [
        sample_file_name(country, source, year)
        for country in sorted(specs.countries)
        for source in sorted(specs.sources)
        for year in years
    ]
    if any(flaw.kind == "cross_table" and flaw.file in names for flaw in FLAWS):
        names.append(RESUBMISSION)
    names.append(PUBLISHED_FILE)
    return names


def make_file(maker: SampleMaker, name: str, out_dir: Path, last_year: int) -> Path:
    """Write one planned sample file (clean, flawed, resubmission or published)."""
    path = out_dir / name
    flaws = {flaw.file: flaw for flaw in FLAWS}
    if name == PUBLISHED_FILE:
        return write_published_mexico(maker, path)
    if name == RESUBMISSION:
        submission = resubmission(maker, last_year)
    elif name in flaws:
        submission = flawed_submission(maker, flaws[name], last_year)
    else:
        country, source, year = parse_name(name)
        submission = clean_submission(maker, source, country, year, last_year)
    return write_submission(submission, path, maker.specs)


def write_samples(
    out_dir: Path,
    *,
    seed: int = 0,
    years: Sequence[int] = DEFAULT_YEARS,
    specs: Specs | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write every sample submission for ``years`` into ``out_dir`` (see the module docstring)."""
    maker = SampleMaker(seed, specs)
    last_year = max(years)
    written = []
    for name in planned_files(maker.specs, years):
        path = make_file(maker, name, out_dir, last_year)
        written.append(path)
        if on_file is not None:
            on_file(path)
    return written


def parse_years(text: str) -> list[int]:
    """``2022-2024`` -> [2022, 2023, 2024]; ``2023`` -> [2023]; ``2021,2023`` -> [2021, 2023]."""
    years: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        years.extend(range(int(first), int(last or first) + 1))
    if not years:
        raise ValueError(f"no years in {text!r}")
    return sorted(set(years))
