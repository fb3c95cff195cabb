"""Typed, validated views of the declarative specs in ``specs/``.

Three kinds of spec, one YAML file each:

* a **source** (``specs/sources/<id>.yml``): a kind of register, its measures and counting units,
  its dimensions and their code lists, the member lists its template uses, and its rules;
* a **layout** (``specs/layouts/<id>.yml``): where a workbook keeps its metadata and numbers, sheet
  by sheet; the standardized templates are layouts too;
* a **country** (``specs/countries/<ISO3>.yml``): a reporting country, its institution, ports of
  entry and the magnitudes used to make realistic sample submissions.

Adding a source or a country means adding a file here, not code.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from migstat.errors import SpecError
from migstat.home import SPECS_DIR

CountingUnit = Literal["events", "persons", "permits", "applications", "decisions"]
BorderType = Literal["AIR", "LAND", "SEA"]
Model = TypeVar("Model", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text users read: Spanish first, English second."""

    es: str
    en: str


class Measure(Strict):
    title: Text
    unit: CountingUnit
    allow_decimals: bool = False


class Dimension(Strict):
    title: Text
    codelist: str


class CrossTableGroup(Strict):
    """Sheets whose reported totals must agree on the dimensions they share."""

    sheets: list[str] = Field(min_length=2)
    dimensions: list[str] = Field(default_factory=list)


class SourceSpec(Strict):
    id: str
    title: Text
    description: Text
    measures: dict[str, Measure]
    dimensions: dict[str, Dimension]
    member_lists: dict[str, list[str]] = Field(default_factory=dict)
    layout: str
    cross_table: list[CrossTableGroup] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)

    def dimension_names(self) -> list[str]:
        return list(self.dimensions)


class RowAxis(Strict):
    dimension: str
    label_column: str = "A"
    first_row: int
    members: str | None = None
    """Template only: a member list of the source spec, ``codelist:<name>``, or ``ports``."""
    extra_rows: int = 0
    """Template only: unlocked rows with a dropdown where the office adds members."""


class ColumnAxis(Strict):
    dimensions: list[str] = Field(min_length=1, max_length=2)
    header_rows: list[int] = Field(min_length=1, max_length=2)
    first_column: str = "B"
    members: list[str | None] = Field(default_factory=list)
    """Template only: per dimension, a member list, ``codelist:<name>``, or None for all codes."""

    @model_validator(mode="after")
    def _same_length(self) -> ColumnAxis:
        if len(self.dimensions) != len(self.header_rows):
            raise ValueError("columns: one header row per column dimension")
        return self


class SheetLayout(Strict):
    name: str
    title: Text
    measure: str
    required: bool = True
    fixed: dict[str, str] = Field(default_factory=dict)
    rows: RowAxis
    columns: ColumnAxis
    subtotal_codelist: str | None = None
    """Rows whose label resolves in this code list (e.g. ``regions``) are reported subtotals."""


class Reading(Strict):
    """How cell text is read; shared by every sheet of a layout."""

    zero_markers: list[str] = Field(default_factory=lambda: ["-", "—", "–"])
    missing_markers: list[str] = Field(default_factory=lambda: ["n.d.", "nd", "...", "..", "s.d."])
    total_labels: list[str] = Field(default_factory=lambda: ["total", "total general", "totales"])
    stop_label_regex: str = r"^(fuente|nota|notas|source|note|notes|\*)\b"
    footnote_regex: str = r"(?:\s+\d{1,2}|\s*\(\d{1,2}\)|\*+|(?<=[a-záéíóúñ\)])\d{1,2})$"

    def compiled_stop(self) -> re.Pattern[str]:
        return re.compile(self.stop_label_regex, re.IGNORECASE)

    def compiled_footnote(self) -> re.Pattern[str]:
        return re.compile(self.footnote_regex, re.IGNORECASE)


class MetadataLayout(Strict):
    sheet: str
    cells: dict[str, str]
    """Metadata field -> cell holding its value (``country``, ``source``, ``year`` at least)."""


class Detection(Strict):
    """How the loader recognises a workbook written in this layout."""

    sheet: str
    cell: str
    pattern: str
    """A regular expression the cell's text must match (case-insensitive)."""


class LayoutSpec(Strict):
    id: str
    source: str
    kind: Literal["template", "published"]
    title: Text
    detect: Detection
    metadata: MetadataLayout | None = None
    defaults: dict[str, str] = Field(default_factory=dict)
    """Metadata values that a layout without a metadata sheet takes from the title block,
    as ``field: 'sheet!cell/regex-with-one-group'`` or as a literal value."""
    reading: Reading = Field(default_factory=Reading)
    sheets: list[SheetLayout]

    def sheet(self, name: str) -> SheetLayout:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(name)


class Port(Strict):
    code: str
    name: str
    border_type: BorderType
    weight: float = 1.0


class SourceMagnitude(Strict):
    """Sample data: yearly order of magnitude and mix of one source in one country."""

    yearly_total: float
    nationality_mix: dict[str, float] = Field(default_factory=dict)
    men_share: float = 0.5
    minors_share: float = 0.08


class CountrySpec(Strict):
    code: str
    name: Text
    institution: Text
    nationals_share_of_movements: float = 0.4
    ports: list[Port]
    sample: dict[str, SourceMagnitude] = Field(default_factory=dict)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError(f"not valid YAML: {exc}", file=str(path)) from exc
    if not isinstance(data, dict):
        raise SpecError("a spec file must hold a mapping", file=str(path))
    return data


def _parse(model: type[Model], path: Path) -> Model:
    try:
        return model.model_validate(_read_yaml(path))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SpecError(f"invalid spec: {problems}", file=str(path)) from exc


class Specs:
    """All specs of one folder, cross-checked against each other."""

    def __init__(self, root: Path = SPECS_DIR) -> None:
        self.root = root
        self.sources = {s.id: s for s in self._all(SourceSpec, "sources")}
        self.layouts = {lay.id: lay for lay in self._all(LayoutSpec, "layouts")}
        self.countries = {c.code: c for c in self._all(CountrySpec, "countries")}
        self._check()

    def _all(self, model: type[Model], folder: str) -> list[Model]:
        return [_parse(model, path) for path in sorted((self.root / folder).glob("*.yml"))]

    def _check(self) -> None:
        for source in self.sources.values():
            if source.layout not in self.layouts:
                raise SpecError(f"source {source.id} names unknown layout {source.layout}")
        for layout in self.layouts.values():
            where = str(self.root / "layouts" / f"{layout.id}.yml")
            source = self.sources.get(layout.source)
            if source is None:
                raise SpecError(f"layout names unknown source {layout.source}", file=where)
            for sheet in layout.sheets:
                used = [sheet.rows.dimension, *sheet.columns.dimensions, *sheet.fixed]
                unknown = [d for d in used if d not in source.dimensions]
                if unknown:
                    raise SpecError(
                        f"unknown dimension(s) {unknown} for source {source.id}",
                        file=where,
                        sheet=sheet.name,
                    )
                if sheet.measure not in source.measures:
                    raise SpecError(
                        f"unknown measure {sheet.measure}", file=where, sheet=sheet.name
                    )

    def source(self, source_id: str) -> SourceSpec:
        try:
            return self.sources[source_id]
        except KeyError:
            known = ", ".join(sorted(self.sources))
            raise SpecError(f"unknown source {source_id!r} (known: {known})") from None

    def country(self, code: str) -> CountrySpec:
        try:
            return self.countries[code.upper()]
        except KeyError:
            known = ", ".join(sorted(self.countries))
            raise SpecError(f"unknown reporting country {code!r} (known: {known})") from None

    def template_layout(self, source_id: str) -> LayoutSpec:
        return self.layouts[self.source(source_id).layout]


@cache
def load_specs(root: Path = SPECS_DIR) -> Specs:
    return Specs(root)


def column_letter_to_index(letters: str) -> int:
    """``A`` -> 0, ``AB`` -> 27."""
    index = 0
    for char in letters.upper():
        index = index * 26 + (ord(char) - 64)
    return index - 1


def index_to_column_letter(index: int) -> str:
    """0 -> ``A``, 27 -> ``AB``."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row_index: int, column_index: int) -> str:
    """Zero-based (row, column) -> ``B7``."""
    return f"{index_to_column_letter(column_index)}{row_index + 1}"
