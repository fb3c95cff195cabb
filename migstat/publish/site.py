"""Write the products site: product pages and downloads (in worker processes), the catalogue
pages, the manifest and digests; swap the new site in atomically and keep unchanged products."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from multiprocessing import get_context
from pathlib import Path
from threading import Lock
from typing import Any, cast

from jinja2 import Environment

from migstat.dbt_docs import copy_into_site
from migstat.errors import MigstatError
from migstat.publish.catalogue import Catalogue, load_catalogue
from migstat.publish.data import ProductTable, Warehouse, table_from_json
from migstat.publish.datasets import Dataset, load_datasets
from migstat.publish.downloads import write_csv, write_xlsx
from migstat.publish.export import CATALOGUE, dataset_files, write_datasets
from migstat.publish.i18n import FLAGS, LANGS, UI, pick
from migstat.publish.index import INDEX_FILE, Index, Recorded, Row, write_index
from migstat.publish.jsonstat import product_document, write_json
from migstat.publish.products import (
    ChangedKey,
    Changes,
    Lookups,
    Product,
    Task,
    check_ids,
    list_tasks,
    make_product,
    run_queries,
    task_key,
)
from migstat.publish.views import (
    catalogue_entry,
    chart_svg,
    environment,
    metadata,
    options,
    table_view,
)
from migstat.specs import SPECS_DIR, user_specs_dir
from migstat.translations import locale_dirs

API_DIR = Path("api") / "v1"
SITE_MARKER = ".migstat-site"
DIGESTS_FILE = ".migstat-products.json"
"""Content hash of every product as last rendered, and the data basis it was queried from
(:func:`data_basis`), kept in the site folder."""
TABLES_FILE = ".migstat-tables.json"
"""The tables cache of sites published before the index (:data:`INDEX_FILE`): read once, when
such a site is published again, then removed."""
BUILDER_LIMIT = 2_000_000
"""The table builder loads a dataset's whole JSON-stat file into the page: it offers datasets
of up to this many observations; larger ones are for programs, from the data API."""
RENDERER_FILES = ("*.py", "products.yml", "templates/*", "static/*")


@dataclass(frozen=True)
class PublishResult:
    products: int
    seconds: float
    size_bytes: int
    site_dir: Path
    rendered: int = -1
    """Products rendered this time (the others were unchanged and kept as they were)."""
    queried: int = -1
    """Product queries run this time (the others' tables came from the last publish)."""
    queries: int = -1
    """Product queries in all (every product spec x parameter set of its scope)."""

    @property
    def unchanged(self) -> int:
        return self.products - self.rendered

    @property
    def index(self) -> Path:
        return self.site_dir / "index.html"

    @property
    def size_mb(self) -> float:
        return self.size_bytes / 1_000_000


@dataclass(frozen=True)
class _Job:
    """A batch of product pages and downloads in one language, for one worker process."""

    site: Path
    lang: str
    products: list[Product]
    lookups: Lookups
    catalogue: Catalogue
    extracted: str
    updated: str


def _render_products(job: _Job) -> None:
    """Write the product pages, CSV, XLSX and SVG files of a batch."""
    lang, lookups, catalogue = job.lang, job.lookups, job.catalogue
    template = environment().get_template("product.html")
    downloads = job.site / lang / "downloads"
    for product in job.products:
        meta = metadata(product, lang, job.extracted)
        write_csv(downloads / f"{product.id}.csv", product.table, meta)
        if lang == LANGS[0]:
            write_xlsx(
                job.site / "downloads" / f"{product.id}.xlsx",
                product.table,
                [metadata(product, other, job.extracted) for other in LANGS],
                product.decimals,
            )
        write_json(
            product_document(
                product.table,
                lang,
                f"{meta.title}. {meta.subtitle}",
                meta.row_title,
                meta.column_title,
                [*meta.footnotes, meta.source],
                job.updated,
            ),
            downloads / f"{product.id}.json",
        )
        svg = chart_svg(product, lang)
        if svg:
            (downloads / f"{product.id}.svg").write_text(svg, encoding="utf-8")
        page = template.render(
            lang=lang,
            other="en" if lang == "es" else "es",
            t=UI[lang],
            product=product,
            meta=meta,
            svg=svg,
            table=table_view(product, lang),
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


def inputs_fingerprint(renderer: str, catalogue: Catalogue) -> str:
    """Hash of what the texts around the products and the datasets' structures follow from
    besides the warehouse: the renderer (:func:`renderer_fingerprint`), the catalogue with its
    default products, the specs (shipped and the user's) and the translations. A product
    query whose data did not change keeps its recorded digest and catalogue entries only while
    this is the same."""
    digest = hashlib.sha256(renderer.encode("ascii"))
    digest.update(catalogue.model_dump_json().encode("utf-8"))
    for folder in (SPECS_DIR, user_specs_dir(), *locale_dirs()):
        digest.update(str(folder).encode())
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                digest.update(path.relative_to(folder).as_posix().encode())
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
        files += [
            site / lang / "downloads" / f"{product_id}.{ext}" for ext in ("csv", "svg", "json")
        ]
    return files


def _read_digest_file(site: Path) -> dict[str, object]:
    try:
        data = json.loads((site / DIGESTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_digests(site: Path) -> dict[str, str]:
    """The product digests of an existing site (empty when there is none or it is unreadable)."""
    products = _read_digest_file(site).get("products", {})
    return {str(k): str(v) for k, v in products.items()} if isinstance(products, dict) else {}


def data_basis(warehouse: Warehouse, lookups: Lookups) -> dict[str, object] | None:
    """What the products' numbers follow from besides the catalogue: the project the warehouse
    was built with (``build_meta``, written by ``migstat build``), the names of sources,
    countries and indicators, and the published submission of every (country, source,
    period). None when the warehouse does not say how it was built: every product is queried."""
    try:
        built = warehouse.records("select fingerprint from build_meta.build")
        published = warehouse.records(
            "select country_code, source, period, submission_id from marts.quality_submissions "
            "where is_published order by all"
        )
    except MigstatError:
        return None
    if len(built) != 1:
        return None
    names = json.dumps(
        [lookups.sources, lookups.countries, lookups.indicators],
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return {
        "fingerprint": str(built[0]["fingerprint"]),
        "names": hashlib.sha256(names.encode("utf-8")).hexdigest(),
        "published": [
            [str(r["country_code"]), str(r["source"]), str(r["period"]), r["submission_id"]]
            for r in published
        ],
    }


def changes_since(before: object, now: dict[str, object] | None) -> Changes | None:
    """The (country, source, year) keys whose published submissions differ between two bases
    (:func:`data_basis`), or None when they cannot be compared (another project, no basis, a
    period without a year): then every product is queried."""
    if not isinstance(before, dict) or now is None:
        return None
    # The names (sources, countries, indicators) only make the texts around a product, which
    # every publish computes again; they are kept in the basis for the record, not compared.
    if before.get("fingerprint") != now["fingerprint"]:
        return None

    def published(basis: dict[str, object]) -> dict[tuple[str, str, str], set[int]]:
        found: dict[tuple[str, str, str], set[int]] = {}
        for country, source, period, submission in cast("list[list[Any]]", basis["published"]):
            found.setdefault((str(country), str(source), str(period)), set()).add(int(submission))
        return found

    try:
        old, new = published(before), published(now)
    except (KeyError, TypeError, ValueError):
        return None
    keys: set[ChangedKey] = set()
    for key in old.keys() | new.keys():
        if old.get(key) != new.get(key):
            try:
                keys.add((key[0], key[1], int(key[2][:4])))
            except ValueError:
                return None
    return Changes(frozenset(keys))


def read_tables(site: Path) -> dict[str, ProductTable] | None:
    """The product tables of the last publish (:data:`TABLES_FILE`), or None."""
    try:
        data = json.loads((site / TABLES_FILE).read_text(encoding="utf-8"))
        return {str(key): table_from_json(value) for key, value in data.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_state(
    site: Path,
    digests: dict[str, str],
    api_digest: str,
    basis: dict[str, object] | None,
    api_parts: dict[str, dict[str, str]] | None = None,
) -> None:
    """The site's own bookkeeping: product digests, the data basis and the open data's state
    per dataset (:func:`dataset_basis`, :func:`dataset_digest`), replaced atomically. Written
    after the index (:data:`INDEX_FILE`), so a crash leaves a basis that is too old, which only
    makes the next publish query more. The tables cache of older sites is removed."""
    state = {"products": digests, "datasets": api_digest, "basis": basis, "parts": api_parts or {}}
    temporary = site / f".{DIGESTS_FILE}.{os.getpid()}"
    temporary.write_text(
        json.dumps(state, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8"
    )
    os.replace(temporary, site / DIGESTS_FILE)
    (site / TABLES_FILE).unlink(missing_ok=True)


def dataset_digest(dataset: Dataset, api: Path) -> str:
    """Hash of one open-data dataset: its structure and submissions, and its observations as
    written in its SDMX-CSV file in ``api``."""
    digest = hashlib.sha256(dataset.describe().encode("utf-8"))
    with (api / dataset_files(dataset.id)["sdmx-csv"][0]).open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def datasets_digest(datasets: list[Dataset], api: Path) -> str:
    """One hash over every open-data dataset (:func:`dataset_digest`), so that a change that
    touches no product still rewrites the data API."""
    return _combine([dataset_digest(d, api) for d in datasets])


def _combine(digests: list[str]) -> str:
    return hashlib.sha256("\n".join(digests).encode("ascii")).hexdigest()


def dataset_basis(basis: dict[str, object] | None, renderer: str, dataset: Dataset) -> str | None:
    """What one dataset's files follow from: the project the warehouse was built with, the code
    that writes them, the dataset's structure and submissions (:meth:`Dataset.describe`) and
    the published submissions of its source (of every source for the indicators, which are
    computed across them). Equal bases give the same files; None (no basis) means they must be
    written again."""
    if basis is None:
        return None
    source = dataset.query.params.get("source")
    published = cast("list[list[Any]]", basis["published"])
    if source is not None:
        published = [row for row in published if str(row[1]) == str(source)]
    text = json.dumps(
        [basis["fingerprint"], renderer, published, dataset.describe()],
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _carry(old: Path, new: Path, names: list[str]) -> bool:
    """Carry files of the last publish's data API into ``new`` (hard links; copies where links
    are not possible); False, with nothing carried, when one of them is missing."""
    if not all((old / name).is_file() for name in names):
        return False
    new.mkdir(parents=True, exist_ok=True)
    for name in names:
        try:
            os.link(old / name, new / name)
        except OSError:
            shutil.copy2(old / name, new / name)
    return True


def _open_data(
    warehouse: Warehouse,
    datasets: list[Dataset],
    old: Path,
    api: Path,
    before: object,
    bases: dict[str, str | None],
    now: datetime,
    tell: Callable[[str], None],
) -> dict[str, dict[str, str]]:
    """Write the data API into ``api``: a dataset whose basis (:func:`dataset_basis`) is the one
    recorded by the last publish (``before``: its state per dataset) is carried over from
    ``old``, the others are streamed from the warehouse. Returns the new state per dataset."""
    recorded = before if isinstance(before, dict) else {}
    parts: dict[str, dict[str, str]] = {}
    for dataset in datasets:
        part = recorded.get(dataset.id)
        names = [n for files in dataset_files(dataset.id).values() for n in files]
        if (
            bases[dataset.id] is not None
            and isinstance(part, dict)
            and part.get("basis") == bases[dataset.id]
            and isinstance(part.get("digest"), str)
            and _carry(old, api, names)
        ):
            parts[dataset.id] = {"basis": str(part["basis"]), "digest": str(part["digest"])}
    rewrite = [d for d in datasets if d.id not in parts]
    if not rewrite and _carry(old, api, [CATALOGUE]):
        tell("open data unchanged (same data basis and code): carried over as it was")
        return parts
    tell(
        f"writing the open data (api/v1/) of {len(rewrite)} of {len(datasets)} dataset(s), "
        f"streamed from the warehouse ({len(parts)} unchanged, carried over)"
    )
    write_datasets(warehouse, datasets, api, now=now, only={d.id for d in rewrite})
    for dataset in rewrite:
        parts[dataset.id] = {
            "basis": bases[dataset.id] or "",
            "digest": dataset_digest(dataset, api),
        }
    return parts


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


@dataclass(frozen=True)
class _Listed:
    """One product of the site: what the catalogue pages, the manifest and the digests need;
    ``product`` (with its table) only when it was made this time."""

    task: str
    id: str
    digest: str
    entries: dict[str, dict[str, object]]
    manifest: dict[str, object]
    product: Product | None


@dataclass
class _IndexUpdate:
    """What the site's new index holds: ``rows`` made this time, the last index's rows of the
    tasks in ``keep``, the datasets and the inputs fingerprint."""

    base: Index | None
    inputs: str
    rows: list[Row]
    keep: set[str]
    datasets: list[Dataset]

    def write(self, site: Path) -> None:
        write_index(site / INDEX_FILE, self.base, self.inputs, self.rows, self.keep, self.datasets)


def _write_site(
    site: Path,
    listed: list[_Listed],
    to_render: list[Product],
    lookups: Lookups,
    catalogue: Catalogue,
    now: datetime,
    workers: int,
    index: _IndexUpdate,
    reuse: tuple[Path, set[str]] | None = None,
    datasets: list[Dataset] | None = None,
    api: Path | None = None,
    api_digest: str = "",
    basis: dict[str, object] | None = None,
    api_parts: dict[str, dict[str, str]] | None = None,
) -> None:
    """Write the whole site into ``site``: ``to_render`` rendered, the products named in
    ``reuse`` carried over from the old site folder instead; the catalogue pages, manifest and
    bookkeeping of every ``listed`` product."""
    env = environment()
    extracted = now.strftime("%Y-%m-%d %H:%M")
    static = resources.files("migstat.publish") / "static"
    (site / "static").mkdir(parents=True)
    for item in static.iterdir():
        if item.is_file():
            (site / "static" / item.name).write_bytes(item.read_bytes())
    kept = reuse[1] if reuse else set()
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
            jobs.append(
                _Job(
                    site,
                    lang,
                    batch,
                    lookups,
                    catalogue,
                    extracted,
                    now.isoformat(timespec="seconds"),
                )
            )
    env.get_template("product.html")  # compiled here once, inherited by the forked workers
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            list(pool.map(_render_products, jobs))
    else:
        for job in jobs:
            _render_products(job)
    for lang in LANGS:
        entries = [item.entries[lang] for item in listed]
        page = env.get_template("catalogue.html").render(
            lang=lang,
            other="en" if lang == "es" else "es",
            t=UI[lang],
            entries=entries,
            options=options(entries, lang, lookups, catalogue),
            generated=extracted,
            root="../",
        )
        (site / lang / "index.html").write_text(page, encoding="utf-8")
    write_open_data(site, datasets or [], api, env, extracted)
    (site / "index.html").write_text(
        env.get_template("redirect.html").render(t=UI["es"]), encoding="utf-8"
    )
    manifest = [item.manifest for item in listed]
    (site / "products.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    index.write(site)
    write_state(site, {item.id: item.digest for item in listed}, api_digest, basis, api_parts)
    (site / SITE_MARKER).write_text(now.isoformat())


def write_open_data(
    site: Path, datasets: list[Dataset], api: Path | None, env: Environment, extracted: str
) -> None:
    """The static data API (``api/v1/``: catalogue, SDMX, JSON-stat; written beforehand into
    the folder ``api`` and moved in), its documentation page and the table builder, in both
    languages."""
    (site / API_DIR).parent.mkdir(parents=True, exist_ok=True)
    if api is not None:
        api.rename(site / API_DIR)
    else:
        (site / API_DIR).mkdir()
    for lang in LANGS:
        for name, template in (("api", "api.html"), ("builder", "builder.html")):
            folder = site / lang / name
            folder.mkdir(parents=True, exist_ok=True)
            page = env.get_template(template).render(
                lang=lang,
                other="en" if lang == "es" else "es",
                t=UI[lang],
                datasets=datasets,
                builder_limit=BUILDER_LIMIT,
                generated=extracted,
                root="../../",
                page=name,
            )
            (folder / "index.html").write_text(page, encoding="utf-8")


def _directory_size(path: Path) -> int:
    total = 0
    folders = [path]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
    return total


def publish(
    warehouse_path: Path,
    site_dir: Path,
    catalogue: Catalogue | None = None,
    workers: int | None = None,
    *,
    full: bool = False,
    say: Callable[[str], None] | None = None,
) -> PublishResult:
    """Render every product of the catalogue from the published warehouse into ``site_dir``.

    Only products whose data changed are rendered: each product's content hash (its query
    result and texts, plus a fingerprint of the renderer) is kept in the site folder, and an
    unchanged product's files are carried over as they are. When nothing changed at all, the
    site is left untouched. ``full`` renders everything again.

    The site is written beside the target and swapped in at the end, so a reader never sees a
    half-written site. An existing folder is replaced only when it holds a migstat site.
    Pages and downloads are written by ``workers`` processes (default: one per CPU). ``say``
    hears each stage as it starts (progress).
    """
    tell = say or (lambda _text: None)
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
    tell(f"reading the products from {warehouse_path}")
    _remove_leftovers(site_dir)
    now = datetime.now().astimezone()
    api = site_dir.with_name(f".{site_dir.name}.api-{os.getpid()}")
    shutil.rmtree(api, ignore_errors=True)
    try:
        return _publish(
            warehouse_path, site_dir, catalogue, workers, full, tell, started, now, api, is_site
        )
    finally:
        shutil.rmtree(api, ignore_errors=True)


def _remove_leftovers(site_dir: Path) -> None:
    """Remove what a killed publish into ``site_dir`` left beside it (its data API, site and
    old-site folders, named after its pid, gigabytes at scale); those of a live process stay."""
    for kind in ("api", "building", "old"):
        for folder in site_dir.parent.glob(f".{site_dir.name}.{kind}-*"):
            pid = folder.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                shutil.rmtree(folder, ignore_errors=True)


def _publish(
    warehouse_path: Path,
    site_dir: Path,
    catalogue: Catalogue,
    workers: int,
    full: bool,
    tell: Callable[[str], None],
    started: float,
    now: datetime,
    api: Path,
    is_site: bool,
) -> PublishResult:
    fresh = full or not is_site
    index = None if fresh else Index.open(site_dir)
    try:
        return _publish_with_index(
            warehouse_path, site_dir, catalogue, workers, fresh, tell, started, now, api, index
        )
    finally:
        if index is not None:
            index.close()


def _publish_with_index(
    warehouse_path: Path,
    site_dir: Path,
    catalogue: Catalogue,
    workers: int,
    fresh: bool,
    tell: Callable[[str], None],
    started: float,
    now: datetime,
    api: Path,
    index: Index | None,
) -> PublishResult:
    """The publish: with the last publish's ``index`` (None for a fresh or ``--full`` one),
    only the product queries the changed (country, source, year) keys can reach run and only
    their tables are held; the others keep their recorded digest and catalogue entries
    (:class:`Recorded`) while the inputs fingerprint and the names are the same."""
    state = {} if fresh else _read_digest_file(site_dir)
    renderer = renderer_fingerprint()
    inputs = inputs_fingerprint(renderer, catalogue)
    with Warehouse(warehouse_path, spill=True) as warehouse:
        lookups = Lookups(warehouse, catalogue)
        basis = data_basis(warehouse, lookups)
        before = state.get("basis")
        changes = changes_since(before, basis)
        same_texts = (
            changes is not None
            and index is not None
            and index.inputs == inputs
            and isinstance(before, dict)
            and basis is not None
            and before.get("names") == basis["names"]
        )
        legacy = read_tables(site_dir) if changes is not None and index is None else None
        if changes is not None and (index is not None or legacy is not None):
            tell(f"published data changed for {len(changes.keys)} (country, source, year) key(s)")
        tasks = list_tasks(warehouse, catalogue)
        keys = [task_key(spec, params) for spec, _scope, params in tasks]
        recorded = index.recorded() if same_texts and index is not None else {}

        def unchanged(task: Task) -> bool:
            return changes is not None and not changes.affects(task[1], task[2])

        need = [
            i
            for i, (task, key) in enumerate(zip(tasks, keys, strict=True))
            if not (key in recorded and unchanged(task))
        ]
        reused: set[str] = set()
        lock = Lock()

        def table_of(task: Task) -> ProductTable:
            key = task_key(task[0], task[2])
            if unchanged(task):
                if index is not None:
                    with lock:
                        table = index.table(key)
                else:
                    table = (legacy or {}).get(key)
                if table is not None:
                    reused.add(key)
                    return table
            return warehouse.table(task[0], task[2])

        tables = run_queries([tasks[i] for i in need], table_of, workers)
        found = dict(zip(need, tables, strict=True))
        legacy = None
        rows: list[Row] = []
        listed: list[_Listed] = []
        for i, (task, key) in enumerate(zip(tasks, keys, strict=True)):
            if i not in found:
                record = recorded[key]
                if record.product is not None:
                    listed.append(_listed(record))
                continue
            item = _make(task, key, found[i], catalogue, lookups, renderer)
            rows.append(Row(key, found[i]))
            if item is not None:
                rows[-1] = Row(key, found[i], item.id, item.digest, item.entries, item.manifest)
                listed.append(item)
        check_ids(item.id for item in listed)
        datasets = _datasets(warehouse, index if same_texts else None, changes)
        bases = {d.id: dataset_basis(basis, renderer, d) for d in datasets}
        api_parts = _open_data(
            warehouse, datasets, site_dir / API_DIR, api, state.get("parts"), bases, now, tell
        )
        api_digest = _combine([api_parts[d.id]["digest"] for d in datasets])
    update = _IndexUpdate(index, inputs, rows, set(keys) - {row.task for row in rows}, datasets)
    digests = {item.id: item.digest for item in listed}
    previous = {} if fresh else read_digests(site_dir)
    api_unchanged = not fresh and state.get("datasets") == api_digest
    kept = {
        product_id
        for product_id, digest in digests.items()
        if previous.get(product_id) == digest
        and (site_dir / "es" / "products" / f"{product_id}.html").exists()
    }
    queried = len(need) - len(reused)
    if previous == digests and kept == set(digests) and api_unchanged:
        if index is None or not index.holds(inputs, rows, len(set(keys)), datasets):
            update.write(site_dir)
        if before != basis or state.get("parts") != api_parts or index is None:
            write_state(site_dir, digests, api_digest, basis, api_parts)
        copy_into_site(warehouse_path, site_dir)
        return PublishResult(
            products=len(listed),
            seconds=time.perf_counter() - started,
            size_bytes=_directory_size(site_dir),
            site_dir=site_dir,
            rendered=0,
            queried=queried,
            queries=len(tasks),
        )
    to_render = [item for item in listed if item.id not in kept]
    tell(
        f"rendering {len(to_render)} of {len(listed)} products "
        f"({len(kept)} unchanged) with {workers} process(es)"
    )
    products = [_product(item, tasks, keys, index, catalogue, lookups) for item in to_render]
    work = site_dir.with_name(f".{site_dir.name}.building-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        _write_site(
            work,
            listed,
            products,
            lookups,
            catalogue,
            now,
            workers,
            update,
            (site_dir, kept) if kept else None,
            datasets,
            api,
            api_digest,
            basis,
            api_parts,
        )
        copy_into_site(warehouse_path, work)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = site_dir.with_name(f".{site_dir.name}.old-{os.getpid()}")
    if site_dir.exists():
        site_dir.rename(old)
    work.rename(site_dir)
    shutil.rmtree(old, ignore_errors=True)
    return PublishResult(
        products=len(listed),
        seconds=time.perf_counter() - started,
        size_bytes=_directory_size(site_dir),
        site_dir=site_dir,
        rendered=len(to_render),
        queried=queried,
        queries=len(tasks),
    )


def _listed(record: Recorded) -> _Listed:
    if record.product is None or record.digest is None or record.manifest is None:
        raise ValueError(f"{record.task}: a product record without its digest or manifest")
    return _Listed(
        record.task, record.product, record.digest, record.entries, record.manifest, None
    )


def _make(
    task: Task,
    key: str,
    table: ProductTable,
    catalogue: Catalogue,
    lookups: Lookups,
    renderer: str,
) -> _Listed | None:
    """The product of one query's table with its digest, catalogue entries and manifest item
    (None when the table is empty)."""
    product = make_product(task, table, catalogue, lookups)
    if product is None:
        return None
    return _Listed(
        key,
        product.id,
        product_digest(product, lookups, catalogue, renderer),
        {lang: catalogue_entry(product, lang, lookups, catalogue) for lang in LANGS},
        {
            "id": product.id,
            "spec": product.spec.id,
            "params": {k: str(v) for k, v in product.params.items()},
        },
        product,
    )


def _product(
    item: _Listed,
    tasks: list[Task],
    keys: list[str],
    index: Index | None,
    catalogue: Catalogue,
    lookups: Lookups,
) -> Product:
    """The product to render of a listed one: made this time, or a recorded one whose files are
    missing from the site (its table read from the index, one row)."""
    if item.product is not None:
        return item.product
    table = index.table(item.task) if index is not None else None
    product = (
        make_product(tasks[keys.index(item.task)], table, catalogue, lookups) if table else None
    )
    if product is None:
        raise MigstatError(
            f"the publish index has no table for product {item.id}: publish with --full "
            "(el índice de publicación no tiene la tabla del producto: publique con --full)"
        )
    return product


def _datasets(warehouse: Warehouse, index: Index | None, changes: Changes | None) -> list[Dataset]:
    """The open-data datasets. With the last publish's index (same inputs) and the changed
    keys, only the datasets of a changed source (every dataset for the indicators, computed
    across sources) read their structure from the warehouse again; the others come from the
    index. Any doubt (a new source or unit, a dataset gone) reads them all."""
    cached = index.datasets() if index is not None and changes is not None else None
    if not cached or changes is None:
        return load_datasets(warehouse)
    changed = {source for _country, source, _year in changes.keys}
    ids = {d.id for d in cached}
    for row in warehouse.records(
        "select source, counting_unit, count(*) over (partition by source) as units "
        "from marts.dim_sources"
    ):
        name = str(row["source"])
        dataset_id = name if row["units"] == 1 else f"{name}_{row['counting_unit']}"
        if name in changed and dataset_id not in ids:
            return load_datasets(warehouse)
    datasets: list[Dataset] = []
    for dataset in cached:
        source = dataset.query.params.get("source")
        if (source is None and not changes.keys) or (
            source is not None and str(source) not in changed
        ):
            datasets.append(dataset)
            continue
        again = load_datasets(warehouse, only=dataset.id)
        if len(again) != 1:
            return load_datasets(warehouse)
        datasets.append(again[0])
    return datasets
