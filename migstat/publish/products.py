"""Collect the products: every product spec of the catalogue applied to every parameter set of
its scope that has data, with its texts (titles, footnotes, attribution)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from migstat.errors import MigstatError
from migstat.publish.catalogue import Catalogue, ProductSpec, Scope, Text
from migstat.publish.data import ProductTable, Warehouse
from migstat.publish.i18n import UI
from migstat.specs import load_specs

REGIONAL = "_R"


@dataclass
class Product:
    """One rendered product: a spec applied to one parameter set of its scope."""

    id: str
    spec: ProductSpec
    scope: Scope
    params: dict[str, object]
    table: ProductTable
    title: Text
    subtitle: Text
    theme: str
    decimals: int
    footnotes: list[Text] = field(default_factory=list)
    source_text: Text = field(default_factory=lambda: Text(es="", en=""))

    @property
    def country(self) -> str:
        return str(self.params["country"]) if self.scope.kind == "country" else REGIONAL

    @property
    def source(self) -> str:
        return str(self.params.get("source") or "")

    @property
    def year(self) -> str:
        return str(self.params.get("year") or "")

    @property
    def indicator(self) -> str:
        return str(self.params.get("indicator") or "")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _decimals(table: ProductTable) -> int:
    values = [c.value for c in table.cells.values() if c.value is not None]
    return 0 if all(float(v).is_integer() for v in values) else 1


class Lookups:
    """Names of sources, countries and indicators, from the marts and the specs."""

    def __init__(self, warehouse: Warehouse, catalogue: Catalogue) -> None:
        self.sources = {str(r["source"]): r for r in warehouse.records(catalogue.sources_query)}
        self.countries = {
            str(r["country"]): r for r in warehouse.records(catalogue.countries_query)
        }
        self.indicators = {
            str(r["indicator"]): r for r in warehouse.records(catalogue.indicators_query)
        }
        specs = load_specs()
        self.source_specs = specs.sources
        self.country_specs = specs.countries

    def source_title(self, source: str) -> Text:
        rec = self.sources.get(source)
        if rec:
            return Text(es=str(rec["title_es"]), en=str(rec["title_en"]))
        spec = self.source_specs.get(source)
        return Text(es=spec.title.es, en=spec.title.en) if spec else Text(es=source, en=source)

    def country_name(self, code: str) -> Text:
        if code == REGIONAL:
            return Text(es=UI["es"]["regional"], en=UI["en"]["regional"])
        rec = self.countries.get(code)
        return (
            Text(es=str(rec["name_es"]), en=str(rec["name_en"])) if rec else Text(es=code, en=code)
        )


def _attribution(product: Product, lookups: Lookups) -> Text:
    if product.scope.kind == "regional":
        return Text(
            es="Oficinas nacionales de migración de los países informantes; indicadores "
            "comparables calculados por migstat a partir de sus envíos aceptados.",
            en="National migration offices of the reporting countries; comparable indicators "
            "computed by migstat from their accepted submissions.",
        )
    spec = lookups.country_specs.get(product.country)
    country = lookups.country_name(product.country)
    source = lookups.source_title(product.source)
    institution = spec.institution if spec else None
    return Text(
        es=f"{institution.es + ', ' if institution else ''}{country.es}: registro «{source.es}»; "
        "almacén publicado de migstat (última versión aceptada de cada envío).",
        en=f"{institution.en + ', ' if institution else ''}{country.en}: register “{source.en}”; "
        "migstat published warehouse (latest accepted version of each submission).",
    )


def _footnotes(product: Product, lookups: Lookups) -> list[Text]:
    notes = list(product.spec.footnotes)
    source_spec = lookups.source_specs.get(product.source)
    if source_spec:
        notes.append(Text(es=source_spec.description.es, en=source_spec.description.en))
    if any(c.computed for c in product.table.cells.values()):
        notes.append(Text(es=UI["es"]["computed_total"], en=UI["en"]["computed_total"]))
    if product.table.is_percent:
        notes.append(Text(es=UI["es"]["percent_note"], en=UI["en"]["percent_note"]))
    chart = product.spec.chart
    if chart and chart.max_rows and len(product.table.rows) > chart.max_rows:
        notes.append(
            Text(
                es=UI["es"]["chart_top"].format(n=chart.max_rows),
                en=UI["en"]["chart_top"].format(n=chart.max_rows),
            )
        )
    return notes


ChangedKey = tuple[str, str, int]
"""(reporting country, source, year) whose published data changed."""


def _year(value: object) -> int | None:
    try:
        return int(str(value)[:4])
    except ValueError:
        return None


@dataclass(frozen=True)
class Changes:
    """What changed in the published data since the products were last queried: the
    (country, source, year) keys whose published submissions differ. A product can show a
    key's numbers when it is made for that country (or is regional) and for that year or the
    next (year-on-year and December-to-January changes read the year before); a product made
    for no particular year (a series) can show any year. ``None`` for a product the cache
    cannot vouch for is decided by the caller (it queries everything)."""

    keys: frozenset[ChangedKey]

    def affects(self, scope: Scope, params: dict[str, object]) -> bool:
        if not self.keys:
            return False
        year = _year(params["year"]) if "year" in params else None
        if "year" in params and year is None:
            return True
        country = params.get("country") if scope.kind == "country" else None
        return any(
            (country is None or str(country) == changed_country)
            and (year is None or year in (changed_year, changed_year + 1))
            for changed_country, _source, changed_year in self.keys
        )


def task_key(spec: ProductSpec, params: dict[str, object]) -> str:
    """One product query's identity: the spec and its parameter set."""
    return json.dumps([spec.id, {k: str(v) for k, v in params.items()}], sort_keys=True)


Task = tuple[ProductSpec, Scope, dict[str, object]]
"""One product query: a spec and one parameter set of its scope."""


def list_tasks(warehouse: Warehouse, catalogue: Catalogue) -> list[Task]:
    """Every product query: each spec for every parameter set of its scope (the scope queries,
    small; the product queries are not run here)."""
    tasks: list[Task] = []
    for scope_id, scope in catalogue.scopes.items():
        specs = [p for p in catalogue.products if p.scope == scope_id]
        for params in warehouse.records(scope.query):
            for spec in specs:
                if spec.sources and params.get("source") not in spec.sources:
                    continue
                tasks.append((spec, scope, params))
    return tasks


def make_product(
    task: Task, table: ProductTable, catalogue: Catalogue, lookups: Lookups
) -> Product | None:
    """The product of one query's table, with its texts; None when the table is empty."""
    spec, scope, params = task
    if not table.rows or table.is_empty():
        return None
    theme = spec.theme.format_map(params)
    if theme not in catalogue.themes:
        raise MigstatError(f"product {spec.id}: unknown theme {theme!r} for {params}")
    product = Product(
        id=_slug(f"{scope.slug.format_map(params)}-{spec.id}"),
        spec=spec,
        scope=scope,
        params=params,
        table=table,
        title=spec.title.format(params),
        subtitle=scope.title.format(params),
        theme=theme,
        decimals=_decimals(table),
    )
    product.footnotes = _footnotes(product, lookups)
    product.source_text = _attribution(product, lookups)
    return product


def collect_products(
    warehouse: Warehouse,
    catalogue: Catalogue,
    lookups: Lookups,
    workers: int = 1,
    *,
    cached: dict[str, ProductTable] | None = None,
    changes: Changes | None = None,
    tables: dict[str, ProductTable] | None = None,
    reused: set[str] | None = None,
) -> list[Product]:
    """Every product spec applied to every parameter set of its scope that has data. The
    product queries run on ``workers`` threads (each with its own DuckDB cursor).

    With ``changes`` (and the ``cached`` tables of the last publish, by :func:`task_key`), only
    the queries of products the changed keys can reach run; the others take their cached
    table (its key is added to ``reused``). ``tables``, when given, receives every query's
    table (empty ones included): the cache of the next publish."""
    tasks = list_tasks(warehouse, catalogue)

    def query(task: Task) -> ProductTable:
        if changes is not None and cached is not None and not changes.affects(task[1], task[2]):
            key = task_key(task[0], task[2])
            table = cached.get(key)
            if table is not None:
                if reused is not None:
                    reused.add(key)
                return table
        return warehouse.table(task[0], task[2])

    found = run_queries(tasks, query, workers)
    if tables is not None:
        tables.update(
            (task_key(spec, params), table)
            for (spec, _scope, params), table in zip(tasks, found, strict=True)
        )
    products = [
        product
        for task, table in zip(tasks, found, strict=True)
        if (product := make_product(task, table, catalogue, lookups)) is not None
    ]
    check_ids(p.id for p in products)
    return products


def run_queries(
    tasks: list[Task],
    query: Callable[[Task], ProductTable],
    workers: int,
) -> list[ProductTable]:
    """``query`` of every task, on ``workers`` threads when there are several tasks."""
    if workers > 1 and len(tasks) > 1:
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(query, tasks))
    return [query(task) for task in tasks]


def check_ids(ids: Iterable[str]) -> None:
    """Two products may not share an id (their files would overwrite each other)."""
    listed = list(ids)
    if len(set(listed)) != len(listed):
        raise MigstatError("two products got the same id: check the scope slugs in products.yml")
