"""Drawing integer counts: micro-tables over the full cross of some dimensions, split and
summed so that every sheet, total and cross-sheet total of a sample agrees exactly.

Everything is drawn from ``random.Random`` seeded by ``(seed, country, source, year)``: the same
seed gives the same numbers, in any order.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import TypeVar

from migstat.specs import CountrySpec, SheetLayout, SourceMagnitude, SourceSpec
from migstat.workbooks.template import TOTAL, CellKey

MONTHS = [f"{month:02d}" for month in range(1, 13)]

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


@dataclass(frozen=True)
class Table:
    """Integer counts over the full cross of some dimensions (absent keys count zero)."""

    dimensions: tuple[str, ...]
    cells: dict[tuple[str, ...], int]
    fixed: Mapping[str, str] = field(default_factory=dict)
    """Values of dimensions the table does not vary (``{"flow": "ENT"}``): it draws only the
    sheets whose ``fixed`` agree."""
    measure: str | None = None
    """The measure it counts, when the source has several (it draws only that measure's
    sheets)."""

    def draws(self, sheet: SheetLayout) -> bool:
        """Whether this table holds the numbers of ``sheet``."""
        axes = {sheet.rows.dimension, *sheet.columns.dimensions}
        own_fixed = {k: v for k, v in sheet.fixed.items() if k not in self.dimensions}
        return (
            axes <= set(self.dimensions)
            and all(own_fixed.get(k) == v for k, v in self.fixed.items())
            and self.measure in (None, sheet.measure)
        )

    def margin(self, dimension: str) -> dict[str, int]:
        position = self.dimensions.index(dimension)
        totals: dict[str, int] = {}
        for key, count in self.cells.items():
            totals[key[position]] = totals.get(key[position], 0) + count
        return totals


Key = TypeVar("Key")


def apportion(total: int, weights: Mapping[Key, float]) -> dict[Key, int]:
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


def noisy(rng: random.Random, weights: Mapping[str, float], sigma: float) -> dict[str, float]:
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
        for member, part in apportion(count, noisy(rng, weights, sigma)).items():
            cells[(member, code)] = part
    return Table((dimension, by), cells)


def year_factor(seed: int, country: str, source: str, year: int) -> float:
    """Level of ``year`` relative to the spec's magnitude: a trend of a few per cent a year."""
    trend_rng = random.Random(f"{seed}:{country}:{source}:trend")
    growth = trend_rng.gauss(0.04, 0.04)
    wobble = random.Random(f"{seed}:{country}:{source}:{year}:level").gauss(0.0, 0.03)
    return math.exp(growth * (year - 2023) + wobble)


def member_weights(
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


def month_weights(rng: random.Random, profile: Sequence[float]) -> dict[str, float]:
    return {
        month: weight * rng.lognormvariate(0.0, 0.04)
        for month, weight in zip(MONTHS, profile, strict=True)
    }


def age_weights(
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
        weights = member_weights(self.rng, self.magnitude, members, exclude, self.stable)
        weight_sum = sum(weights.values())
        weights.update({label: share * weight_sum for label, share in self.extra_rows.items()})
        return weights

    def season(self, profile: Sequence[float]) -> dict[str, float]:
        months = month_weights(self.rng, profile)
        if self.drop_month is not None:
            months[self.drop_month] = 0.0
        return months

    def sexes(self) -> dict[str, float]:
        return {"M": self.magnitude.men_share, "F": 1.0 - self.magnitude.men_share}

    def ages(self, adults: Mapping[str, float]) -> dict[str, float]:
        bands = self.source.member_lists["age_bands"]
        return age_weights(bands, self.magnitude.minors_share, adults)


def aggregate(
    table: Table, axes: Sequence[str], where: Mapping[str, str] | None = None
) -> dict[CellKey, int]:
    """Sums of ``table`` over every (member or ``_T``) combination of ``axes``, counting only
    the cells whose dimensions named in ``where`` have those values."""
    positions = [table.dimensions.index(axis) for axis in axes]
    filters = [
        (table.dimensions.index(name), value)
        for name, value in (where or {}).items()
        if name in table.dimensions
    ]
    sums: dict[CellKey, int] = {}
    for key, count in table.cells.items():
        if not count or any(key[position] != value for position, value in filters):
            continue
        for combination in product(*([key[position], TOTAL] for position in positions)):
            sums[combination] = sums.get(combination, 0) + count
    return sums
