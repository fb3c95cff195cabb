"""Published datasets as data structures: one per source and counting unit, plus the indicators.

A dataset is read from the marts (``fct_observations`` and ``indicators``) and described by its
dimensions, each with a bilingual code list taken from the warehouse's code lists (countries,
M49 regions, ``codes.code_lists``, age groups, ports), its measure, counting unit and attributes
(observation flag, note, unit). Which dimensions a dataset has is read from the warehouse:
a candidate column is a dimension when the mart has it and the dataset has a value in it.
SDMX and JSON-stat files (``sdmx.py``, ``jsonstat.py``) are written from these objects.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import duckdb
import numpy as np
import pyarrow as pa

from migstat import units
from migstat.errors import MigstatError
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


class Observation(NamedTuple):
    """One published cell: its key (a code per dimension), value, flag, unit and note."""

    key: tuple[str, ...]
    value: float | None
    flag: str | None
    unit: str
    note: str | None = None


@dataclass(frozen=True)
class Query:
    """How a dataset's observations are read from the warehouse: every cell of ``base`` with
    one key column per used dimension (``k0``, ``k1``...), the value, flag and unit; cells of
    the same key after the first in ``tiebreak`` order are left out (the same cell in two
    cross-classifications is published once)."""

    base: str
    params: dict[str, object]
    keys: tuple[str, ...]
    """SQL of each key column over ``base`` (the code text of the dimension, ``_T`` for none)."""
    tiebreak: tuple[str, ...]
    whole: bool = False
    """Every value is empty or a whole number from 0 to below 10**15 (none is -0.0), so its text
    in the files (``str(float)`` in SDMX-CSV, the integer in JSON-stat) can be made in SQL."""
    flags: tuple[str, ...] = ()
    """The observation flags of ``base`` (distinct, empty ones left out)."""

    def observations_sql(self) -> str:
        """Distinct keys, each with its first cell's value, flag and unit; ordered by key.
        Only the keys held by more than one cell (found by a hash aggregate: few) go through
        the window that picks the first; the others are taken as they are (the same rows as
        the window over every cell, without sorting every cell by key and tiebreak)."""
        keys = ", ".join(f"{sql} as k{i}" for i, sql in enumerate(self.keys))
        names = ", ".join(f"k{i}" for i in range(len(self.keys)))
        shared = ", ".join(f"{sql} as s{i}" for i, sql in enumerate(self.keys))
        on = " and ".join(f"k{i} = shared_.s{i}" for i in range(len(self.keys)))
        order = [c for c in dict.fromkeys(self.tiebreak) if c not in ("value", "obs_flag", "unit")]
        # three scans of ``base`` carrying only what each needs (cheaper than one materialised
        # with every column at scale: it spills)
        return (
            f"with shared_ as (select {shared} from ({self.base}) group by all "
            "having count(*) > 1) "
            f"select {names}, value, obs_flag, unit from (select {keys}, value, obs_flag, unit "
            f"from ({self.base})) anti join shared_ on ({on}) "
            f"union all select {names}, value, obs_flag, unit from ("
            f"select *, row_number() over (partition by {names} order by "
            f"{', '.join(self.tiebreak)}) as rn_ from (select {keys}, value, obs_flag, unit, "
            f"{', '.join(order)} from ({self.base})) semi join shared_ on ({on})"
            ") where rn_ = 1"
        )


@dataclass
class Dataset:
    """One published dataset: its structure and how to read its observations (never all held
    in memory: writers stream them in chunks, :func:`observations`)."""

    id: str
    name: Label
    description: Label
    counting_unit: str | None
    dimensions: list[Dimension]
    count: int
    """Number of observations."""
    units: list[str]
    """Units of the observations (sorted)."""
    query: Query
    submissions: list[dict[str, object]] = field(default_factory=list)
    last_update: str | None = None

    @property
    def dsd_id(self) -> str:
        return "DSD_" + self.id.upper()

    @property
    def dataflow_id(self) -> str:
        return "DF_" + self.id.upper()

    def unit_codes(self) -> list[Code]:
        return [Code(u, unit_label(u)) for u in self.units]

    def describe(self) -> str:
        """Everything of the dataset but its observations, as text (for the data API's digest)."""
        return repr(
            (
                self.id,
                self.name,
                self.description,
                self.counting_unit,
                self.dimensions,
                self.count,
                self.units,
                self.submissions,
                self.last_update,
            )
        )


CHUNK_ROWS = 50_000
"""Observations fetched from DuckDB at a time: the writers' memory does not grow with the
number of observations."""


def _chunks(
    warehouse: Warehouse, sql: str, params: dict[str, object], chunk_rows: int
) -> Iterator[list[tuple[Any, ...]]]:
    cursor = warehouse.stream(sql, params)
    while True:
        try:
            rows = cursor.fetchmany(chunk_rows)
        except duckdb.Error as exc:
            raise MigstatError(f"open data query failed: {exc}\n{sql}") from exc
        if not rows:
            return
        yield rows


def observations(
    warehouse: Warehouse, dataset: Dataset, chunk_rows: int = CHUNK_ROWS
) -> Iterator[list[Observation]]:
    """The dataset's observations in key order, ``chunk_rows`` at a time."""
    n = len(dataset.dimensions)
    names = ", ".join(f"k{i}" for i in range(n))
    sql = f"{dataset.query.observations_sql()} order by {names}"
    for rows in _chunks(warehouse, sql, dataset.query.params, chunk_rows):
        yield [
            Observation(
                tuple(row[:n]),
                None if row[n] is None else float(row[n]),
                str(row[n + 1]) if row[n + 1] else None,
                str(row[n + 2]),
            )
            for row in rows
        ]


def _positioned_sql(dataset: Dataset, columns: str) -> tuple[str, dict[str, object]]:
    """SQL of the observations with ``flat``, their flat index in the cube of the dimensions'
    codes (JSON-stat's row-major order), selecting ``columns`` over ``flat`` and ``o`` (the
    observation), in flat index order; and its parameters."""
    size = [len(d.codes) for d in dataset.dimensions]
    strides = [1] * len(size)
    for i in range(len(size) - 2, -1, -1):
        strides[i] = strides[i + 1] * size[i + 1]
    params = dict(dataset.query.params)
    joins = []
    flat = []
    for i, dim in enumerate(dataset.dimensions):
        params[f"codes_{i}"] = [c.id for c in dim.codes]
        joins.append(
            f"join (select unnest($codes_{i}) as code, "
            f"generate_subscripts($codes_{i}, 1) - 1 as pos) as p{i} on p{i}.code = o.k{i}"
        )
        flat.append(f"p{i}.pos::bigint * {strides[i]}")
    sql = (
        f"select {columns} from (select {' + '.join(flat) or '0'} as flat, o.value, o.obs_flag "
        f"from ({dataset.query.observations_sql()}) as o {' '.join(joins)}) order by flat"
    )
    return sql, params


def positioned(
    warehouse: Warehouse, dataset: Dataset, chunk_rows: int = CHUNK_ROWS
) -> Iterator[list[tuple[int, float | None, str | None]]]:
    """The observations as (flat index in the cube of the dimensions' codes, value, flag), in
    flat index order (JSON-stat's row-major order), ``chunk_rows`` at a time."""
    sql, params = _positioned_sql(dataset, "flat, value, obs_flag")
    for rows in _chunks(warehouse, sql, params, chunk_rows):
        yield [(int(f), None if v is None else float(v), str(g) if g else None) for f, v, g in rows]


UNSAFE = frozenset(',"\\\r\n') | frozenset(chr(i) for i in range(32))
"""Characters that a code, unit or flag must not hold for its text to be copied into a CSV
field or a JSON string as it is (quoting or escaping would be needed)."""


def as_text(dataset: Dataset) -> bool:
    """Whether the dataset's data files can be made as text by DuckDB (:func:`csv_lines`,
    :func:`jsonstat_items`): whole values (:attr:`Query.whole`) and no code, unit or flag
    that CSV would quote or JSON escape. Otherwise the writers format rows in Python."""
    texts = [c.id for d in dataset.dimensions for c in d.codes]
    texts += [d.id for d in dataset.dimensions]
    texts += [*dataset.units, *dataset.query.flags, dataset.dsd_id]
    return dataset.query.whole and not any(UNSAFE.intersection(t) for t in texts)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _text_batches(
    warehouse: Warehouse, sql: str, params: dict[str, object], chunk_rows: int
) -> Iterator[pa.RecordBatch]:
    """The query's result as Arrow record batches of at most ``chunk_rows`` rows."""
    reader = warehouse.arrow(sql, params, chunk_rows)
    try:
        yield from reader
    except duckdb.Error as exc:
        raise MigstatError(f"open data query failed: {exc}\n{sql}") from exc


def joined(column: pa.Array | pa.ChunkedArray) -> list[memoryview]:
    """The bytes of a text column's values one after the other (empty values left out), without
    making a Python string per value: the slices of the column's data buffers."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    views: list[memoryview] = []
    for chunk in chunks:
        if chunk.null_count:
            chunk = chunk.drop_null()
        if not len(chunk):
            continue
        width = "<i4"  # offsets of a string array; of a large string array, 64 bits
        if not pa.types.is_string(chunk.type):
            chunk, width = chunk.cast(pa.large_string()), "<i8"
        _, offsets, data = chunk.buffers()
        bounds = np.frombuffer(offsets, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
        start, end = int(bounds[0]), int(bounds[-1])
        if data is not None and end > start:
            views.append(memoryview(data)[start:end])
    return views


def csv_lines(
    warehouse: Warehouse, dataset: Dataset, chunk_rows: int = CHUNK_ROWS
) -> Iterator[list[memoryview]]:
    """The SDMX-CSV 2.0 lines of the observations in key order (each ending in a newline),
    made by DuckDB, as bytes (:func:`joined`) ``chunk_rows`` lines at a time: what
    ``csv.writer`` writes for them when :func:`as_text` holds (no field needs quotes)."""
    n = len(dataset.dimensions)
    names = ", ".join(f"k{i}" for i in range(n))
    prefix = f"datastructure,{AGENCY}:{dataset.dsd_id}({VERSION}),I,"
    fields = [
        _literal(prefix),
        *(f"k{i} || ','" for i in range(n)),
        "coalesce(cast(cast(value as bigint) as varchar) || '.0', '') || ','",
        "coalesce(cast(obs_flag as varchar), '') || ','",
        "coalesce(cast(unit as varchar), 'None') || ','",  # and the empty note
        "chr(10)",
    ]
    sql = (
        f"select {' || '.join(fields)} as line "
        f"from ({dataset.query.observations_sql()}) order by {names}"
    )
    for batch in _text_batches(warehouse, sql, dataset.query.params, chunk_rows):
        yield joined(batch.column(0))


def jsonstat_items(
    warehouse: Warehouse, dataset: Dataset, chunk_rows: int = CHUNK_ROWS
) -> Iterator[tuple[list[memoryview], list[memoryview]]]:
    """The items of a sparse JSON-stat ``value`` and ``status`` object (``,"<flat>":<value>``
    and ``,"<flat>":"<flag>"``, each with a leading comma), made by DuckDB in flat index order,
    as bytes (:func:`joined`) ``chunk_rows`` observations at a time; when :func:`as_text`
    holds, the text ``json.dumps`` writes for them."""
    columns = (
        "',\"' || flat || '\":' || coalesce(cast(cast(value as bigint) as varchar), 'null') "
        "as v, case when obs_flag is not null and cast(obs_flag as varchar) <> '' "
        "then ',\"' || flat || '\":\"' || cast(obs_flag as varchar) || '\"' end as s"
    )
    sql, params = _positioned_sql(dataset, columns)
    for batch in _text_batches(warehouse, sql, params, chunk_rows):
        yield joined(batch.column(0)), joined(batch.column(1))


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


def _key_sql(spec: DimensionSpec) -> str:
    """SQL of a dimension's code text: months as two digits, ``_T`` where the cell has none."""
    text = f"cast({spec.column} as varchar)"
    if spec.codes == "months":
        text = f"lpad({text}, 2, '0')"
    return f"coalesce({text}, '{TOTAL}')"


WHOLE_SQL = (
    "coalesce(bool_and(value is null or (cast(value as double) = trunc(cast(value as double)) "
    "and abs(cast(value as double)) < 1e15 and not signbit(cast(value as double))))"
    ", true)"
)
"""Whether every value of a query is whole (:attr:`Query.whole`); a zero must not be -0.0."""


def _dataset(
    warehouse: Warehouse,
    labels: _Labels,
    specs: list[DimensionSpec],
    base: str,
    params: dict[str, object],
    tiebreak: tuple[str, ...],
    units: list[str] | None,
) -> tuple[list[Dimension], int, list[str], Query] | None:
    """The dimensions, number of observations, units and query of the cells of ``base`` (None
    when there are none). A candidate dimension is used when a cell has a code in it; the year
    always is. Every figure comes from small queries in DuckDB (distinct codes, counts)."""
    probes = ", ".join(
        f"bool_or({s.column} is not null and cast({s.column} as varchar) <> '{TOTAL}') as u{i}"
        for i, s in enumerate(specs)
    )
    found = warehouse.records(
        f"select count(*) as n_, {probes}, {WHOLE_SQL} as whole_, "
        "list(distinct cast(obs_flag as varchar)) filter (where obs_flag is not null "
        f"and cast(obs_flag as varchar) <> '') as flags_ from ({base})",
        params,
    )[0]
    if not found["n_"]:
        return None
    used = [s for i, s in enumerate(specs) if found[f"u{i}"] or s.id == "TIME_PERIOD"]
    flags = tuple(sorted(str(f) for f in cast("list[object]", found["flags_"] or [])))
    query = Query(
        base, params, tuple(_key_sql(s) for s in used), tiebreak, bool(found["whole_"]), flags
    )
    dimensions = []
    lists = ", ".join(f"list(distinct {key}) as c{i}" for i, key in enumerate(query.keys))
    distinct = warehouse.records(f"select {lists} from ({base})", params)[0]
    for i, spec in enumerate(used):
        values = {str(v) for v in cast("list[object]", distinct[f"c{i}"])}
        if spec.codes == "year":
            codes = [Code(v, Label(v, v)) for v in sorted(values)]
        else:
            codes = labels.order(spec.codes, values)
        groups = {c.parent: labels.code("regions", c.parent).name for c in codes if c.parent}
        dimensions.append(Dimension(spec.id, spec.name, codes, groups))
    keys = ", ".join(query.keys)
    count = warehouse.records(
        f"select count(*) as n from (select distinct {keys} from ({base}))", params
    )[0]["n"]
    if units is None:
        units = [
            str(r["unit"])
            for r in warehouse.records(
                f"select distinct unit from ({query.observations_sql()}) order by unit", params
            )
        ]
    return dimensions, int(str(count)), units, query


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
    dimensions from the source specs (:func:`dimension_specs`). Only the structure is read
    here; the observations stay in DuckDB until a writer streams them (:func:`observations`)."""
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
        columns = [d.column for d in dims]
        extra = ", submission_id" if "submission_id" in fct else ""
        base = (
            f"select {', '.join(columns)}, value, obs_flag, counting_unit as unit, sheet, "
            f"breakdown{extra} from marts.fct_observations "
            "where source = $source and counting_unit = $unit"
        )
        params: dict[str, object] = {"source": source, "unit": unit}
        tiebreak = ("sheet", "breakdown", *columns, "value", "obs_flag")
        found = _dataset(warehouse, labels, dims, base, params, tiebreak, [unit])
        if found is None:
            continue
        dimensions, count, units_used, query = found
        unit_name = unit_label(unit)
        dataset = Dataset(
            id=dataset_id,
            name=Label(
                f"{src['source_title_es']} ({unit_name.es})",
                f"{src['source_title_en']} ({unit_name.en})",
            ),
            description=_(DESCRIPTION).format(
                {"source": str(src["source_title_es"]), "unit": unit_name.es},
                {"source": str(src["source_title_en"]), "unit": unit_name.en},
            ),
            counting_unit=unit,
            dimensions=dimensions,
            count=count,
            units=units_used,
            query=query,
        )
        ids: list[object] = []
        if extra:
            ids = [
                r["submission_id"]
                for r in warehouse.records(
                    f"select distinct submission_id from ({base}) "
                    "where submission_id is not null order by submission_id",
                    params,
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
    names = [d.column for d in dims]
    base = (
        f"select {', '.join(names)}, value, obs_flag, "
        "unit || '.' || counting_unit as unit from marts.indicators"
    )
    tiebreak = (*names, "value", "obs_flag", "unit")
    found = _dataset(warehouse, labels, dims, base, {}, tiebreak, None)
    if found is None:  # no indicator yet: the year alone, no observation
        query = Query(base, {}, (_key_sql(TIME_PERIOD),), tiebreak)
        found = ([Dimension(TIME_PERIOD.id, TIME_PERIOD.name, [])], 0, [], query)
    dimensions, count, units_used, query = found
    return Dataset(
        id="indicators",
        name=_("Comparable indicators"),
        description=_(
            "Indicators computed the same way for every country from the accepted "
            "submissions; each carries its counting unit."
        ),
        counting_unit=None,
        dimensions=dimensions,
        count=count,
        units=units_used,
        query=query,
    )
