"""Sample numbers per source: shaped draws for the shipped sources, a generic draw from the
template layout for any other, and :class:`SampleMaker`, which sums them into every data cell of
a template, sheet by sheet as the layout declares its sheets.

Each submission starts from one integer micro-table over the full cross of the dimensions its
sheets share (for example nationality x month x sex for entries), drawn from the magnitudes of the
country spec (``sample:``, else the source spec's ``sample:``) with seasonality, sex ratio,
minors' share and year-on-year changes of a few per cent. Dimensions that only one sheet shows
(port of entry, age group, economic activity, decision type) are split from a margin of that
table, so every sheet, every Total row and column and every cross-sheet total is a sum of the
same counts and agrees exactly. Zero cells are written as "-".
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from itertools import product
from typing import TypedDict, Unpack

from migstat.specs import LayoutSpec, SheetLayout, Specs, load_specs
from migstat.workbooks.samples.drawing import (
    BROAD_ADULT_AGES,
    ENTRY_ADULT_AGES,
    FLAT_SEASON,
    PERMIT_SEASON,
    TOURISM_SEASON,
    Draw,
    Table,
    aggregate,
    cross,
    member_weights,
    noisy,
    split,
    year_factor,
)
from migstat.workbooks.template import (
    TOTAL,
    CellKey,
    CellValue,
    column_members,
    row_members,
)

ZERO = "-"


PERMIT_TYPES = {"TMP": 0.58, "PRM": 0.24, "HUM": 0.06, "STU": 0.05, "FAM": 0.07}
DECISIONS = {"REC": 0.34, "CPR": 0.08, "REJ": 0.40, "CLO": 0.18}
ACTIVITIES = {
    "A": 0.12, "B": 0.01, "C": 0.14, "D": 0.005, "E": 0.005, "F": 0.08, "G": 0.12, "H": 0.04,
    "I": 0.10, "J": 0.05, "K": 0.03, "L": 0.01, "M": 0.08, "N": 0.06, "O": 0.01, "P": 0.05,
    "Q": 0.03, "R": 0.02, "S": 0.02, "T": 0.03, "U": 0.005,
}  # fmt: skip


def _entries_exits(draw: Draw) -> list[Table]:
    rng, country = draw.rng, draw.country
    foreigners = draw.rows("nationalities", country.code)
    scale = (1.0 - country.nationals_share_of_movements) / sum(foreigners.values())
    nationalities = {code: weight * scale for code, weight in foreigners.items()}
    nationalities[country.code] = country.nationals_share_of_movements
    ports = {port.code: port.weight for port in country.ports}
    ages = draw.ages(ENTRY_ADULT_AGES)
    exits = round(draw.total * rng.uniform(0.97, 1.01))
    tables: list[Table] = []
    for flow, flow_total in (("ENT", draw.total), ("EXI", exits)):
        axes = [("nationality", nationalities), ("month", draw.season(TOURISM_SEASON))]
        micro = cross(rng, flow_total, [*axes, ("sex", draw.sexes())])
        fixed = {"flow": flow}
        tables.append(replace(micro, fixed=fixed))
        tables.append(replace(split(rng, micro, "month", "port", ports), fixed=fixed))
        tables.append(replace(split(rng, micro, "sex", "age_group", ages), fixed=fixed))
    return tables


def _returns(draw: Draw) -> list[Table]:
    origins = draw.rows("countries_from", draw.country.code)
    axes = [("country_from", origins), ("month", draw.season(FLAT_SEASON)), ("sex", draw.sexes())]
    micro = cross(draw.rng, draw.total, axes)
    return [micro, split(draw.rng, micro, "sex", "age_group", draw.ages(BROAD_ADULT_AGES))]


def _asylum(draw: Draw) -> list[Table]:
    rng = draw.rng
    nationalities = draw.rows("nationalities", draw.country.code)
    axes = [("nationality", nationalities), ("month", draw.season(FLAT_SEASON))]
    micro = cross(rng, draw.total, [*axes, ("sex", draw.sexes())])
    applied = {code: float(count) for code, count in micro.margin("nationality").items()}
    decisions = cross(
        rng,
        round(draw.total * rng.uniform(0.55, 0.85)),
        [("nationality", applied), ("decision", noisy(rng, DECISIONS, 0.15))],
        sigma=0.2,
    )
    ages = split(rng, micro, "sex", "age_group", draw.ages(BROAD_ADULT_AGES))
    return [
        replace(micro, measure="applications"),
        replace(ages, measure="applications"),
        replace(decisions, measure="decisions"),
    ]


def _irregular_foreigners(draw: Draw) -> list[Table]:
    rng = draw.rng
    trend = [1.0 + 0.03 * (index - 5.5) + rng.gauss(0.0, 0.06) for index in range(12)]
    nationalities = draw.rows("nationalities", draw.country.code)
    axes = [("nationality", nationalities), ("month", draw.season(trend))]
    micro = cross(rng, draw.total, [*axes, ("sex", draw.sexes())])
    return [micro, split(rng, micro, "sex", "age_group", draw.ages(BROAD_ADULT_AGES))]


def _residence_permits(draw: Draw) -> list[Table]:
    rng = draw.rng
    axes = [
        ("nationality", draw.rows("nationalities", draw.country.code)),
        ("permit_type", noisy(rng, PERMIT_TYPES, 0.2)),
        ("sex", draw.sexes()),
        ("month", draw.season(PERMIT_SEASON)),
    ]
    micro = cross(rng, draw.total, axes)
    return [micro, split(rng, micro, "sex", "age_group", draw.ages(BROAD_ADULT_AGES))]


def _work_permits(draw: Draw) -> list[Table]:
    rng = draw.rng
    axes = [
        ("nationality", draw.rows("nationalities", draw.country.code)),
        ("sex", draw.sexes()),
        ("month", draw.season(PERMIT_SEASON)),
    ]
    micro = cross(rng, draw.total, axes)
    return [micro, split(rng, micro, "sex", "activity", ACTIVITIES, sigma=0.25)]


MAKERS: dict[str, Callable[[Draw], list[Table]]] = {
    "entries_exits": _entries_exits,
    "returns": _returns,
    "asylum": _asylum,
    "irregular_foreigners": _irregular_foreigners,
    "residence_permits": _residence_permits,
    "work_permits": _work_permits,
}
"""Sources whose numbers follow known shapes of the region (seasonality of tourism, ports,
decisions against applications). Any other source is drawn by :func:`generic_tables`."""


# ---------------------------------------------------------------- any other source

MINOR_BANDS = {"Y0T4", "Y5T9", "Y10T14", "Y0T17", "Y0T17A", "Y0T17U"}


def _members(draw: Draw, layout: LayoutSpec, dimension: str) -> list[str]:
    """The codes a template lists for ``dimension`` (rows or columns of its first sheet that
    shows it), or the values sheets fix it to."""
    for sheet in layout.sheets:
        if sheet.rows.dimension == dimension:
            return row_members(sheet, draw.source, draw.country)
        if dimension in sheet.columns.dimensions:
            position = sheet.columns.dimensions.index(dimension)
            return column_members(sheet, draw.source, draw.country)[position]
    return sorted({sheet.fixed[dimension] for sheet in layout.sheets if dimension in sheet.fixed})


def _weights(draw: Draw, layout: LayoutSpec, dimension: str) -> dict[str, float]:
    """Plausible weights over a dimension's members, by the code list it uses."""
    codelist = draw.source.dimensions[dimension].codelist
    members = _members(draw, layout, dimension)
    if codelist == "sex":
        return {code: w for code, w in draw.sexes().items() if code in members}
    if codelist == "months":
        return draw.season(FLAT_SEASON)
    if codelist == "age_groups":
        adults = [band for band in members if band not in MINOR_BANDS]
        minors = sum(1 for band in members if band in MINOR_BANDS)
        share = draw.magnitude.minors_share if minors else 0.0
        weights = {band: share / minors for band in members if band in MINOR_BANDS}
        weights.update({band: (1.0 - share) / len(adults) for band in adults})
        return noisy(draw.rng, weights, 0.1)
    if codelist == "countries":
        weights = member_weights(draw.rng, draw.magnitude, members, draw.country.code, draw.stable)
        weight_sum = sum(weights.values())
        weights.update({label: share * weight_sum for label, share in draw.extra_rows.items()})
        return weights
    base = {code: draw.stable.uniform(0.2, 1.0) for code in members}
    return noisy(draw.rng, base, 0.1)


def _dimensions(sheet: SheetLayout) -> list[str]:
    return [sheet.rows.dimension, *sheet.columns.dimensions, *sheet.fixed]


def generic_tables(draw: Draw, layout: LayoutSpec) -> list[Table]:
    """Tables for a source without a shaped draw, from its template layout alone: per measure,
    one micro-table over the dimensions that two or more of its sheets show, and for each sheet
    that shows more, those split from the micro-table's margin on what they share."""
    tables: list[Table] = []
    measures = list(dict.fromkeys(sheet.measure for sheet in layout.sheets))
    for number, measure in enumerate(measures):
        sheets = [sheet for sheet in layout.sheets if sheet.measure == measure]
        counts: dict[str, int] = {}
        for sheet in sheets:
            for dimension in dict.fromkeys(_dimensions(sheet)):
                counts[dimension] = counts.get(dimension, 0) + 1
        core = [d for d, n in counts.items() if n > 1] or list(
            dict.fromkeys(_dimensions(sheets[0]))
        )
        weights = {dimension: _weights(draw, layout, dimension) for dimension in counts}
        total = round(draw.total * (1.0 if number == 0 else draw.rng.uniform(0.5, 0.9)))
        micro = cross(draw.rng, total, [(d, weights[d]) for d in core])
        tables.append(replace(micro, measure=measure))
        for sheet in sheets:
            extra = [d for d in dict.fromkeys(_dimensions(sheet)) if d not in core]
            if not extra:
                continue
            shared = [d for d in core if d in _dimensions(sheet)]
            tables.append(
                replace(_split_many(draw.rng, micro, shared, extra, weights), measure=measure)
            )
    return tables


def _split_many(
    rng: random.Random,
    table: Table,
    by: Sequence[str],
    extra: Sequence[str],
    weights: Mapping[str, Mapping[str, float]],
) -> Table:
    """A new table (``extra`` x ``by``): each total of ``by`` in ``table`` spread over the
    cross of ``extra``."""
    margins = aggregate(table, by) if by else {(): sum(table.cells.values())}
    cells: dict[tuple[str, ...], int] = {}
    for key, count in margins.items():
        if TOTAL in key:
            continue
        part = cross(rng, count, [(d, weights[d]) for d in extra], sigma=0.08)
        for extra_key, value in part.cells.items():
            cells[(*extra_key, *key)] = value
    return Table((*extra, *by), cells)


class DrawOptions(TypedDict, total=False):
    """How a submission departs from a plain draw: ``drop_month`` leaves a month out;
    ``extra_rows`` adds row labels outside the member list, each with that share of the row
    weights (``{"Wakanda": 0.01}``)."""

    drop_month: str | None
    extra_rows: Mapping[str, float] | None


class SampleMaker:
    """Builds the cell values of sample submissions from the specs, deterministically."""

    def __init__(self, seed: int = 0, specs: Specs | None = None) -> None:
        self.seed = seed
        self.specs = specs or load_specs()

    def rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(part) for part in (self.seed, *parts)))

    def draw(
        self, source_id: str, country_code: str, year: int, **options: Unpack[DrawOptions]
    ) -> Draw:
        """What the micro-tables of one submission are drawn from: its random streams and the
        magnitudes of the country spec (``sample:``), else of the source spec."""
        country = self.specs.country(country_code)
        source = self.specs.source(source_id)
        magnitude = country.sample.get(source_id) or source.sample
        level = year_factor(self.seed, country_code, source_id, year)
        return Draw(
            rng=self.rng(country_code, source_id, year),
            stable=self.rng(country_code, source_id, "mix"),
            source=source,
            country=country,
            magnitude=magnitude,
            total=round(magnitude.yearly_total * level),
            drop_month=options.get("drop_month"),
            extra_rows=options.get("extra_rows") or {},
        )

    def tables(
        self, source_id: str, country_code: str, year: int, **options: Unpack[DrawOptions]
    ) -> list[Table]:
        """The micro-tables the sheets of the submission are summed from (each sheet from the
        first table that :meth:`Table.draws` it)."""
        draw = self.draw(source_id, country_code, year, **options)
        maker = MAKERS.get(source_id)
        if maker is not None:
            return maker(draw)
        return generic_tables(draw, self.specs.template_layout(source_id))

    def values(
        self, source_id: str, country_code: str, year: int, **options: Unpack[DrawOptions]
    ) -> dict[str, dict[CellKey, CellValue]]:
        """Every data cell of the submission, summed from its micro-tables (zeros as "-";
        the cells of ``drop_month`` blank)."""
        source = self.specs.source(source_id)
        country = self.specs.country(country_code)
        layout = self.specs.template_layout(source_id)
        tables = self.tables(source_id, country_code, year, **options)
        drop_month = options.get("drop_month")
        result: dict[str, dict[CellKey, CellValue]] = {}
        for sheet in layout.sheets:
            table = next((table for table in tables if table.draws(sheet)), None)
            if table is None:
                raise ValueError(f"no sample table draws sheet {sheet.name} of {layout.id}")
            axes = [sheet.rows.dimension, *sheet.columns.dimensions]
            counts = aggregate(table, axes, sheet.fixed)
            rows = row_members(sheet, source, country)
            drawn = aggregate(table, axes[:1], sheet.fixed)
            added = [key[0] for key in drawn if key[0] not in rows and key[0] != TOTAL]
            columns = [[*members, TOTAL] for members in column_members(sheet, source, country)]
            cells: dict[CellKey, CellValue] = {}
            for key in product([*rows, *added, TOTAL], *columns):
                if drop_month is not None and drop_month in key:
                    cells[key] = None
                else:
                    cells[key] = counts.get(key, 0) or ZERO
            result[sheet.name] = cells
        return result
