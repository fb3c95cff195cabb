"""The publish index (``.migstat-index.sqlite``): a publish reads from it only the tables the
changed (country, source, year) keys reach, keeps the other rows without decoding them, and the
site it makes is the one a full publish makes."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import duckdb
from fixtures.marts import build_fixture_warehouse

from migstat.publish import publish
from migstat.publish.index import INDEX_FILE, Index
from migstat.publish.site import DIGESTS_FILE, TABLES_FILE

SPOILED = "spoiled"


def _published_basis(db: Path) -> None:
    """What ``migstat build`` writes beside the marts: the build's fingerprint and the
    published submission of every (country, source, period)."""
    with duckdb.connect(str(db)) as con:
        con.execute("create schema build_meta")
        con.execute("create table build_meta.build as select 'fingerprint-1' as fingerprint")
        con.execute(
            "create table marts.quality_submissions as select distinct "
            "coalesce(submission_id, 1) as submission_id, "
            "reporting_country_code as country_code, source, year::varchar as period, "
            "true as is_published, 'a.xlsx' as file_name from marts.fct_observations"
        )


def _spoil(site: Path) -> int:
    """Replace every table of the index by text that is not a table; the number of rows."""
    with sqlite3.connect(site / INDEX_FILE) as con:
        return con.execute("update tasks set body = ?", [SPOILED]).rowcount


def _bodies(site: Path) -> dict[str, str]:
    with sqlite3.connect(site / INDEX_FILE) as con:
        return dict(con.execute("select task, body from tasks").fetchall())


def _snapshot(site: Path) -> dict[str, tuple[int, int]]:
    return {
        f.relative_to(site).as_posix(): (f.stat().st_ino, f.stat().st_mtime_ns)
        for f in site.rglob("*")
        if f.is_file()
    }


def _shown(site: Path) -> dict[str, object]:
    """What a site shows besides when it was written: every product's digest, the manifest and
    both catalogue pages (their generation time masked)."""
    time = re.compile(r"<time>[^<]*</time>")
    return {
        "digests": json.loads((site / DIGESTS_FILE).read_text(encoding="utf-8"))["products"],
        "manifest": (site / "products.json").read_text(encoding="utf-8"),
        **{
            lang: time.sub("", (site / lang / "index.html").read_text(encoding="utf-8"))
            for lang in ("es", "en")
        },
    }


def test_a_publish_reads_only_the_tables_the_changed_keys_reach(tmp_path: Path) -> None:
    db = build_fixture_warehouse(tmp_path / "migstat.duckdb", years=(2023, 2024))
    _published_basis(db)
    site = tmp_path / "site"
    first = publish(db, site, workers=1)
    assert first.queried == first.queries >= first.products > 0
    assert not (site / TABLES_FILE).exists()
    # The datasets' structures are kept too (each as it came from the warehouse).
    index = Index.open(site)
    assert index is not None
    kept = index.datasets()
    index.close()
    assert kept and len(kept) == len(
        json.loads((site / "api" / "v1" / "datasets.json").read_text(encoding="utf-8"))["datasets"]
    )
    # Nothing changed: no table is read (all spoiled here, a read would query the warehouse
    # again) and no file of the site, the index included, is written.
    rows = _spoil(site)
    assert rows == first.queries
    before = _snapshot(site)
    idle = publish(db, site, workers=1)
    assert (idle.queried, idle.rendered, idle.products) == (0, 0, first.products)
    assert _snapshot(site) == before
    # GTM's asylum 2024 is published anew with other numbers: only the product queries that
    # key reaches run; the index keeps the other rows as they were (not decoded: still
    # spoiled), and the site shows what a full publish of the same warehouse shows.
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update marts.quality_submissions set submission_id = 999, file_name = 'b.xlsx' "
            "where country_code = 'GTM' and period = '2024' and source = 'asylum'"
        )
        con.execute(
            "update marts.asylum_yearly set decisions_rejected = decisions_rejected + 7, "
            "decisions_total = decisions_total + 7 "
            "where reporting_country_code = 'GTM' and year = 2024"
        )
    corrected = publish(db, site, workers=1)
    assert 0 < corrected.queried < corrected.queries
    assert 0 < corrected.rendered < corrected.products
    bodies = _bodies(site)
    fresh = {task for task, body in bodies.items() if body != SPOILED}
    assert len(fresh) == corrected.queried
    assert all('"GTM"' in task or "country" not in task for task in fresh), fresh
    full = publish(db, tmp_path / "full", workers=1, full=True)
    assert _shown(site) == _shown(full.site_dir)
    index = Index.open(full.site_dir)
    assert index is not None
    full_tables = dict(index.tables())
    index.close()
    assert {task: json.loads(bodies[task]) for task in fresh} == {
        task: full_tables[task] for task in fresh
    }


def test_a_new_source_title_remakes_the_products_from_the_indexed_tables(tmp_path: Path) -> None:
    """A source's title changes (no submission does): no query runs, every table is read from
    the index, and the products that name the source are rendered again, as a full publish
    renders them."""
    db = build_fixture_warehouse(tmp_path / "migstat.duckdb", years=(2023, 2024))
    _published_basis(db)
    site = tmp_path / "site"
    first = publish(db, site, workers=1)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update marts.dim_sources set source_title_es = 'Asilo (revisado)', "
            "source_title_en = 'Asylum (revised)' where source = 'asylum'"
        )
    renamed = publish(db, site, workers=1)
    assert renamed.queried == 0
    assert 0 < renamed.rendered < first.products
    assert "Asilo (revisado)" in (site / "es" / "index.html").read_text(encoding="utf-8")
    full = publish(db, tmp_path / "full", workers=1, full=True)
    assert _shown(site) == _shown(full.site_dir)


def test_a_site_published_before_the_index_is_carried_on_by_its_tables_file(
    tmp_path: Path,
) -> None:
    """A site of the former layout (every table in one JSON file, no index): the next publish
    takes the tables from that file (no query runs), writes the index and removes the file."""
    db = build_fixture_warehouse(tmp_path / "migstat.duckdb", years=(2023, 2024))
    _published_basis(db)
    site = tmp_path / "site"
    first = publish(db, site, workers=1)
    index = Index.open(site)
    assert index is not None
    tables = dict(index.tables())
    index.close()
    (site / INDEX_FILE).unlink()
    (site / TABLES_FILE).write_text(json.dumps(tables), encoding="utf-8")
    again = publish(db, site, workers=1)
    assert (again.queried, again.rendered) == (0, 0)
    assert not (site / TABLES_FILE).exists()
    index = Index.open(site)
    assert index is not None
    assert dict(index.tables()) == tables
    index.close()
    assert again.products == first.products
