"""Published datasets as data structures: one per source and counting unit, plus the indicators.

A dataset is read from the marts (``fct_observations`` and ``indicators``) and described by its
dimensions, each with a bilingual code list taken from the warehouse's code lists (countries,
M49 regions, ``codes.code_lists``, age groups, ports), its measure, counting unit and attributes
(observation flag, note, unit). Which dimensions a dataset has is read from the warehouse:
a candidate column is a dimension when the mart has it and the dataset has a value in it.
SDMX and JSON-stat files (``sdmx.py``, ``jsonstat.py``) are written from these objects.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from migstat import units
from migstat.publish.data import TOTAL, Warehouse
from migstat.publish.i18n import FLAGS, counting_unit_label
from migstat.specs import Dimension as SpecDimension
from migstat.specs import Specs, load_specs
from migstat.translations import N_, translations
from migstat.wiring import observation_dimensions

AGENCY = "MIGSTAT"
VERSION = "1.0"
MEASURE = "OBS_VALUE"


@dataclass(frozen=True)
class Label:
    es: str
    en: str

    def get(self, lang: str) -> str:
        return self.es if lang == "es" else self.en

    def format(self, es: dict[str, str], en: dict[str, str]) -> Label:
        return Label(self.es.format_map(es), self.en.format_map(en))


def _(text: str) -> Label:
    """A text of the open data in Spanish (its catalogue) and English (the msgid itself)."""
    return Label(translations("es").gettext(text), text)


DESCRIPTION = N_("Published detail cells of the register “{source}”; counting unit: {unit}.")


@dataclass(frozen=True)
class Code:
    id: str
    name: Label
    parent: str | None = None
    """Code of the group it belongs to (the M49 sub-region of a country), if any."""


@dataclass(frozen=True)
class DimensionSpec:
    """A candidate dimension: its SDMX id, the mart column and where its labels come from."""

    id: str
    column: str
    name: Label
    codes: str
    """``countries``, ``age_groups``, ``ports``, ``months``, ``year``, ``regions``,
    ``indicators`` or a ``codes.code_lists`` list."""


REF_AREA = DimensionSpec("REF_AREA", "reporting_country_code", _("Reporting country"), "countries")
TIME_PERIOD = DimensionSpec("TIME_PERIOD", "year", _("Year"), "year")
INDICATOR = DimensionSpec("INDICATOR", "indicator_id", _("Indicator"), "indicators")
DERIVED: dict[str, tuple[DimensionSpec, ...]] = {
    "nationality": (
        DimensionSpec(
            "TRAVELLER_TYPE",
            "traveller_type",
            _("Traveller type"),
            "traveller_types",
        ),
        DimensionSpec(
            "REGION",
            "region_code",
            _("Region of nationality"),
            "regions",
        ),
    ),
    "port": (DimensionSpec("BORDER_TYPE", "border_type", _("Border type"), "border_types"),),
}
"""Dimensions no spec declares because the marts derive them from a spec dimension (the key):
whether a traveller is a national, the M49 region of a nationality, the kind of border of a
port. Every other dimension comes from the source specs (:func:`dimension_specs`)."""


def _spec_dimension(name: str, dimension: SpecDimension, columns: Collection[str]) -> DimensionSpec:
    column = name if name in columns else f"{name}_code"
    title = Label(dimension.title.es, dimension.title.en)
    return DimensionSpec(dimension.sdmx_id or name.upper(), column, title, dimension.codelist)


def dimension_specs(
    specs: Specs, columns: Collection[str], source: str | None = None
) -> list[DimensionSpec]:
    """The candidate dimensions of a mart with ``columns``: the reporting country and year, then
    the dimensions the specs declare (of ``source`` only, if given and known; titles from that
    source's spec, else from the first source declaring the dimension) in the long grain's
    display order (a month first), each followed by the dimensions the marts derive from it.
    Only those with a column in the mart are returned."""
    declared: dict[str, SpecDimension] = {}
    for source_id in sorted(specs.sources):
        if source in specs.sources and source_id != source:
            continue
        for name, dimension in specs.sources[source_id].dimensions.items():
            declared.setdefault(name, dimension)
    candidates: list[DimensionSpec] = []
    for name in observation_dimensions(specs):
        if name in declared:
            candidates.append(_spec_dimension(name, declared[name], columns))
            candidates.extend(DERIVED.get(name, ()))
    # the month follows the year: time together, then the rest in the display order
    candidates.sort(key=lambda c: c.codes != "months")
    return [c for c in (REF_AREA, TIME_PERIOD, *candidates) if c.column in columns]


SPECIAL = {
    TOTAL: _("Total"),
    "_U": _("Not specified"),
    "_Z": _("Not applicable"),
}
UNITS = {
    "count": N_("number"),
    "percent": N_("percent"),
    "share": N_("proportion"),
    "rate": N_("rate"),
    "change": N_("change"),
}
"""Units of an indicator's value in the open data (English msgids, :mod:`migstat.translations`)."""
ATTRIBUTES = {
    "OBS_STATUS": _("Observation status"),
    "UNIT_MEASURE": _("Counting unit"),
    "COMMENT_OBS": _("Note"),
}


@dataclass
class Dimension:
    id: str
    name: Label
    codes: list[Code]
    groups: dict[str, Label] = field(default_factory=dict)
    """Labels of the groups the codes belong to (M49 sub-regions of countries)."""


@dataclass
class Observation:
    key: tuple[str, ...]
    value: float | None
    flag: str | None
    unit: str
    note: str | None = None


@dataclass
class Dataset:
    """One published dataset: structure and observations."""

    id: str
    name: Label
    description: Label
    counting_unit: str | None
    dimensions: list[Dimension]
    observations: list[Observation]
    submissions: list[dict[str, object]] = field(default_factory=list)
    last_update: str | None = None

    @property
    def dsd_id(self) -> str:
        return "DSD_" + self.id.upper()

    @property
    def dataflow_id(self) -> str:
        return "DF_" + self.id.upper()

    def unit_codes(self) -> list[Code]:
        used = sorted({o.unit for o in self.observations})
        return [Code(u, unit_label(u)) for u in used]


def unit_label(code: str) -> Label:
    if code in units.COUNTING_UNITS:
        return Label(counting_unit_label(code, "es"), counting_unit_label(code, "en"))
    if "." in code:
        unit, counting = code.split(".", 1)
        a, b = unit_label(unit), unit_label(counting)
        return Label(f"{a.es}, {b.es}", f"{a.en}, {b.en}")
    if code in UNITS:
        return Label(translations("es").gettext(UNITS[code]), UNITS[code])
    return Label(code, code)


def flag_codes() -> list[Code]:
    return [Code(k, Label(es, en)) for k, (es, en) in FLAGS.items()]


class _Labels:
    """Bilingual labels of every code list, read once from the warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.lists: dict[str, dict[str, Code]] = {}
        tables = {
            f"{r['table_schema']}.{r['table_name']}"
            for r in warehouse.records(
                "select table_schema, table_name from information_schema.tables"
            )
        }
        if "codes.code_lists" in tables:
            for r in warehouse.records(
                "select codelist, code, name_es, name_en from codes.code_lists order by sort_order"
            ):
                self._add(str(r["codelist"]), str(r["code"]), r["name_es"], r["name_en"])
        for r in warehouse.records(
            "select country_code, name_es, name_en, subregion_code from marts.dim_countries "
            "order by country_code"
        ):
            self._add(
                "countries", str(r["country_code"]), r["name_es"], r["name_en"], r["subregion_code"]
            )
        if "codes.m49_regions" in tables:
            for r in warehouse.records(
                "select region_code, name_es, name_en from codes.m49_regions order by region_code"
            ):
                self._add("regions", str(r["region_code"]), r["name_es"], r["name_en"])
        for r in warehouse.records(
            "select age_group_code, name_es, name_en from marts.dim_age_groups order by sort_order"
        ):
            self._add("age_groups", str(r["age_group_code"]), r["name_es"], r["name_en"])
        if "marts.dim_ports" in tables:
            for r in warehouse.records(
                "select port_code, name from marts.dim_ports order by port_code"
            ):
                self._add("ports", str(r["port_code"]), r["name"], r["name"])
        if "marts.indicators" in tables:
            for r in warehouse.records(
                "select distinct indicator_id, name_es, name_en from marts.indicators "
                "order by indicator_id"
            ):
                self._add("indicators", str(r["indicator_id"]), r["name_es"], r["name_en"])

    def _add(self, codelist: str, code: str, es: object, en: object, parent: object = None) -> None:
        label = Label(str(es or en or code), str(en or es or code))
        self.lists.setdefault(codelist, {})[code] = Code(code, label, str(parent or "") or None)

    def code(self, codelist: str, code: str) -> Code:
        found = self.lists.get(codelist, {}).get(code)
        if found:
            return found
        return Code(code, SPECIAL.get(code, Label(code, code)))

    def order(self, codelist: str, codes: set[str]) -> list[Code]:
        known = [c for c in self.lists.get(codelist, {}) if c in codes]
        rest = sorted(codes - set(known), key=lambda c: (c.startswith("_"), c))
        if codelist == "countries":
            known = sorted(known, key=lambda c: self.code(codelist, c).name.es)
        ordered = known + rest
        if TOTAL in ordered:
            ordered.remove(TOTAL)
            ordered.insert(0, TOTAL)
        return [self.code(codelist, c) for c in ordered]


def _columns(warehouse: Warehouse, table: str) -> dict[str, str]:
    return {
        str(r["column_name"]): str(r["data_type"])
        for r in warehouse.records(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = $table",
            {"table": table},
        )
    }


def _code_text(spec: DimensionSpec, value: object) -> str:
    if value is None:
        return TOTAL
    if spec.codes == "months":
        return f"{int(value):02d}"  # type: ignore[call-overload]
    return str(value)


def _build(
    dataset_id: str,
    name: Label,
    description: Label,
    counting_unit: str | None,
    specs: list[DimensionSpec],
    rows: list[dict[str, object]],
    labels: _Labels,
) -> Dataset:
    used = [
        s
        for s in specs
        if any(r.get(s.column) not in (None, TOTAL) for r in rows) or s.id == "TIME_PERIOD"
    ]
    observations: dict[tuple[str, ...], Observation] = {}
    for r in rows:
        key = tuple(_code_text(s, r.get(s.column)) for s in used)
        if key in observations:
            continue  # the same cell in two cross-classifications: one is published
        value = r["value"]
        observations[key] = Observation(
            key=key,
            value=None if value is None else float(value),  # type: ignore[arg-type]
            flag=str(r["obs_flag"]) if r.get("obs_flag") else None,
            unit=str(r["unit"]),
            note=str(r["note"]) if r.get("note") else None,
        )
    dimensions = []
    for i, spec in enumerate(used):
        values = {k[i] for k in observations}
        if spec.codes == "year":
            codes = [Code(v, Label(v, v)) for v in sorted(values)]
        else:
            codes = labels.order(spec.codes, values)
        groups = {c.parent: labels.code("regions", c.parent).name for c in codes if c.parent}
        dimensions.append(Dimension(spec.id, spec.name, codes, groups))
    return Dataset(
        id=dataset_id,
        name=name,
        description=description,
        counting_unit=counting_unit,
        dimensions=dimensions,
        observations=sorted(observations.values(), key=lambda o: o.key),
    )


def _submissions(warehouse: Warehouse, source: str, ids: list[object]) -> list[dict[str, object]]:
    columns = _columns(warehouse, "quality_submissions")
    if not ids or "submission_id" not in columns:
        return []
    wanted = [
        c
        for c in ("submission_id", "country_code", "period", "file_name", "version", "loaded_at")
        if c in columns
    ]
    records = warehouse.records(
        f"select {', '.join(wanted)} from marts.quality_submissions "
        "where source = $source order by submission_id",
        {"source": source},
    )
    keep = {str(i) for i in ids}
    return [
        {k: (str(v) if v is not None and k == "loaded_at" else v) for k, v in r.items()}
        for r in records
        if str(r["submission_id"]) in keep
    ]


def load_datasets(
    warehouse: Warehouse, only: str | None = None, specs: Specs | None = None
) -> list[Dataset]:
    """Every published dataset of the warehouse (or only the one named ``only``), its
    dimensions from the source specs (:func:`dimension_specs`)."""
    specs = specs if specs is not None else load_specs()
    labels = _Labels(warehouse)
    datasets: list[Dataset] = []
    fct = _columns(warehouse, "fct_observations")
    sources = warehouse.records(
        "select s.source, s.counting_unit, s.measure, s.source_title_es, s.source_title_en, "
        "count(*) over (partition by s.source) as units from marts.dim_sources as s "
        "order by s.source, s.counting_unit"
    )
    for src in sources:
        source, unit = str(src["source"]), str(src["counting_unit"])
        dataset_id = source if src["units"] == 1 else f"{source}_{unit}"
        if only and only != dataset_id:
            continue
        dims = dimension_specs(specs, fct, source)
        extra = ", submission_id" if "submission_id" in fct else ""
        rows = warehouse.records(
            f"select {', '.join(d.column for d in dims)}, value, obs_flag, "
            f"counting_unit as unit{extra} from marts.fct_observations "
            "where source = $source and counting_unit = $unit "
            f"order by sheet, breakdown, {', '.join(d.column for d in dims)}, value, obs_flag",
            {"source": source, "unit": unit},
        )
        if not rows:
            continue
        unit_name = unit_label(unit)
        dataset = _build(
            dataset_id,
            Label(
                f"{src['source_title_es']} ({unit_name.es})",
                f"{src['source_title_en']} ({unit_name.en})",
            ),
            _(DESCRIPTION).format(
                {"source": str(src["source_title_es"]), "unit": unit_name.es},
                {"source": str(src["source_title_en"]), "unit": unit_name.en},
            ),
            unit,
            dims,
            rows,
            labels,
        )
        ids: list[object] = [
            *sorted(
                {int(str(r["submission_id"])) for r in rows if r.get("submission_id") is not None}
            )
        ]
        dataset.submissions = _submissions(warehouse, source, ids)
        loaded = [str(s["loaded_at"]) for s in dataset.submissions if s.get("loaded_at")]
        dataset.last_update = max(loaded) if loaded else None
        datasets.append(dataset)
    if (only is None or only == "indicators") and _columns(warehouse, "indicators"):
        datasets.append(_indicators(warehouse, labels, specs))
    return datasets


def _indicators(warehouse: Warehouse, labels: _Labels, specs: Specs) -> Dataset:
    columns = _columns(warehouse, "indicators")
    typed = {name for name, data_type in columns.items() if data_type != '"NULL"'}
    dims = [INDICATOR, *dimension_specs(specs, typed)]
    rows = warehouse.records(
        f"select {', '.join(d.column for d in dims)}, value, obs_flag, "
        "unit || '.' || counting_unit as unit from marts.indicators order by all"
    )
    return _build(
        "indicators",
        _("Comparable indicators"),
        _(
            "Indicators computed the same way for every country from the accepted "
            "submissions; each carries its counting unit."
        ),
        None,
        dims,
        rows,
        labels,
    )
