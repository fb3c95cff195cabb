"""Realistic synthetic submissions: filled standardized workbooks for every country and source.

Each submission starts from one integer micro-table over the full cross of the dimensions its
sheets share (for example nationality x month x sex for entries), drawn from the magnitudes of the
country spec (``sample:``) with seasonality, sex ratio, minors' share and year-on-year changes of a
few per cent. Dimensions that only one sheet shows (port of entry, age group, economic activity,
decision type) are split from a margin of that table, so every sheet, every Total row and column
and every cross-sheet total is a sum of the same counts and agrees exactly. Zero cells are written
as "-". Everything is drawn from ``random.Random`` seeded by ``(seed, country, source, year)``:
the same seed gives the same workbooks, in any order.

Clean files are named ``<ISO3>_<source>_<YYYY>.xlsx``. A few submissions are deliberately flawed;
each flawed file *replaces* the clean file of its (country, source, year), except the resubmission
pair, where the flawed first version is followed by a corrected ``_v2``. ``FLAWS`` is the list:

* ``GTM_entries_exits_2024.xlsx`` ENTRADAS_NAC!B50: Total row, January total, 1,000 more than the
  sum of the nationalities -> additivity.
* ``HND_returns_2023.xlsx`` POR_PAIS!H6: June blank in every sheet (POR_PAIS column H,
  POR_MES_SEXO row 11), the typed totals leave June out -> completeness.
* ``SLV_irregular_foreigners_2023.xlsx`` POR_NACIONALIDAD!A31: an extra row "Wakanda" (also in
  POR_NAC_SEXO), counted in every total -> codes.
* ``CRI_asylum_2022.xlsx`` SOLICITUDES_NAC!C8: Nicaraguan men typed as text, last digit a
  letter o ("1578o") -> values.
* ``DOM_work_permits_2022.xlsx`` Metadatos: the sheet is deleted, no layout is detected ->
  structure (rejected).
* ``BLZ_residence_permits_2023.xlsx`` POR_NACIONALIDAD!B5: header rows 5-6 wiped -> structure
  (rejected).
* ``PAN_residence_permits_2024.xlsx`` POR_MES!C9: March, temporary permits, men 250 above the
  detail of POR_NACIONALIDAD, every POR_MES total adjusted (additive within the sheet) ->
  cross-table; ``PAN_residence_permits_2024_v2.xlsx`` (version 2, submitted two months later,
  flag ``r``) corrects it.

Besides the template submissions, ``write_published_mexico`` writes
``MEX_entries_exits_2021_publicado.xlsx``: Mexico's own published table ("Cuadro 3.1"), read
through ``specs/layouts/mex_published_entries_nationality.yml``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import product
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from migstat.codes import display_label
from migstat.specs import CountrySpec, SourceMagnitude, SourceSpec, Specs, load_specs
from migstat.workbooks.template import (
    MONTHS_SHORT_ES,
    TOTAL,
    CellKey,
    CellValue,
    build_template,
    column_members,
    row_members,
)

DEFAULT_YEARS = (2022, 2023, 2024)
MONTHS = [f"{month:02d}" for month in range(1, 13)]
ZERO = "-"

TOURISM_SEASON = [1.18, 1.04, 1.14, 1.12, 0.86, 0.92, 1.16, 1.08, 0.68, 0.80, 0.90, 1.22]
"""Tourist movements: peaks December-April (Holy Week) and July-August, a low in September."""
FLAT_SEASON = [0.92, 0.95, 1.02, 1.02, 1.05, 1.04, 1.03, 1.01, 0.98, 1.00, 0.99, 0.99]
PERMIT_SEASON = [0.80, 0.98, 1.08, 1.02, 1.06, 1.05, 1.04, 1.06, 1.02, 1.05, 1.02, 0.82]

ENTRY_ADULT_AGES = {
    "Y15T19": 0.06, "Y20T24": 0.09, "Y25T29": 0.11, "Y30T34": 0.12, "Y35T39": 0.12,
    "Y40T44": 0.11, "Y45T49": 0.10, "Y50T54": 0.09, "Y55T59": 0.08, "Y60T64": 0.06,
    "Y_GE65": 0.06,
}  # fmt: skip
BROAD_ADULT_AGES = {
    "Y18T24": 0.22, "Y25T34": 0.36, "Y35T44": 0.22, "Y45T54": 0.11, "Y55T64": 0.06, "Y_GE65": 0.03
}  # fmt: skip
PERMIT_TYPES = {"TMP": 0.58, "PRM": 0.24, "HUM": 0.06, "STU": 0.05, "FAM": 0.07}
DECISIONS = {"REC": 0.34, "CPR": 0.08, "REJ": 0.40, "CLO": 0.18}
ACTIVITIES = {
    "A": 0.12, "B": 0.01, "C": 0.14, "D": 0.005, "E": 0.005, "F": 0.08, "G": 0.12, "H": 0.04,
    "I": 0.10, "J": 0.05, "K": 0.03, "L": 0.01, "M": 0.08, "N": 0.06, "O": 0.01, "P": 0.05,
    "Q": 0.03, "R": 0.02, "S": 0.02, "T": 0.03, "U": 0.005,
}  # fmt: skip


@dataclass(frozen=True)
class Table:
    """Integer counts over the full cross of some dimensions (absent keys count zero)."""

    dimensions: tuple[str, ...]
    cells: dict[tuple[str, ...], int]

    def margin(self, dimension: str) -> dict[str, int]:
        position = self.dimensions.index(dimension)
        totals: dict[str, int] = {}
        for key, count in self.cells.items():
            totals[key[position]] = totals.get(key[position], 0) + count
        return totals


@dataclass(frozen=True)
class Flaw:
    """A deliberate flaw in one sample file, and the rule family that must catch it."""

    file: str
    kind: str
    sheet: str
    cell: str | None
    description: str
    rule_family: str


FLAWS: list[Flaw] = [
    Flaw(
        "GTM_entries_exits_2024.xlsx", "total_off", "ENTRADAS_NAC", "B50",
        "Total row, January total column: 1,000 more than the sum of the nationalities",
        "additivity",
    ),
    Flaw(
        "HND_returns_2023.xlsx", "missing_month", "POR_PAIS", "H6",
        "June left blank in every sheet (POR_PAIS column H, POR_MES_SEXO row 11); the totals "
        "the office typed leave June out",
        "completeness",
    ),
    Flaw(
        "SLV_irregular_foreigners_2023.xlsx", "unknown_label", "POR_NACIONALIDAD", "A31",
        "an extra row labelled 'Wakanda' (also A31 of POR_NAC_SEXO), counted in the totals",
        "codes",
    ),
    Flaw(
        "CRI_asylum_2022.xlsx", "text_in_number", "SOLICITUDES_NAC", "C8",
        "Nicaraguan men typed as text with a letter o for the last digit (e.g. '1234' -> '123o')",
        "values",
    ),
    Flaw(
        "DOM_work_permits_2022.xlsx", "metadata_deleted", "Metadatos", None,
        "the Metadatos sheet is deleted: the layout cannot be detected, the file is rejected",
        "structure",
    ),
    Flaw(
        "BLZ_residence_permits_2023.xlsx", "header_wiped", "POR_NACIONALIDAD", "B5",
        "header rows 5 and 6 of a required sheet wiped: the file is rejected",
        "structure",
    ),
    Flaw(
        "PAN_residence_permits_2024.xlsx", "cross_table", "POR_MES", "C9",
        "March, temporary permits, men: 250 more than the detail of POR_NACIONALIDAD, with every "
        "POR_MES total adjusted (additive within the sheet, disagrees across sheets); corrected "
        "by PAN_residence_permits_2024_v2.xlsx (version 2, submitted later, flag r)",
        "cross-table",
    ),
]  # fmt: skip

RESUBMISSION = "PAN_residence_permits_2024_v2.xlsx"
PUBLISHED_FILE = "MEX_entries_exits_2021_publicado.xlsx"


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


# ---------------------------------------------------------------- drawing integer counts


def apportion(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    weight_sum = sum(weights.values())
    if total <= 0 or weight_sum <= 0:
        return dict.fromkeys(weights, 0)
    shares = {key: total * weight / weight_sum for key, weight in weights.items()}
    counts = {key: math.floor(share) for key, share in shares.items()}
    left = total - sum(counts.values())
    by_remainder = sorted(shares, key=lambda key: shares[key] - counts[key], reverse=True)
    for key in by_remainder[:left]:
        counts[key] += 1
    return counts


def _noisy(rng: random.Random, weights: Mapping[str, float], sigma: float) -> dict[str, float]:
    return {key: weight * rng.lognormvariate(0.0, sigma) for key, weight in weights.items()}


def cross(
    rng: random.Random,
    total: int,
    axes: Sequence[tuple[str, Mapping[str, float]]],
    sigma: float = 0.12,
) -> Table:
    """``total`` spread over the full cross of ``axes`` (independent weights, cell noise)."""
    names = tuple(name for name, _ in axes)
    weights: dict[tuple[str, ...], float] = {}
    for combination in product(*(list(w.items()) for _, w in axes)):
        key = tuple(code for code, _ in combination)
        weights[key] = math.prod(weight for _, weight in combination)
    noisy = {key: weight * rng.lognormvariate(0.0, sigma) for key, weight in weights.items()}
    return Table(names, apportion(total, noisy))


def split(
    rng: random.Random,
    table: Table,
    by: str,
    dimension: str,
    weights: Mapping[str, float],
    sigma: float = 0.08,
) -> Table:
    """A new table (``dimension`` x ``by``): each total of ``by`` in ``table`` split by weights."""
    cells: dict[tuple[str, ...], int] = {}
    for code, count in table.margin(by).items():
        for member, part in apportion(count, _noisy(rng, weights, sigma)).items():
            cells[(member, code)] = part
    return Table((dimension, by), cells)


# ---------------------------------------------------------------- sample magnitudes


def year_factor(seed: int, country: str, source: str, year: int) -> float:
    """Level of ``year`` relative to the spec's magnitude: a trend of a few per cent a year."""
    trend_rng = random.Random(f"{seed}:{country}:{source}:trend")
    growth = trend_rng.gauss(0.04, 0.04)
    wobble = random.Random(f"{seed}:{country}:{source}:{year}:level").gauss(0.0, 0.03)
    return math.exp(growth * (year - 2023) + wobble)


def _mix(
    rng: random.Random,
    magnitude: SourceMagnitude,
    members: Sequence[str],
    exclude: str | None,
    stable_rng: random.Random,
) -> dict[str, float]:
    """Row weights: the spec's mix, a small background for other members, yearly noise."""
    weights: dict[str, float] = {}
    for code in members:
        if code == exclude:
            continue
        base = magnitude.nationality_mix.get(code)
        if base is None:
            base = 0.0 if stable_rng.random() < 0.35 else stable_rng.uniform(0.0005, 0.004)
        weights[code] = base * rng.lognormvariate(0.0, 0.08)
    return weights


def _months(rng: random.Random, profile: Sequence[float]) -> dict[str, float]:
    return {
        month: weight * rng.lognormvariate(0.0, 0.04)
        for month, weight in zip(MONTHS, profile, strict=True)
    }


def _minor_bands(
    bands: Sequence[str], minors: float, adults: Mapping[str, float]
) -> dict[str, float]:
    """Age weights: the minors' share over the minor bands, the rest over the adult bands."""
    minor_split = {
        "Y0T4": 0.30, "Y5T9": 0.33, "Y10T14": 0.37, "Y0T17": 1.0, "Y0T17A": 0.82, "Y0T17U": 0.18,
    }  # fmt: skip
    adult_sum = sum(adults.values())
    weights = {}
    for band in bands:
        if band in minor_split:
            weights[band] = minors * minor_split[band]
        else:
            weights[band] = (1.0 - minors) * adults[band] / adult_sum
    return weights


# ---------------------------------------------------------------- one submission


@dataclass(frozen=True)
class Draw:
    """Everything the micro-tables of one submission are drawn from."""

    rng: random.Random
    stable: random.Random
    """Draws that stay the same across years (which minor nationalities appear at all)."""
    source: SourceSpec
    country: CountrySpec
    magnitude: SourceMagnitude
    total: int
    drop_month: str | None
    extra_rows: Mapping[str, float]

    def rows(self, list_name: str, exclude: str | None) -> dict[str, float]:
        members = self.source.member_lists[list_name]
        weights = _mix(self.rng, self.magnitude, members, exclude, self.stable)
        weight_sum = sum(weights.values())
        weights.update({label: share * weight_sum for label, share in self.extra_rows.items()})
        return weights

    def season(self, profile: Sequence[float]) -> dict[str, float]:
        months = _months(self.rng, profile)
        if self.drop_month is not None:
            months[self.drop_month] = 0.0
        return months

    def sexes(self) -> dict[str, float]:
        return {"M": self.magnitude.men_share, "F": 1.0 - self.magnitude.men_share}

    def ages(self, adults: Mapping[str, float]) -> dict[str, float]:
        bands = self.source.member_lists["age_bands"]
        return _minor_bands(bands, self.magnitude.minors_share, adults)


def _entries_exits(draw: Draw) -> dict[str, Table]:
    rng, country = draw.rng, draw.country
    foreigners = draw.rows("nationalities", country.code)
    scale = (1.0 - country.nationals_share_of_movements) / sum(foreigners.values())
    nationalities = {code: weight * scale for code, weight in foreigners.items()}
    nationalities[country.code] = country.nationals_share_of_movements
    ports = {port.code: port.weight for port in country.ports}
    ages = draw.ages(ENTRY_ADULT_AGES)
    exits = round(draw.total * rng.uniform(0.97, 1.01))
    tables: dict[str, Table] = {}
    for prefix, flow_total in (("ENTRADAS", draw.total), ("SALIDAS", exits)):
        axes = [("nationality", nationalities), ("month", draw.season(TOURISM_SEASON))]
        micro = cross(rng, flow_total, [*axes, ("sex", draw.sexes())])
        tables[f"{prefix}_NAC"] = micro
        tables[f"{prefix}_PUERTO"] = split(rng, micro, "month", "port", ports)
        tables[f"{prefix}_EDAD"] = split(rng, micro, "sex", "age_group", ages)
    return tables


def _returns(draw: Draw) -> dict[str, Table]:
    origins = draw.rows("countries_from", draw.country.code)
    axes = [("country_from", origins), ("month", draw.season(FLAT_SEASON)), ("sex", draw.sexes())]
    micro = cross(draw.rng, draw.total, axes)
    return {
        "POR_PAIS": micro,
        "POR_MES_SEXO": micro,
        "POR_EDAD_SEXO": split(draw.rng, micro, "sex", "age_group", draw.ages(BROAD_ADULT_AGES)),
    }


def _asylum(draw: Draw) -> dict[str, Table]:
    rng = draw.rng
    nationalities = draw.rows("nationalities", draw.country.code)
    axes = [("nationality", nationalities), ("month", draw.season(FLAT_SEASON))]
    micro = cross(rng, draw.total, [*axes, ("sex", draw.sexes())])
    applied = {code: float(count) for code, count in micro.margin("nationality").items()}
    decisions = cross(
        rng,
        round(draw.total * rng.uniform(0.55, 0.85)),
        [("nationality", applied), ("decision", _noisy(rng, DECISIONS, 0.15))],
        sigma=0.2,
    )
    return {
        "SOLICITUDES_NAC": micro,
        "SOLICITUDES_MES": micro,
        "SOLICITUDES_EDAD": split(rng, micro, "sex", "age_group", draw.ages(BROAD_ADULT_AGES)),
        "RESOLUCIONES": decisions,
    }


def _irregular_foreigners(draw: Draw) -> dict[str, Table]:
    rng = draw.rng
    trend = [1.0 + 0.03 * (index - 5.5) + rng.gauss(0.0, 0.06) for index in range(12)]
    nationalities = draw.rows("nationalities", draw.country.code)
    axes = [("nationality", nationalities), ("month", draw.season(trend))]
    micro = cross(rng, draw.total, [*axes, ("sex", draw.sexes())])
    return {
        "POR_NACIONALIDAD": micro,
        "POR_NAC_SEXO": micro,
        "POR_EDAD_SEXO": split(rng, micro, "sex", "age_group", draw.ages(BROAD_ADULT_AGES)),
    }


def _residence_permits(draw: Draw) -> dict[str, Table]:
    rng = draw.rng
    axes = [
        ("nationality", draw.rows("nationalities", draw.country.code)),
        ("permit_type", _noisy(rng, PERMIT_TYPES, 0.2)),
        ("sex", draw.sexes()),
        ("month", draw.season(PERMIT_SEASON)),
    ]
    micro = cross(rng, draw.total, axes)
    return {
        "POR_NACIONALIDAD": micro,
        "POR_MES": micro,
        "POR_EDAD": split(rng, micro, "sex", "age_group", draw.ages(BROAD_ADULT_AGES)),
    }


def _work_permits(draw: Draw) -> dict[str, Table]:
    rng = draw.rng
    axes = [
        ("nationality", draw.rows("nationalities", draw.country.code)),
        ("sex", draw.sexes()),
        ("month", draw.season(PERMIT_SEASON)),
    ]
    micro = cross(rng, draw.total, axes)
    return {
        "POR_NACIONALIDAD": micro,
        "POR_ACTIVIDAD": split(rng, micro, "sex", "activity", ACTIVITIES, sigma=0.25),
        "POR_MES": micro,
    }


MAKERS: dict[str, Callable[[Draw], dict[str, Table]]] = {
    "entries_exits": _entries_exits,
    "returns": _returns,
    "asylum": _asylum,
    "irregular_foreigners": _irregular_foreigners,
    "residence_permits": _residence_permits,
    "work_permits": _work_permits,
}
"""How the micro-tables of each source are drawn (a new source needs one entry here)."""


class SampleMaker:
    """Builds the cell values of sample submissions from the specs, deterministically."""

    def __init__(self, seed: int = 0, specs: Specs | None = None) -> None:
        self.seed = seed
        self.specs = specs or load_specs()

    def rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(part) for part in (self.seed, *parts)))

    def tables(
        self,
        source_id: str,
        country_code: str,
        year: int,
        *,
        drop_month: str | None = None,
        extra_rows: Mapping[str, float] | None = None,
    ) -> dict[str, Table]:
        """The micro-tables each sheet of the submission is summed from, by sheet name.

        ``drop_month`` leaves a month out; ``extra_rows`` adds row labels outside the member
        list, each with that share of the row weights (``{"Wakanda": 0.01}``).
        """
        country = self.specs.country(country_code)
        magnitude = country.sample[source_id]
        level = year_factor(self.seed, country_code, source_id, year)
        draw = Draw(
            rng=self.rng(country_code, source_id, year),
            stable=self.rng(country_code, source_id, "mix"),
            source=self.specs.source(source_id),
            country=country,
            magnitude=magnitude,
            total=round(magnitude.yearly_total * level),
            drop_month=drop_month,
            extra_rows=extra_rows or {},
        )
        return MAKERS[source_id](draw)

    def values(
        self,
        source_id: str,
        country_code: str,
        year: int,
        *,
        drop_month: str | None = None,
        extra_rows: Mapping[str, float] | None = None,
    ) -> dict[str, dict[CellKey, CellValue]]:
        """Every data cell of the submission, summed from its micro-tables (zeros as "-";
        the cells of ``drop_month`` blank)."""
        source = self.specs.source(source_id)
        country = self.specs.country(country_code)
        layout = self.specs.template_layout(source_id)
        tables = self.tables(
            source_id, country_code, year, drop_month=drop_month, extra_rows=extra_rows
        )
        result: dict[str, dict[CellKey, CellValue]] = {}
        for sheet in layout.sheets:
            table = tables[sheet.name]
            axes = [sheet.rows.dimension, *sheet.columns.dimensions]
            counts = aggregate(table, axes)
            rows = row_members(sheet, source, country)
            added = [code for code in table.margin(axes[0]) if code not in rows]
            columns = [[*members, TOTAL] for members in column_members(sheet, source, country)]
            cells: dict[CellKey, CellValue] = {}
            for key in product([*rows, *added, TOTAL], *columns):
                if drop_month is not None and drop_month in key:
                    cells[key] = None
                else:
                    cells[key] = counts.get(key, 0) or ZERO
            result[sheet.name] = cells
        return result


def aggregate(table: Table, axes: Sequence[str]) -> dict[CellKey, int]:
    """Sums of ``table`` over every (member or ``_T``) combination of ``axes``."""
    positions = [table.dimensions.index(axis) for axis in axes]
    sums: dict[CellKey, int] = {}
    for key, count in table.cells.items():
        if not count:
            continue
        for combination in product(*([key[position], TOTAL] for position in positions)):
            sums[combination] = sums.get(combination, 0) + count
    return sums


# ---------------------------------------------------------------- files


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


def _parse_name(file_name: str) -> tuple[str, str, int]:
    country, rest = file_name.split("_", 1)
    source, year = rest.removesuffix(".xlsx").rsplit("_", 1)
    return country, source, int(year)


def flawed_submission(maker: SampleMaker, flaw: Flaw, last_year: int) -> Submission:
    """The submission of ``flaw.file``: the clean one with the flaw of ``flaw.kind``."""
    country, source, year = _parse_name(flaw.file)
    submission = clean_submission(maker, source, country, year, last_year)
    if flaw.kind == "missing_month":
        submission.values = maker.values(source, country, year, drop_month="06")
    elif flaw.kind == "unknown_label":
        submission.values = maker.values(source, country, year, extra_rows={"Wakanda": 0.004})
    elif flaw.kind == "cross_table":
        cells = submission.values[flaw.sheet]
        for key in product(["03", TOTAL], ["TMP", TOTAL], ["M", TOTAL]):
            current = cells[key]
            cells[key] = (current if isinstance(current, int) else 0) + 250
    else:
        submission.post.append(lambda book: _damage(book, flaw))
    return submission


def _damage(book: Workbook, flaw: Flaw) -> None:
    """Flaws written into the built workbook: a cell changed, a sheet or header removed."""
    if flaw.kind == "metadata_deleted":
        del book[flaw.sheet]
        return
    ws = book[flaw.sheet]
    cell = ws[flaw.cell or "A1"]
    if flaw.kind == "total_off":
        cell.value += 1000
    elif flaw.kind == "text_in_number":
        cell.value = f"{cell.value}"[:-1] + "o"
    elif flaw.kind == "header_wiped":
        for merged in list(ws.merged_cells.ranges):
            ws.unmerge_cells(str(merged))
        first_data_row = ws[ws.freeze_panes].row
        for row in ws.iter_rows(min_row=cell.row, max_row=first_data_row - 1):
            for each in row:
                each.value = None
    else:
        raise ValueError(f"unknown flaw kind {flaw.kind!r}")


def resubmission(maker: SampleMaker, last_year: int) -> Submission:
    """The corrected second version of the cross-table flaw's file."""
    country, source, year = _parse_name(next(f.file for f in FLAWS if f.kind == "cross_table"))
    corrected = clean_submission(maker, source, country, year, last_year)
    first = corrected.submitted_on
    corrected.submitted_on = date(first.year, first.month + 2, first.day)
    corrected.version = 2
    corrected.flag = "r"
    corrected.notes = (
        "Corrige el envío del "
        f"{first.isoformat()}: permisos temporales de marzo en POR_MES. / Corrects the submission "
        f"of {first.isoformat()}: March temporary permits in POR_MES."
    )
    return corrected


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
        country, source, year = _parse_name(name)
        submission = clean_submission(maker, source, country, year, last_year)
    return write_submission(submission, path, maker.specs)


# ---------------------------------------------------------------- a country's own published table

PUBLISHED_SHEET = "Cuadro 3.1"
PUBLISHED_YEAR = 2021
PUBLISHED_REGIONS: list[tuple[str, list[str]]] = [
    ("América del Norte", ["USA", "CAN"]),
    ("Centroamérica", ["GTM", "BLZ", "SLV", "HND", "NIC", "CRI", "PAN"]),
    ("Caribe", ["CUB", "DOM", "HTI", "JAM", "PRI"]),
    ("América del Sur", ["COL", "VEN", "ECU", "PER", "BRA", "ARG", "CHL", "BOL"]),
    ("Europa", ["ESP", "FRA", "DEU", "ITA", "GBR", "NLD", "RUS"]),
    ("Asia", ["CHN", "IND", "JPN", "KOR"]),
    ("Oceanía", ["AUS"]),
]
"""Region headings (UN M49 names as the office writes them) and their countries, in order."""
PUBLISHED_OUTSIDE_REGIONS = ["OTH", "XXA", "XXX"]
PUBLISHED_LABELS = {
    "USA": "Estados Unidos1",
    "CAN": "Canadá 2",
    "DOM": "Dominicana, Rep.",
    "KOR": "Corea, República de",
    "GBR": "Reino Unido3",
    "VEN": "VENEZUELA",
    "XXX": "Nacionalidad no especificada",
}
"""Labels as Mexico's table writes them: footnote markers glued on, inversions, capitals."""
PUBLISHED_NOTES = [
    "Fuente: Unidad de Política Migratoria, Registro e Identidad de Personas (SEGOB), con base en "
    "los registros del Instituto Nacional de Migración.",
    "Nota: Información preliminar. Cifras sujetas a rectificación.",
    "1 Incluye a los residentes en Estados Unidos que ingresan por vía aérea y marítima.",
    "2 Incluye a los trabajadores agrícolas temporales.",
    "3 Incluye Inglaterra, Escocia, Gales e Irlanda del Norte.",
    "- Cero.",
]


def write_published_mexico(maker: SampleMaker, path: Path) -> Path:
    """Mexico's own "Cuadro 3.1" for one year: region subtotals between country rows, spacer
    rows, footnote markers glued to labels, "-" for zero, notes below, no metadata sheet."""
    micro = maker.tables("entries_exits", "MEX", PUBLISHED_YEAR)["ENTRADAS_NAC"]
    foreigners = Table(
        micro.dimensions, {key: n for key, n in micro.cells.items() if key[0] != "MEX"}
    )
    counts = aggregate(foreigners, ["nationality", "month"])

    def numbers(codes: Sequence[str]) -> list[int | str]:
        return [
            sum(counts.get((code, month), 0) for code in codes) or ZERO
            for month in [TOTAL, *MONTHS]
        ]

    book = Workbook()
    ws = book.active
    ws.title = PUBLISHED_SHEET
    ws["A1"] = "Cuadro 3.1 Entradas de extranjeros por región y país de nacionalidad"
    ws["A1"].font = Font(bold=True, size=12)
    ws["A2"] = f"Enero-diciembre de {PUBLISHED_YEAR}"
    ws["A3"] = "(Número de entradas)"
    ws.append([])
    ws.append(["Región y país de nacionalidad", "Total", *MONTHS_SHORT_ES])
    for cell in ws[5]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    ws.append([])
    all_codes = [code for _, codes in PUBLISHED_REGIONS for code in codes]
    ws.append(["Total", *numbers([*all_codes, *PUBLISHED_OUTSIDE_REGIONS])])
    for region, codes in PUBLISHED_REGIONS:
        ws.append([])
        ws.append([region, *numbers(codes)])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        for code in codes:
            label = PUBLISHED_LABELS.get(code) or display_label("countries", code, "es")
            ws.append([f"  {label}", *numbers([code])])
    ws.append([])
    for code in PUBLISHED_OUTSIDE_REGIONS:
        label = PUBLISHED_LABELS.get(code) or display_label("countries", code, "es")
        ws.append([label, *numbers([code])])
    ws.append([])
    for note in PUBLISHED_NOTES:
        ws.append([note])
    for row in ws.iter_rows(min_row=7, min_col=2):
        for cell in row:
            cell.number_format = "#,##0"
    ws.column_dimensions["A"].width = 36
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


# ---------------------------------------------------------------- everything


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
