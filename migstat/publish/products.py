"""Collect the products: every product spec of the catalogue applied to every parameter set of
its scope that has data, with its texts (titles, footnotes, attribution)."""

from __future__ import annotations

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


def collect_products(
    warehouse: Warehouse, catalogue: Catalogue, lookups: Lookups, workers: int = 1
) -> list[Product]:
    """Every product spec applied to every parameter set of its scope that has data. The
    product queries run on ``workers`` threads (each with its own DuckDB cursor)."""
    tasks: list[tuple[ProductSpec, Scope, dict[str, object]]] = []
    for scope_id, scope in catalogue.scopes.items():
        specs = [p for p in catalogue.products if p.scope == scope_id]
        for params in warehouse.records(scope.query):
            for spec in specs:
                if spec.sources and params.get("source") not in spec.sources:
                    continue
                tasks.append((spec, scope, params))

    def query(task: tuple[ProductSpec, Scope, dict[str, object]]) -> ProductTable:
        return warehouse.table(task[0], task[2])

    if workers > 1 and len(tasks) > 1:
        with ThreadPoolExecutor(workers) as pool:
            tables = list(pool.map(query, tasks))
    else:
        tables = [query(task) for task in tasks]
    products: list[Product] = []
    for (spec, scope, params), table in zip(tasks, tables, strict=True):
        if not table.rows or table.is_empty():
            continue
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
        products.append(product)
    ids = [p.id for p in products]
    if len(set(ids)) != len(ids):
        raise MigstatError("two products got the same id: check the scope slugs in products.yml")
    return products
