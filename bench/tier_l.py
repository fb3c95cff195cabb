"""Tier L of the benchmark: realistic, deterministic workbooks with at least 20 million fact rows.

Nine countries x six sources x twenty consecutive years (2005-2024), monthly, with the full
nationality detail (every country of the ``countries`` code list as a row, not the ~40 of the
shipped templates) and, for entries and exits, nationality by month and age group and
nationality by border post and month. The detail comes from a specs overlay written into the
bench home (``$MIGSTAT_HOME/specs``: the loader and the build read it, see
``migstat.specs.Specs``):

* every source spec: ``member_lists.nationalities`` and ``member_lists.countries_from`` hold
  every country of the code list;
* ``std_entries_exits``: the shipped sheets plus ``ENTRADAS_NAC_EDAD`` (nationality x month x
  age group) and, per flow, ``*_NAC_PUERTO`` (nationality x border post x month).

About 1.17 million fact rows a year (measured on 2024: 1.55 million with exits by age too), so
about 23 million for the twenty years; ~1.5 million workbook cells a year.

Numbers: for each submission and each group of sheets sharing a measure and fixed values (for
example the entries), one integer cube over every dimension those sheets show is drawn at once
(``numpy`` multinomial over the product of per-dimension weights with log-normal noise, from the
country spec's ``sample:`` magnitudes, a trend of a few per cent a year, tourism seasonality for
movements), and every sheet is a sum of that cube: totals, cross-sheet totals and months agree
exactly, as in the shipped samples. A seed per (country, source, year) makes every file the same
whatever the order or the process that writes it.

Workbooks are written with openpyxl's write-only mode (rows streamed, no cell objects), in
worker processes; the same cells, positions, labels and metadata as ``build_template`` (no
styles, dropdowns or protection: the loader reads none of them). A complete folder is reused
(marker file with the plan), so a rerun does not regenerate.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

if TYPE_CHECKING:
    from migstat.specs import CountrySpec, SheetLayout, SourceMagnitude, SourceSpec, Specs

YEARS = tuple(range(2005, 2025))
SEED = 0
GENERATOR_VERSION = 1
"""Raise when the numbers or the workbook shape change: a cached inbox is then written again."""
ZERO = "-"
TOTAL = "_T"

EXTRA_SHEETS = [
    {
        "name": f"{prefix}_NAC_EDAD",
        "title": {
            "es": f"{es} por nacionalidad, mes y grupo de edad",
            "en": f"{en} by nationality, month and age group",
        },
        "measure": "movements",
        "required": False,
        "fixed": {"flow": flow},
        "rows": {"dimension": "nationality", "first_row": 7, "members": "nationalities",
                 "extra_rows": 0},
        "columns": {"dimensions": ["month", "age_group"], "header_rows": [5, 6],
                    "members": [None, "age_bands"]},
    }
    # Entries only: offices publish the age of arrivals; exits by age would add 7.6 M rows.
    for prefix, flow, es, en in (("ENTRADAS", "ENT", "Entradas", "Entries"),)
] + [
    {
        "name": f"{prefix}_NAC_PUERTO",
        "title": {
            "es": f"{es} por nacionalidad, puesto fronterizo y mes",
            "en": f"{en} by nationality, border post and month",
        },
        "measure": "movements",
        "required": False,
        "fixed": {"flow": flow},
        "rows": {"dimension": "nationality", "first_row": 7, "members": "nationalities",
                 "extra_rows": 0},
        "columns": {"dimensions": ["port", "month"], "header_rows": [5, 6],
                    "members": ["ports", None]},
    }
    for prefix, flow, es, en in (("ENTRADAS", "ENT", "Entradas", "Entries"),
                                 ("SALIDAS", "EXI", "Salidas", "Exits"))
]  # fmt: skip


# ---------------------------------------------------------------- the specs overlay


def write_overlay(home: Path) -> Path:
    """The specs overlay of tier L under ``home/specs`` (see the module docstring)."""
    from migstat.home import SPECS_DIR
    from migstat.workbooks.template import _codelist_members

    overlay = home / "specs"
    shutil.rmtree(overlay, ignore_errors=True)
    (overlay / "sources").mkdir(parents=True)
    (overlay / "layouts").mkdir(parents=True)
    every_country = _codelist_members("countries")
    for path in sorted((SPECS_DIR / "sources").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        lists = data.get("member_lists") or {}
        for name in ("nationalities", "countries_from"):
            if name in lists:
                lists[name] = list(every_country)
        (overlay / "sources" / path.name).write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    layout_path = SPECS_DIR / "layouts" / "std_entries_exits.yml"
    layout = yaml.safe_load(layout_path.read_text(encoding="utf-8"))
    layout["sheets"] = [*layout["sheets"], *EXTRA_SHEETS]
    (overlay / "layouts" / layout_path.name).write_text(
        yaml.safe_dump(layout, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return overlay


# ---------------------------------------------------------------- numbers


@dataclass(frozen=True)
class Job:
    home: str
    out_dir: str
    country: str
    source: str
    year: int
    last_year: int
    version: int = 1
    flag: str | None = None
    """None: provisional (``p``) for the last year, definitive before it."""
    variant: str = ""
    """Changes the random stream (a corrected resubmission draws its numbers again)."""

    @property
    def name(self) -> str:
        suffix = f"_v{self.version}" if self.version > 1 else ""
        return f"{self.country}_{self.source}_{self.year}{suffix}.xlsx"


def _seed(*parts: object) -> int:
    digest = hashlib.sha256(":".join(str(p) for p in (SEED, *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


@dataclass(frozen=True)
class Context:
    """What the weights of one submission's dimensions are drawn from."""

    country: str
    source: str
    magnitude: SourceMagnitude
    ports: dict[str, float]
    nationals_share: float | None
    """The share of the country's own nationals (movements only)."""


def _weights(dimension: str, codelist: str, members: Sequence[str], context: Context) -> np.ndarray:
    """Plausible weights over one dimension's members (deterministic per country and source)."""
    from migstat.workbooks.samples.drawing import FLAT_SEASON, TOURISM_SEASON

    stable = np.random.default_rng(_seed(context.country, context.source, dimension))
    magnitude = context.magnitude
    if codelist == "months":
        season = TOURISM_SEASON if context.source == "entries_exits" else FLAT_SEASON
        return np.array(season, dtype=float)[: len(members)]
    if codelist == "sex":
        men = magnitude.men_share
        return np.array([men if code == "M" else 1.0 - men for code in members])
    if codelist == "age_groups":
        from migstat.workbooks.samples.sources import MINOR_BANDS

        minors = [code in MINOR_BANDS for code in members]
        share = magnitude.minors_share if any(minors) else 0.0
        adults = len(members) - sum(minors)
        base = np.array(
            [share / max(sum(minors), 1) if m else (1.0 - share) / max(adults, 1) for m in minors]
        )
        return base * stable.uniform(0.7, 1.3, len(members))
    if codelist == "ports":
        return np.array([context.ports.get(code, 0.01) for code in members])
    if codelist == "countries":
        mix = dict(magnitude.nationality_mix)
        own = context.country
        nationals = context.nationals_share
        rest = mix.pop("OTH", 0.05)
        others = [code for code in members if code not in mix]
        # The long tail: the share of "others" spread over every other country, decaying.
        order = stable.permutation(len(others))
        tail = 1.0 / (order + 2.0) ** 1.3
        tail = tail / tail.sum() * rest
        weights = dict(zip(others, tail, strict=True))
        weights.update(mix)
        if nationals is not None and own in weights:
            scale = (1.0 - nationals) / max(sum(weights.values()), 1e-9)
            weights = {code: w * scale for code, w in weights.items()}
            weights[own] = nationals
        return np.array([weights.get(code, 0.0) for code in members])
    return stable.uniform(0.2, 1.0, len(members))


def submission_values(job: Job, specs: Specs) -> dict[str, np.ndarray]:
    """Every data sheet of one submission as a full grid of integers (members + Total), in the
    order of the sheet's rows and columns (``sheet_grid``)."""
    from migstat.workbooks.samples.drawing import year_factor
    from migstat.workbooks.template import column_members, row_members

    source = specs.source(job.source)
    country = specs.country(job.country)
    layout = specs.template_layout(job.source)
    magnitude = country.sample.get(job.source) or source.sample
    level = year_factor(SEED, job.country, job.source, job.year)
    rng = np.random.default_rng(_seed(job.country, job.source, job.year, job.variant))
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[SheetLayout]] = {}
    for sheet in layout.sheets:
        key = (sheet.measure, tuple(sorted(sheet.fixed.items())))
        groups.setdefault(key, []).append(sheet)
    context = Context(
        job.country,
        job.source,
        magnitude,
        {port.code: port.weight for port in country.ports},
        country.nationals_share_of_movements if job.source == "entries_exits" else None,
    )
    result: dict[str, np.ndarray] = {}
    measures = list(dict.fromkeys(sheet.measure for sheet in layout.sheets))
    for (measure, fixed), sheets in groups.items():
        members: dict[str, list[str]] = {}
        for sheet in sheets:
            members.setdefault(sheet.rows.dimension, row_members(sheet, source, country))
            for dimension, codes in zip(
                sheet.columns.dimensions, column_members(sheet, source, country), strict=True
            ):
                members.setdefault(dimension, codes)
        dims = list(members)
        probability = np.ones([len(members[d]) for d in dims])
        for axis, dimension in enumerate(dims):
            weights = _weights(
                dimension, source.dimensions[dimension].codelist, members[dimension], context
            )
            shape = [1] * len(dims)
            shape[axis] = len(weights)
            probability = probability * (weights / weights.sum()).reshape(shape)
        probability *= rng.lognormal(0.0, 0.15, probability.shape)
        probability /= probability.sum()
        total = magnitude.yearly_total * level
        if measures.index(measure) > 0:
            total *= 0.7
        if dict(fixed).get("flow") == "EXI":
            total *= 0.98
        cube = rng.multinomial(round(total), probability.ravel()).reshape(probability.shape)
        for sheet in sheets:
            axes = [sheet.rows.dimension, *sheet.columns.dimensions]
            keep = [dims.index(d) for d in axes]
            summed = cube.sum(axis=tuple(i for i in range(len(dims)) if i not in keep))
            order = sorted(range(len(keep)), key=lambda i: keep[i])
            # `summed` has the kept axes in cube order; put them in the sheet's order.
            summed = np.transpose(summed, [order.index(i) for i in range(len(keep))])
            # Totals: append a Total slice along every axis (last position).
            for axis in range(summed.ndim):
                summed = np.concatenate([summed, summed.sum(axis=axis, keepdims=True)], axis=axis)
            result[sheet.name] = summed
    return result


# ---------------------------------------------------------------- writing


def _rows_of_sheet(
    sheet: SheetLayout,
    source: SourceSpec,
    country: CountrySpec,
    grid_values: np.ndarray,
    measure_title: tuple[str, str, str, str],
) -> Iterator[list[object]]:
    """The sheet's rows, top to bottom, as ``build_template`` lays them out."""
    from migstat.codes import display_label
    from migstat.specs import column_letter_to_index
    from migstat.workbooks.template import TOTAL_LABEL, header_label, sheet_grid

    grid = sheet_grid(sheet, source, country)
    label_column = column_letter_to_index(sheet.rows.label_column)
    header_rows = sheet.columns.header_rows
    dims = sheet.columns.dimensions
    codelists = [source.dimensions[d].codelist for d in dims]
    row_codelist = source.dimensions[sheet.rows.dimension].codelist
    width = max(grid.columns.values())
    unit_es, title_es, unit, title_en = measure_title
    fixed_rows: dict[int, list[object]] = {
        1: [sheet.title.es],
        2: [sheet.title.en],
        3: [f"Unidad de cuenta: {unit_es} ({title_es}) / Counting unit: {unit} ({title_en})"],
    }
    headers: dict[int, list[object]] = {row: [None] * width for row in header_rows}
    headers[header_rows[-1]][label_column] = source.dimensions[sheet.rows.dimension].title.es
    if len(header_rows) == 2:
        headers[header_rows[0]][label_column] = source.dimensions[dims[0]].title.es
        seen: set[str] = set()
        for (outer, inner), column in grid.columns.items():
            headers[header_rows[1]][column - 1] = header_label(codelists[1], inner)
            if outer not in seen:
                seen.add(outer)
                headers[header_rows[0]][column - 1] = header_label(codelists[0], outer)
    else:
        for (code,), column in grid.columns.items():
            headers[header_rows[0]][column - 1] = header_label(codelists[0], code)
    fixed_rows.update(headers)
    # Cube index of each column key: members in order, Total last.
    column_members_ = [
        list(dict.fromkeys(key[i] for key in grid.columns)) for i in range(len(dims))
    ]
    positions = []
    for key, column in grid.columns.items():
        index = tuple(
            (len(members) - 1 if part == TOTAL else [m for m in members if m != TOTAL].index(part))
            for part, members in zip(key, column_members_, strict=True)
        )
        positions.append((column - 1, index))
    row_codes = {row: code for code, row in grid.rows.items()}
    row_members_ = [code for code in grid.rows if code != TOTAL]
    last_row = max([*grid.rows.values(), *grid.extra_rows])
    for number in range(1, last_row + 1):
        if number in fixed_rows:
            yield fixed_rows[number]
            continue
        if number not in row_codes:
            yield []
            continue
        code = row_codes[number]
        line: list[object] = [None] * width
        line[label_column] = (
            TOTAL_LABEL if code == TOTAL else display_label(row_codelist, code, "es") or code
        )
        row_index = len(row_members_) if code == TOTAL else row_members_.index(code)
        values = grid_values[row_index]
        for column, index in positions:
            value = int(values[index])
            line[column] = value if value else ZERO
        yield line


def write_workbook(job: Job) -> tuple[str, int]:
    """Write one submission; returns its file name and number of data cells."""
    from openpyxl import Workbook
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    from migstat.specs import load_specs
    from migstat.units import COUNTING_UNITS
    from migstat.workbooks.template import METADATA_LABELS

    specs = load_specs(overlay=Path(job.home) / "specs")
    source = specs.source(job.source)
    country = specs.country(job.country)
    layout = specs.template_layout(job.source)
    values = submission_values(job, specs)
    book = Workbook(write_only=True)
    intro = book.create_sheet("Instrucciones")
    intro.append([f"{layout.title.es} / {layout.title.en}"])
    meta_rng = np.random.default_rng(_seed(job.country, job.source, job.year, "metadata"))
    submitted = date(
        job.year + 1,
        int(meta_rng.integers(1, 4)) + 3 * (job.version - 1),
        int(meta_rng.integers(1, 29)),
    )
    fields: dict[str, object] = {
        "country": country.code,
        "institution": country.institution.es,
        "source": source.id,
        "year": job.year,
        "first_month": 1,
        "last_month": 12,
        "template": layout.id,
        "contact": f"Unidad de Estadística, {country.institution.es} "
        f"<estadistica@{country.code.lower()}.example.org>",
        "submitted_on": submitted.isoformat(),
        "flag": job.flag if job.flag is not None else ("p" if job.year == job.last_year else ""),
        "version": job.version,
        "notes": "Corrige el envío anterior. / Corrects the previous submission."
        if job.version > 1
        else "",
    }
    assert layout.metadata is not None
    meta = book.create_sheet(layout.metadata.sheet)
    meta_rows: dict[int, list[object]] = {
        1: ["Metadatos del envío / Submission metadata"],
        2: ["Campo / Field", "Valor / Value"],
    }
    for field, ref in layout.metadata.cells.items():
        letter, row = coordinate_from_string(ref)
        column = column_index_from_string(letter)
        line = meta_rows.setdefault(row, [])
        line.extend([None] * (column - len(line)))
        label_es, label_en = METADATA_LABELS.get(field, (field, field))
        line[column - 2] = f"{label_es} / {label_en}"
        line[column - 1] = fields.get(field, "")
    for number in range(1, max(meta_rows) + 1):
        meta.append(meta_rows.get(number, []))
    cells = 0
    for sheet in layout.sheets:
        measure = source.measures[sheet.measure]
        title = (
            COUNTING_UNITS[measure.unit].es,
            measure.title.es.lower(),
            measure.unit,
            measure.title.en.lower(),
        )
        ws = book.create_sheet(sheet.name)
        grid_values = values[sheet.name]
        cells += grid_values.size
        for line in _rows_of_sheet(sheet, source, country, grid_values, title):
            ws.append(line)
    path = Path(job.out_dir) / job.name
    tmp = path.with_name(path.name + ".part")
    book.save(tmp)
    tmp.replace(path)
    return job.name, cells


def write_period(home: Path, out_dir: Path, year: int) -> list[Path]:
    """One workbook per country and source for ``year`` (a new reporting period), in tier L's
    shape (the overlay of ``home``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [
        Job(str(home), str(out_dir), job.country, job.source, year, year)
        for job in plan(home, [year])
    ]
    return [out_dir / write_workbook(job)[0] for job in jobs]


def write_correction(home: Path, out_dir: Path, country: str, source: str, year: int) -> Path:
    """Version 2 of a submission of tier L, flag ``r``, its numbers drawn again (a consistent
    workbook whose cells differ from version 1)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    job = Job(str(home), str(out_dir), country, source, year, year, 2, "r", "corrected")
    return out_dir / write_workbook(job)[0]


def plan(
    home: Path, years: Sequence[int] = YEARS, countries: Sequence[str] | None = None
) -> list[Job]:
    from migstat.specs import load_specs

    specs = load_specs(overlay=home / "specs")
    inbox = home / "inbox"
    return [
        Job(str(home), str(inbox), country, source, year, max(years))
        for country in sorted(countries or specs.countries)
        for source in sorted(specs.sources)
        for year in years
    ]


def generate(
    home: Path,
    workers: int,
    years: Sequence[int] = YEARS,
    countries: Sequence[str] | None = None,
) -> tuple[list[Path], int]:
    """Tier L's inbox under ``home/inbox``; returns the files and the number of data cells
    written in this call. A complete inbox of the same plan is reused; an interrupted one is
    resumed (each workbook is written to ``.part`` and renamed, so a file present is whole)."""
    inbox = home / "inbox"
    marker = inbox / ".bench-l-complete"
    started = inbox / ".bench-l-plan"
    stamp = json.dumps(
        {
            "years": list(years),
            "seed": SEED,
            "generator": GENERATOR_VERSION,
            "sheets": EXTRA_SHEETS,
            **({"countries": sorted(countries)} if countries else {}),
        },
        sort_keys=True,
    )
    if marker.exists() and marker.read_text() == stamp and (home / "specs").is_dir():
        jobs = plan(home, years, countries)
        return [inbox / job.name for job in jobs], 0
    if not (started.exists() and started.read_text() == stamp):
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.mkdir(parents=True)
        started.write_text(stamp)
    write_overlay(home)
    jobs = plan(home, years, countries)
    todo = [job for job in jobs if not (inbox / job.name).exists()]
    # Largest first, so the workers finish together.
    todo.sort(key=lambda job: (job.source != "entries_exits", job.country, job.year))
    cells = 0
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        for _, count in pool.map(write_workbook, todo, chunksize=1):
            cells += count
    marker.write_text(stamp)
    return [inbox / job.name for job in jobs], cells


if __name__ == "__main__":
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/bench-L"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--years", default=f"{YEARS[0]}-{YEARS[-1]}")
    args = parser.parse_args()
    first, _, last = args.years.partition("-")
    chosen = tuple(range(int(first), int(last or first) + 1))
    started = time.perf_counter()
    files, written = generate(args.home, args.workers, chosen)
    print(
        f"{len(files)} files, {written:,} grid cells written in "
        f"{time.perf_counter() - started:.1f} s into {args.home / 'inbox'}"
    )
