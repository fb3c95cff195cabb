"""Render the products site: product pages, downloads, the searchable catalogue."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from multiprocessing import get_context
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from migstat.errors import MigstatError
from migstat.publish.catalogue import Catalogue, ProductSpec, Scope, Text, load_catalogue
from migstat.publish.charts import Series, render_chart
from migstat.publish.data import TOTAL, ProductTable, Warehouse
from migstat.publish.downloads import Metadata, write_csv, write_xlsx
from migstat.publish.i18n import (
    FLAGS,
    LANGS,
    UI,
    counting_unit_label,
    flag_label,
    fold,
    format_value,
    pick,
    unit_label,
)
from migstat.specs import load_specs

SITE_MARKER = ".migstat-site"
DIGESTS_FILE = ".migstat-products.json"
"""Content hash of every product as last rendered (kept in the site folder)."""
REGIONAL = "_R"
RENDERER_FILES = ("*.py", "products.yml", "templates/*", "static/*")


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


@dataclass(frozen=True)
class PublishResult:
    products: int
    seconds: float
    size_bytes: int
    site_dir: Path
    rendered: int = -1
    """Products rendered this time (the others were unchanged and kept as they were)."""

    @property
    def unchanged(self) -> int:
        return self.products - self.rendered

    @property
    def index(self) -> Path:
        return self.site_dir / "index.html"

    @property
    def size_mb(self) -> float:
        return self.size_bytes / 1_000_000


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("migstat.publish", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


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


def _chart_svg(product: Product, lang: str) -> str | None:
    chart = product.spec.chart
    if chart is None:
        return None
    table = product.table
    rows = [r for r in table.rows if r.code != TOTAL and r.code not in chart.exclude_rows]
    if chart.max_rows:
        rows = rows[: chart.max_rows]
    columns = [c for c in table.columns if c.code != TOTAL and c.code not in chart.exclude_columns]
    series = [
        Series(c.label(lang), [table.cell(r.code, c.code).value for r in rows]) for c in columns
    ]

    def fmt(value: float) -> str:
        return format_value(value, lang, percent=table.is_percent, decimals=product.decimals)

    return render_chart(
        chart.type,
        [r.label(lang) for r in rows],
        series,
        chart_id=f"chart-{product.id}",
        title=f"{product.title.get(lang)}. {product.subtitle.get(lang)}",
        fmt=fmt,
        lang=lang,
    )


def _metadata(product: Product, lang: str, extracted: str) -> Metadata:
    t = UI[lang]
    table = product.table
    flags = table.flags()
    return Metadata(
        lang=lang,
        title=product.title.get(lang),
        subtitle=product.subtitle.get(lang),
        row_title=product.spec.rows.title.get(lang),
        column_title=(product.spec.columns.title.get(lang) if product.spec.columns else t["value"]),
        counting_unit="; ".join(counting_unit_label(u, lang) for u in table.counting_units) or "-",
        unit=unit_label(table.unit or "count", lang),
        flags_legend="; ".join(f"{k} = {pick(v, lang)}" for k, v in FLAGS.items()),
        flags_present=(
            "; ".join(f"{k} = {flag_label(k, lang)}" for k in flags) if flags else t["no_flags"]
        ),
        footnotes=[n.get(lang) for n in product.footnotes],
        source=product.source_text.get(lang),
        extracted=extracted,
        product_id=product.id,
    )


def _search_text(product: Product, lookups: Lookups, catalogue: Catalogue) -> str:
    theme = catalogue.themes[product.theme]
    words = [
        product.title.es,
        product.title.en,
        product.subtitle.es,
        product.subtitle.en,
        theme.title.es,
        theme.title.en,
        theme.keywords.es,
        theme.keywords.en,
        product.spec.keywords.es,
        product.spec.keywords.en,
        product.year,
    ]
    for text in (lookups.country_name(product.country), lookups.source_title(product.source)):
        words += [text.es, text.en]
    for member in product.table.rows:
        words += [member.es, member.en]
    return " ".join(sorted(set(fold(" ".join(words)).split())))


def _catalogue_entry(
    product: Product, lang: str, lookups: Lookups, catalogue: Catalogue
) -> dict[str, object]:
    breakdowns = " ".join(product.spec.breakdowns)
    return {
        "id": product.id,
        "title": product.title.get(lang),
        "subtitle": product.subtitle.get(lang),
        "href": f"products/{product.id}.html",
        "country": product.country,
        "country_name": lookups.country_name(product.country).get(lang),
        "source": product.source,
        "source_name": lookups.source_title(product.source).get(lang) if product.source else "",
        "theme": product.theme,
        "theme_name": catalogue.themes[product.theme].title.get(lang),
        "indicator": product.indicator,
        "year": product.year,
        "breakdown": breakdowns,
        "flags": product.table.flags(),
        "units": [counting_unit_label(u, lang) for u in product.table.counting_units],
        "has_chart": product.spec.chart is not None,
        "search": _search_text(product, lookups, catalogue),
    }


def _options(
    products: list[Product], lang: str, lookups: Lookups, catalogue: Catalogue
) -> dict[str, list[tuple[str, str]]]:
    t = UI[lang]
    countries = {p.country for p in products}
    sources = {p.source for p in products if p.source}
    themes = {p.theme for p in products}
    indicators = {p.indicator for p in products if p.indicator}
    years = {p.year for p in products if p.year}
    country_options = sorted(
        ((c, lookups.country_name(c).get(lang)) for c in countries if c != REGIONAL),
        key=lambda o: fold(o[1]),
    )
    if REGIONAL in countries:
        country_options.append((REGIONAL, t["regional"]))

    def indicator_name(code: str) -> str:
        rec = lookups.indicators.get(code)
        return str(rec[f"name_{lang}"]) if rec else code

    return {
        "country": country_options,
        "source": sorted(
            ((s, lookups.source_title(s).get(lang)) for s in sources), key=lambda o: fold(o[1])
        ),
        "theme": [(k, v.title.get(lang)) for k, v in catalogue.themes.items() if k in themes],
        "indicator": sorted(((i, indicator_name(i)) for i in indicators), key=lambda o: fold(o[1])),
        "year": sorted(((y, y) for y in years), reverse=True),
        "breakdown": [("sex", t["by_sex"]), ("age", t["by_age"])],
    }


def _table_view(product: Product, lang: str) -> dict[str, object]:
    table = product.table
    body = []
    for row in table.rows:
        cells = []
        for column in table.columns:
            cell = table.cell(row.code, column.code)
            text = (
                "…"
                if cell.value is None
                else format_value(
                    cell.value, lang, percent=table.is_percent, decimals=product.decimals
                )
            )
            cells.append(
                {
                    "text": text,
                    "flag": cell.flag or "",
                    "flag_title": ", ".join(flag_label(f, lang) for f in (cell.flag or "")),
                    "is_total": column.code == TOTAL,
                }
            )
        body.append({"label": row.label(lang), "is_total": row.code == TOTAL, "cells": cells})
    return {"columns": [c.label(lang) for c in table.columns], "rows": body}


@dataclass(frozen=True)
class _Job:
    """A batch of product pages and downloads in one language, for one worker process."""

    site: Path
    lang: str
    products: list[Product]
    lookups: Lookups
    catalogue: Catalogue
    extracted: str


def _render_products(job: _Job) -> None:
    """Write the product pages, CSV, XLSX and SVG files of a batch."""
    lang, lookups, catalogue = job.lang, job.lookups, job.catalogue
    template = _environment().get_template("product.html")
    downloads = job.site / lang / "downloads"
    for product in job.products:
        meta = _metadata(product, lang, job.extracted)
        write_csv(downloads / f"{product.id}.csv", product.table, meta)
        if lang == LANGS[0]:
            write_xlsx(
                job.site / "downloads" / f"{product.id}.xlsx",
                product.table,
                [_metadata(product, other, job.extracted) for other in LANGS],
                product.decimals,
            )
        svg = _chart_svg(product, lang)
        if svg:
            (downloads / f"{product.id}.svg").write_text(svg, encoding="utf-8")
        page = template.render(
            lang=lang,
            other="en" if lang == "es" else "es",
            t=UI[lang],
            product=product,
            meta=meta,
            svg=svg,
            table=_table_view(product, lang),
            flags=[(k, pick(v, lang)) for k, v in FLAGS.items()],
            present_flags=product.table.flags(),
            country_name=lookups.country_name(product.country).get(lang),
            source_name=lookups.source_title(product.source).get(lang) if product.source else "",
            theme_name=catalogue.themes[product.theme].title.get(lang),
            root="../../",
        )
        (job.site / lang / "products" / f"{product.id}.html").write_text(page, encoding="utf-8")


def renderer_fingerprint() -> str:
    """Hash of everything that shapes a page besides the data: code, templates, catalogue."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for pattern in RENDERER_FILES:
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def product_digest(product: Product, lookups: Lookups, catalogue: Catalogue, renderer: str) -> str:
    """Content hash of everything one product's files are made of: its query result (rows,
    columns, values, flags, units) and the texts around it."""
    table = product.table
    names = [lookups.country_name(product.country), lookups.source_title(product.source)]
    content = {
        "renderer": renderer,
        "id": product.id,
        "spec": product.spec.id,
        "params": {k: str(v) for k, v in sorted(product.params.items())},
        "texts": [
            t.model_dump()
            for t in [product.title, product.subtitle, product.source_text, *product.footnotes]
        ],
        "names": [t.model_dump() for t in names],
        "theme": [product.theme, catalogue.themes[product.theme].title.model_dump()],
        "decimals": product.decimals,
        "rows": [[m.code, m.es, m.en] for m in table.rows],
        "columns": [[m.code, m.es, m.en] for m in table.columns],
        "cells": sorted(
            [row, column, cell.value, cell.flag, cell.computed]
            for (row, column), cell in table.cells.items()
        ),
        "units": [table.counting_units, table.unit, table.notes],
    }
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def product_files(site: Path, product_id: str) -> list[Path]:
    """The files one product owns in a site (pages and downloads in every language)."""
    files = [site / "downloads" / f"{product_id}.xlsx"]
    for lang in LANGS:
        files.append(site / lang / "products" / f"{product_id}.html")
        files += [site / lang / "downloads" / f"{product_id}.{ext}" for ext in ("csv", "svg")]
    return files


def read_digests(site: Path) -> dict[str, str]:
    """The product digests of an existing site (empty when there is none or it is unreadable)."""
    try:
        data = json.loads((site / DIGESTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.get("products", {}).items()}


def _keep(old_site: Path, new_site: Path, product_id: str) -> None:
    """Carry an unchanged product's files into the new site without rewriting them (a hard
    link to the same file; a copy where links are not possible)."""
    for old in product_files(old_site, product_id):
        if not old.exists():
            continue
        new = new_site / old.relative_to(old_site)
        try:
            os.link(old, new)
        except OSError:
            shutil.copy2(old, new)


def _write_site(
    site: Path,
    products: list[Product],
    lookups: Lookups,
    catalogue: Catalogue,
    now: datetime,
    workers: int,
    digests: dict[str, str],
    reuse: tuple[Path, set[str]] | None = None,
) -> None:
    """Write the whole site into ``site``; the products named in ``reuse`` are carried over
    from the old site folder instead of being rendered."""
    env = _environment()
    extracted = now.strftime("%Y-%m-%d %H:%M")
    static = resources.files("migstat.publish") / "static"
    (site / "static").mkdir(parents=True)
    for item in static.iterdir():
        if item.is_file():
            (site / "static" / item.name).write_bytes(item.read_bytes())
    kept = reuse[1] if reuse else set()
    to_render = [p for p in products if p.id not in kept]
    size = max(1, -(-len(to_render) // (workers * 4)))
    jobs = []
    (site / "downloads").mkdir()
    for lang in LANGS:
        (site / lang / "products").mkdir(parents=True)
        (site / lang / "downloads").mkdir(parents=True)
    if reuse:
        for product_id in sorted(kept):
            _keep(reuse[0], site, product_id)
    for lang in LANGS:
        for first in range(0, len(to_render), size):
            batch = to_render[first : first + size]
            jobs.append(_Job(site, lang, batch, lookups, catalogue, extracted))
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            list(pool.map(_render_products, jobs))
    else:
        for job in jobs:
            _render_products(job)
    for lang in LANGS:
        page = env.get_template("catalogue.html").render(
            lang=lang,
            other="en" if lang == "es" else "es",
            t=UI[lang],
            entries=[_catalogue_entry(p, lang, lookups, catalogue) for p in products],
            options=_options(products, lang, lookups, catalogue),
            generated=extracted,
            root="../",
        )
        (site / lang / "index.html").write_text(page, encoding="utf-8")
    (site / "index.html").write_text(
        env.get_template("redirect.html").render(t=UI["es"]), encoding="utf-8"
    )
    manifest = [
        {"id": p.id, "spec": p.spec.id, "params": {k: str(v) for k, v in p.params.items()}}
        for p in products
    ]
    (site / "products.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    (site / DIGESTS_FILE).write_text(
        json.dumps({"products": digests}, ensure_ascii=False, indent=0, sort_keys=True)
    )
    (site / SITE_MARKER).write_text(now.isoformat())


def _directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def publish(
    warehouse_path: Path,
    site_dir: Path,
    catalogue: Catalogue | None = None,
    workers: int | None = None,
    *,
    full: bool = False,
) -> PublishResult:
    """Render every product of the catalogue from the published warehouse into ``site_dir``.

    Only products whose data changed are rendered: each product's content hash (its query
    result and texts, plus a fingerprint of the renderer) is kept in the site folder, and an
    unchanged product's files are carried over as they are. When nothing changed at all, the
    site is left untouched. ``full`` renders everything again.

    The site is written beside the target and swapped in at the end, so a reader never sees a
    half-written site. An existing folder is replaced only when it holds a migstat site.
    Pages and downloads are written by ``workers`` processes (default: one per CPU).
    """
    started = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    catalogue = catalogue or load_catalogue()
    site_dir = site_dir.resolve()
    is_site = (site_dir / SITE_MARKER).exists()
    if site_dir.exists() and any(site_dir.iterdir()) and not is_site:
        raise MigstatError(
            f"{site_dir} is not empty and is not a migstat site: choose another folder "
            f"(la carpeta no está vacía y no es un sitio de migstat)"
        )
    with Warehouse(warehouse_path) as warehouse:
        lookups = Lookups(warehouse, catalogue)
        products = collect_products(warehouse, catalogue, lookups, workers)
    renderer = renderer_fingerprint()
    digests = {p.id: product_digest(p, lookups, catalogue, renderer) for p in products}
    previous = {} if full or not is_site else read_digests(site_dir)
    kept = {
        product_id
        for product_id, digest in digests.items()
        if previous.get(product_id) == digest
        and (site_dir / "es" / "products" / f"{product_id}.html").exists()
    }
    if previous == digests and kept == set(digests):
        return PublishResult(
            products=len(products),
            seconds=time.perf_counter() - started,
            size_bytes=_directory_size(site_dir),
            site_dir=site_dir,
            rendered=0,
        )
    work = site_dir.with_name(f".{site_dir.name}.building-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        _write_site(
            work,
            products,
            lookups,
            catalogue,
            datetime.now().astimezone(),
            workers,
            digests,
            (site_dir, kept) if kept else None,
        )
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = site_dir.with_name(f".{site_dir.name}.old-{os.getpid()}")
    if site_dir.exists():
        site_dir.rename(old)
    work.rename(site_dir)
    shutil.rmtree(old, ignore_errors=True)
    return PublishResult(
        products=len(products),
        seconds=time.perf_counter() - started,
        size_bytes=_directory_size(site_dir),
        site_dir=site_dir,
        rendered=len(products) - len(kept),
    )
