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
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, Field, ValidationError, model_validator

from migstat.errors import SpecError
from migstat.home import SPECS_DIR
from migstat.model import Strict, Text
from migstat.units import known_unit

CountingUnit = Annotated[str, AfterValidator(known_unit)]
"""One of :data:`migstat.units.COUNTING_UNITS`."""
BorderType = Literal["AIR", "LAND", "SEA"]
Model = TypeVar("Model", bound=BaseModel)


MAX_EXACT = 2**53
"""Doubles hold every whole number below 2^53 exactly; a count at or above it cannot be stored."""


class Measure(Strict):
    title: Text
    unit: CountingUnit
    allow_decimals: bool = False
    max_value: float = Field(default=1e9, gt=0, lt=MAX_EXACT)
    """The largest plausible value of one cell of this measure, a yearly grand total included
    (rule VAL-005 quarantines a cell above it). Declared in every shipped source spec at about
    20-50 times the largest yearly total the region reports."""


class Dimension(Strict):
    title: Text
    codelist: str
    sdmx_id: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")
    """The dimension's id in the open data (SDMX, JSON-stat); the name in capitals unless
    given (``age_group`` is SDMX's cross-domain concept ``AGE``)."""


class CrossTableGroup(Strict):
    """Sheets whose reported totals must agree on the dimensions they share."""

    sheets: list[str] = Field(min_length=2)
    dimensions: list[str] = Field(default_factory=list)


class SourceMagnitude(Strict):
    """Sample data: yearly order of magnitude and mix of one source in one country."""

    yearly_total: float
    nationality_mix: dict[str, float] = Field(default_factory=dict)
    men_share: float = 0.5
    minors_share: float = 0.08


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
    sample: SourceMagnitude = SourceMagnitude(yearly_total=10_000)
    """Sample data (``migstat sample``) for a country whose spec gives no ``sample:`` entry for
    this source."""

    def dimension_names(self) -> list[str]:
        return list(self.dimensions)


class LabelSet(Strict):
    """Which row labels something applies to: labels as written (compared after normalisation:
    case, accents, punctuation and footnote markers do not matter), a regular expression searched
    in the normalised label, and/or the members of a code list. A plain list of strings in YAML
    is shorthand for ``labels``."""

    labels: list[str] = Field(default_factory=list)
    regex: str | None = None
    codelist: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        if isinstance(data, str):
            return {"labels": [data]}
        if isinstance(data, list):
            return {"labels": data}
        return data

    def is_empty(self) -> bool:
        return not (self.labels or self.regex or self.codelist)


class Level(Strict):
    """One level of a table's row hierarchy (outermost first): its aggregate rows add up the rows
    under them until the next row of the same or an outer level; its member rows are leaves that
    belong directly to the aggregate of the level above (e.g. "Apátridas" under "Extranjeros")."""

    aggregates: LabelSet = Field(default_factory=LabelSet)
    members: LabelSet = Field(default_factory=LabelSet)
    position: Literal["first", "last"] = "first"
    """Where an aggregate row stands: above the rows it adds up (``first``) or below them
    (``last``, as in "Total Centroamérica" written after its countries)."""
    dimension: str | None = None
    """A dimension whose value the aggregates of this level give to every row under them, as
    blocks do (e.g. ``residence``: "Residentes" / "No residentes", each split into nationals and
    foreigners)."""


class Blocks(Strict):
    """Stacked blocks: the same rows repeated under headings, one block per value of a fixed
    dimension (e.g. the national block, then one block per airport). A row whose label matches
    ``heading`` starts a block; its label (or group 1 of ``value_regex`` searched in it) is the
    block's label for ``dimension``; a heading matching ``total`` is the block of all values."""

    dimension: str
    heading: LabelSet
    value_regex: str | None = None
    total: LabelSet = Field(default_factory=lambda: LabelSet(regex=r"^total\b|\bnacional\b"))


class RowAxis(Strict):
    dimension: str
    label_column: str = "A"
    first_row: int
    levels: list[Level] = Field(default_factory=list)
    """The row hierarchy of a published table, outermost level first (optional)."""
    blocks: Blocks | None = None
    last_row: int | None = None
    """Rows after this one are never read (default: to the end of the sheet)."""
    members: str | None = None
    """Template only: a member list of the source spec, ``codelist:<name>``, or ``ports``."""
    extra_rows: int = 0
    """Template only: unlocked rows with a dropdown where the office adds members."""


class ColumnAxis(Strict):
    dimensions: list[str] = Field(min_length=1, max_length=2)
    header_rows: list[int] = Field(min_length=1, max_length=2)
    first_column: str = "B"
    last_column: str | None = None
    """Columns after this one are never read (default: to the last header)."""
    skip: LabelSet = Field(default_factory=LabelSet)
    """Columns whose header matches are not data (e.g. ``Var. %``, ``Estructura %``)."""
    members: list[str | None] = Field(default_factory=list)
    """Template only: per dimension, a member list, ``codelist:<name>``, or None for all codes."""

    @model_validator(mode="after")
    def _same_length(self) -> ColumnAxis:
        if len(self.dimensions) != len(self.header_rows):
            raise ValueError("columns: one header row per column dimension")
        return self


class SheetLayout(Strict):
    name: str
    """The sheet's name, or a regular expression with ``name_regex: true`` (e.g. ``'^\\d{4}$'``
    for sheets named after the year of each edition)."""
    name_regex: bool = False
    title: Text
    measure: str
    required: bool = True
    fixed: dict[str, str] = Field(default_factory=dict)
    rows: RowAxis
    columns: ColumnAxis


class Tolerance(Strict):
    """How far a reported (sub)total may be from the sum of its parts: the larger of an absolute
    amount and a share of the total (rounded estimates need it)."""

    absolute: float = Field(default=0.5, ge=0)
    relative: float = Field(default=0.0, ge=0, le=0.5)


class Reading(Strict):
    """How cell text is read; shared by every sheet of a layout."""

    zero_markers: list[str] = Field(default_factory=lambda: ["-", "—", "–"])
    missing_markers: list[str] = Field(
        default_factory=lambda: [
            *("n.d.", "n.d", "nd", "n/d", "...", "..", "s.d.", "s.d", "s/d"),
            *("n.a.", "n.a", "n/a", "na", "no disp.", "no disponible", "sin dato", "s/i"),
        ]
    )
    """Texts for "not available" (``...`` also matches the single ellipsis character)."""
    total_labels: list[str] = Field(
        default_factory=lambda: ["total", "total general", "totales", "gran total", "suma total"]
    )
    stop_label_regex: str | None = None
    """Rows from the first one whose label matches end the table (default: read to the end)."""
    note_label_regex: str = (
        r"^(fuente|fuentes|nota|notas|source|sources|note|notes|elaborad[oa]|cifras|"
        r"informaci[oó]n|datos|incluye|excluye|preliminar|\*|\(?\d{1,2}[/)]|[a-z][/)]\s)"
    )
    """Rows whose label matches are notes (at page ends, between blocks): skipped, never data."""
    derived_label_regex: str = (
        r"%|\bvariaci[oó]n\b|\bvar\.|\btasa\b|\bparticipaci[oó]n\b|\bestructura\b|"
        r"\bpercent|\bshare\b"
    )
    """Published tables only: rows and columns whose label matches hold figures derived from the
    table (``Variación % 2024/2023``, ``Var. %``, ``Participación``): skipped, never data."""
    continuation_regex: str = r"\((contin[uú]a(ci[oó]n)?|cont\.?|continued)\)|\bcontinuaci[oó]n\b"
    """A row whose label matches repeats the title or headers of a table printed over pages."""
    estimates: bool = False
    """The values are estimates (observation flag ``e``): decimals are legal."""
    scale: float = Field(default=1.0, gt=0)
    """What one unit of a cell stands for (``1000`` for a table "en miles")."""
    tolerance: Tolerance | None = None
    footnote_regex: str = r"(?:\s+\d{1,2}|\s*\(\d{1,2}\)|\*+|(?<=[a-záéíóúñ\)])\d{1,2})$"

    def compiled_stop(self) -> re.Pattern[str] | None:
        return re.compile(self.stop_label_regex, re.IGNORECASE) if self.stop_label_regex else None

    def compiled_note(self) -> re.Pattern[str]:
        return re.compile(self.note_label_regex, re.IGNORECASE)

    def compiled_derived(self) -> re.Pattern[str]:
        return re.compile(self.derived_label_regex, re.IGNORECASE)

    def compiled_continuation(self) -> re.Pattern[str]:
        return re.compile(self.continuation_regex, re.IGNORECASE)

    def compiled_footnote(self) -> re.Pattern[str]:
        return re.compile(self.footnote_regex, re.IGNORECASE)


class MetadataLayout(Strict):
    sheet: str
    cells: dict[str, str]
    """Metadata field -> cell holding its value (``country``, ``source``, ``year`` at least)."""


class Detection(Strict):
    """How the loader recognises a workbook written in this layout."""

    sheet: str
    """The sheet's name, or a regular expression with ``sheet_regex: true``."""
    sheet_regex: bool = False
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
    as ``field: 'sheet!cell/regex-with-one-group'`` or as a literal value. ``{sheet}`` in a
    reference is the name of the layout's first data sheet as found in the workbook, and
    ``'{sheet}/regex'`` reads the value from that name (a sheet named ``2024``)."""
    period: str | None = None
    """A reference (as in ``defaults``) to a text naming the period, such as ``enero-abril 2024``
    or ``Año 2.023``: the year and the first and last months are read from it. A range
    (``'Cuadro 5!A1:A4'``) takes its first cell that names a year, wherever an edition puts the
    period line. When the metadata also gives the period (a metadata sheet, or ``defaults`` read
    from the workbook such as a sheet named after its year), both must agree (STR-010): the
    year always, the months when the title names months."""
    reading: Reading = Field(default_factory=Reading)
    sheets: list[SheetLayout]

    def sheet(self, name: str) -> SheetLayout:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(name)

    @model_validator(mode="after")
    def _valid_patterns(self) -> LayoutSpec:
        patterns = [self.detect.pattern, self.reading.note_label_regex]
        patterns += [self.reading.continuation_regex, self.reading.stop_label_regex or ""]
        patterns += [self.reading.footnote_regex]
        for sheet in self.sheets:
            if sheet.name_regex:
                patterns.append(sheet.name)
            for level in sheet.rows.levels:
                patterns += [level.aggregates.regex or "", level.members.regex or ""]
            if sheet.rows.blocks is not None:
                blocks = sheet.rows.blocks
                patterns += [blocks.heading.regex or "", blocks.total.regex or ""]
                patterns.append(blocks.value_regex or "")
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression {pattern!r}: {exc}") from exc
        return self


class Port(Strict):
    code: str
    name: str
    border_type: BorderType
    weight: float = 1.0
    aliases: list[str] = Field(default_factory=list)
    """Other ways the country's publications write the port ("Tapachula, A.I.")."""


class CountrySpec(Strict):
    code: str
    name: Text
    institution: Text
    nationals_share_of_movements: float = 0.4
    ports: list[Port]
    sample: dict[str, SourceMagnitude] = Field(default_factory=dict)


SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (several times faster than the pure-Python one)."""


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
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
    """All specs of the shipped folder plus, optionally, a user's overlay folder with the same
    sub-folders (``$MIGSTAT_HOME/specs``): an overlay file replaces the shipped spec with the same
    id, other overlay files add specs. Cross-checked against each other."""

    def __init__(self, root: Path = SPECS_DIR, overlay: Path | None = None) -> None:
        self.root = root
        self.overlay = overlay if overlay is not None and overlay.is_dir() else None
        self.files: dict[str, Path] = {}
        """``<folder>/<id>`` -> the file the spec was read from (shipped or overlay)."""
        self.sources = {s.id: s for s in self._all(SourceSpec, "sources", "id")}
        self.layouts = {lay.id: lay for lay in self._all(LayoutSpec, "layouts", "id")}
        self.countries = {c.code: c for c in self._all(CountrySpec, "countries", "code")}
        self._check()

    def _all(self, model: type[Model], folder: str, key: str) -> list[Model]:
        found: dict[str, Model] = {}
        for base in (self.root, self.overlay):
            if base is None:
                continue
            for path in sorted((base / folder).glob("*.y*ml")):
                spec = _parse(model, path)
                spec_id = str(getattr(spec, key))
                found[spec_id] = spec
                self.files[f"{folder}/{spec_id}"] = path
        return list(found.values())

    def user_files(self) -> list[Path]:
        """The overlay files in use (what a user added under ``$MIGSTAT_HOME/specs``)."""
        if self.overlay is None:
            return []
        return sorted(p for p in self.files.values() if self.overlay in p.parents)

    def layout_file(self, layout_id: str) -> Path:
        return self.files[f"layouts/{layout_id}"]

    def _check(self) -> None:
        for source in self.sources.values():
            if source.layout not in self.layouts:
                raise SpecError(f"source {source.id} names unknown layout {source.layout}")
        for layout in self.layouts.values():
            where = str(self.layout_file(layout.id))
            owner = self.sources.get(layout.source)
            if owner is None:
                raise SpecError(f"layout names unknown source {layout.source}", file=where)
            for sheet in layout.sheets:
                used = [sheet.rows.dimension, *sheet.columns.dimensions, *sheet.fixed]
                if sheet.rows.blocks is not None:
                    used.append(sheet.rows.blocks.dimension)
                used += [level.dimension for level in sheet.rows.levels if level.dimension]
                unknown = [d for d in used if d not in owner.dimensions]
                if unknown:
                    raise SpecError(
                        f"unknown dimension(s) {unknown} for source {owner.id}",
                        file=where,
                        sheet=sheet.name,
                    )
                if sheet.measure not in owner.measures:
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


def user_specs_dir() -> Path:
    """Where a user's own specs live: ``$MIGSTAT_HOME/specs``."""
    from migstat.home import Home

    return Home.from_env().root / "specs"


def load_specs(root: Path = SPECS_DIR, overlay: Path | None = None) -> Specs:
    """The shipped specs overlaid with the user's (``$MIGSTAT_HOME/specs`` unless given)."""
    return _load_specs(root, overlay if overlay is not None else user_specs_dir())


@cache
def _load_specs(root: Path, overlay: Path) -> Specs:
    return Specs(root, overlay)


def load_layout_file(path: Path) -> LayoutSpec:
    """One layout file outside any specs folder (``migstat layout check --layout PATH``)."""
    return _parse(LayoutSpec, path)


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
