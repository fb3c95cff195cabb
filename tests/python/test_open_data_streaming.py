"""The open data is streamed from DuckDB: files the same whatever the chunk size, the same bytes
as the whole-set writers (pysdmx's SDMX-CSV, one ``json.dumps`` of a JSON-stat document), and
the same files when DuckDB's memory limit is smaller than the fact table (it spills).

Real DuckDB files in the marts' shape (``fixtures/marts.py``); no mock.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pysdmx.io import write_sdmx
from pysdmx.io.format import Format
from pysdmx.io.pd import PandasDataset
from pysdmx.model import DataStructureDefinition

from migstat.publish.data import TOTAL, Warehouse
from migstat.publish.datasets import (
    ATTRIBUTES,
    MEASURE,
    Dataset,
    Query,
    as_text,
    load_datasets,
    observations,
)
from migstat.publish.export import FORMATS, dataset_files, export, write_datasets
from migstat.publish.jsonstat import _number, _values
from migstat.publish.sdmx import structures

sys.path.insert(0, str(Path(__file__).parent))
from fixtures.marts import build_fixture_warehouse

NOW = datetime(2026, 1, 2, 3, 4, 5).astimezone()
DATA_SUFFIXES = (".sdmx.csv", ".json")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("streaming")
    return build_fixture_warehouse(root / "migstat.duckdb", years=(2022, 2023, 2024))


def _data_files(folder: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name.endswith(DATA_SUFFIXES)
    }


def test_chunked_files_are_the_same_as_one_chunk(warehouse: Path, tmp_path: Path) -> None:
    """Chunks of 7 observations (every dataset needs several) give the same bytes as one chunk
    holding every observation, in every format, the catalogue included."""
    with Warehouse(warehouse, spill=True) as source:
        datasets = load_datasets(source)
        assert max(d.count for d in datasets) > 7 * 10
        write_datasets(source, datasets, tmp_path / "whole", FORMATS, NOW, chunk_rows=10**9)
        write_datasets(source, datasets, tmp_path / "chunked", FORMATS, NOW, chunk_rows=7)
    whole, chunked = _data_files(tmp_path / "whole"), _data_files(tmp_path / "chunked")
    assert len(whole) == 3 * len(datasets) + 1  # SDMX-CSV, two JSON-stat, datasets.json
    assert whole == chunked
    values = [json.loads(chunked[n])["value"] for n in chunked if n.endswith(".en.json")]
    assert any(isinstance(v, list) for v in values) and any(isinstance(v, dict) for v in values), (
        "both JSON-stat layouts (dense array, sparse object) are covered"
    )


def _reference_csv(dataset: Dataset, rows: list, path: Path) -> None:
    """SDMX-CSV 2.0 of the whole dataset at once, by pysdmx (the writer before streaming)."""
    columns = [d.id for d in dataset.dimensions]
    records = []
    for obs in rows:
        row: dict[str, object] = dict(zip(columns, obs.key, strict=True))
        row[MEASURE] = obs.value
        row["OBS_STATUS"] = obs.flag or ""
        row["UNIT_MEASURE"] = obs.unit
        row["COMMENT_OBS"] = obs.note or ""
        records.append(row)
    frame = pd.DataFrame.from_records(records, columns=[*columns, MEASURE, *ATTRIBUTES])
    frame[MEASURE] = frame[MEASURE].astype("float64")
    dsd = structures(dataset)[-1]
    assert isinstance(dsd, DataStructureDefinition)
    data = PandasDataset(structure=dsd.to_schema(), data=frame)
    write_sdmx([data], Format.DATA_SDMX_CSV_2_0_0, output_path=str(path))


def _reference_value_and_status(dataset: Dataset, rows: list) -> tuple[object, object]:
    """JSON-stat's value and status of the whole dataset held in memory (before streaming)."""
    size = [len(d.codes) for d in dataset.dimensions]
    positions = [{c.id: i for i, c in enumerate(d.codes)} for d in dataset.dimensions]
    strides = [1] * len(size)
    for i in range(len(size) - 2, -1, -1):
        strides[i] = strides[i + 1] * size[i + 1]
    cells = {}
    for obs in rows:
        flat = sum(p[c] * s for p, c, s in zip(positions, obs.key, strides, strict=True))
        cells[flat] = (_number(obs.value), obs.flag)
    return _values(size, cells)


def test_streamed_files_are_what_the_whole_set_writers_write(
    warehouse: Path, tmp_path: Path
) -> None:
    with Warehouse(warehouse, spill=True) as source:
        datasets = load_datasets(source)
        write_datasets(source, datasets, tmp_path, FORMATS, NOW, chunk_rows=5)
        for dataset in datasets:
            rows = [obs for chunk in observations(source, dataset) for obs in chunk]
            assert len(rows) == dataset.count
            assert [o.key for o in rows] == sorted(o.key for o in rows)
            names = dataset_files(dataset.id)
            reference = tmp_path / "reference.csv"
            _reference_csv(dataset, rows, reference)
            assert (tmp_path / names["sdmx-csv"][0]).read_bytes() == reference.read_bytes()
            value, status = _reference_value_and_status(dataset, rows)
            for name in names["json-stat"]:
                text = (tmp_path / name).read_text(encoding="utf-8")
                document = json.loads(text)
                assert document["value"] == value and document["status"] == status
                assert document["extension"]["totals"] == TOTAL
                # one json.dumps of the whole document writes the same bytes
                assert json.dumps(document, ensure_ascii=False, separators=(",", ":")) == text


def _inflated(warehouse: Path, path: Path, copies: int) -> Path:
    """The warehouse with ``copies`` more years of entries per year (shifted by 100 each)."""
    path.write_bytes(warehouse.read_bytes())
    with duckdb.connect(str(path)) as con:
        con.execute(
            "insert into marts.fct_observations select f.* replace ("
            "f.year + 100 * r.range as year, f.observation_id || '-' || r.range as observation_id)"
            " from marts.fct_observations as f, range(1, $n) as r"
            " where f.source = 'entries_exits'",
            {"n": copies + 1},
        )
    return path


def test_open_data_under_a_memory_limit_smaller_than_the_facts(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With DuckDB's memory limit below what the fact table takes in memory (a sort of it
    without a spill folder runs out of memory), the export spills to its own folder, gives
    the same files as without a limit, and removes the folder."""
    big = _inflated(warehouse, tmp_path / "big.duckdb", 80)
    limit = "64MB"
    with (
        duckdb.connect(
            str(big),
            read_only=True,
            config={"memory_limit": limit, "threads": "1", "temp_directory": ""},
        ) as con,
        pytest.raises(duckdb.OutOfMemoryException),
    ):
        con.execute("select * from marts.fct_observations order by all").fetchmany(1)
    free = export(big, tmp_path / "free", FORMATS)
    spill_root = tmp_path / "spill"
    monkeypatch.setenv("MIGSTAT_DUCKDB_MEMORY_LIMIT", limit)
    monkeypatch.setenv("MIGSTAT_DUCKDB_THREADS", "1")
    monkeypatch.setenv("MIGSTAT_DUCKDB_TEMP_DIRECTORY", str(spill_root))
    bounded = export(big, tmp_path / "bounded", FORMATS)
    assert bounded.datasets == free.datasets
    first, second = _data_files(tmp_path / "free"), _data_files(tmp_path / "bounded")
    catalogue = "datasets.json"
    assert (
        json.loads(first.pop(catalogue))["datasets"]
        == json.loads(second.pop(catalogue))["datasets"]
    )
    assert first.keys() == second.keys()
    for name in first:  # JSON-stat's "updated" is the export's time when no submission says
        assert first[name].split(b'"updated"')[0] == second[name].split(b'"updated"')[0], name
        assert first[name].split(b'"source":')[-1] == second[name].split(b'"source":')[-1], name
    entries = json.loads((tmp_path / "bounded" / "entries_exits.en.json").read_text("utf-8"))
    assert len(entries["dimension"]["TIME_PERIOD"]["category"]["index"]) > 80
    assert spill_root.is_dir() and not any(spill_root.iterdir())


def test_builder_offers_only_datasets_it_can_load(warehouse: Path) -> None:
    """A dataset over the builder's limit is not offered in the page; a note says so, in the
    page's language, and points to the data API."""
    from migstat.publish.i18n import UI
    from migstat.publish.views import environment

    with Warehouse(warehouse) as source:
        datasets = load_datasets(source)
    largest = max(datasets, key=lambda d: d.count)
    limit = largest.count - 1
    pages = {
        lang: environment()
        .get_template("builder.html")
        .render(
            lang=lang,
            other="en",
            t=UI[lang],
            datasets=datasets,
            builder_limit=limit,
            generated="",
            root="../../",
            page="builder",
        )
        for lang in ("es", "en")
    }
    for lang, page in pages.items():
        assert f'<option value="{largest.id}">' not in page
        assert f"{largest.name.get(lang)} (" in page
        assert f'href="../../{lang}/api/index.html"' in page
    assert "Demasiado grandes para explorarlos en la página" in pages["es"]
    assert "Too large to explore in the page" in pages["en"]
    everything = (
        environment()
        .get_template("builder.html")
        .render(
            lang="es",
            other="en",
            t=UI["es"],
            datasets=datasets,
            builder_limit=10**9,
            generated="",
            root="",
            page="builder",
        )
    )
    assert "Demasiado grandes" not in everything
    assert everything.count("<option value=") >= len(datasets)


def _api_inodes(site: Path) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in (site / "api" / "v1").iterdir()}


def test_open_data_is_carried_over_while_its_basis_is_unchanged(tmp_path: Path) -> None:
    """At scale, streaming the open data is most of a publish: while the data basis (the
    build's fingerprint and every published submission) and the code are the same, the last
    publish's files are carried into the new site (hard links); a newly published submission
    writes them again, equal to a full publish."""
    from migstat.publish import publish

    db = build_fixture_warehouse(tmp_path / "migstat.duckdb", years=(2023, 2024))
    _published_basis(db)
    site = tmp_path / "site"
    publish(db, site, workers=1)
    before = _api_inodes(site)
    # A product's number changes, not the basis: products are rendered again, the data API
    # files are the same files.
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update marts.asylum_yearly set decisions_rejected = decisions_rejected + 7 "
            "where reporting_country_code = 'GTM' and year = 2024"
        )
    heard: list[str] = []
    second = publish(db, site, workers=1, say=heard.append)
    assert second.rendered > 0
    assert any("open data unchanged" in line for line in heard)
    assert _api_inodes(site) == before
    # A submission published anew: the open data is written again, as a full publish writes it.
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update marts.quality_submissions set file_name = 'b.xlsx', submission_id = 999 "
            "where country_code = 'GTM' and period = '2024'"
        )
        con.execute(
            "update marts.fct_observations set submission_id = 999 "
            "where reporting_country_code = 'GTM' and year = 2024"
        )
    heard.clear()
    publish(db, site, workers=1, say=heard.append)
    assert not any("open data unchanged" in line for line in heard)
    after = _api_inodes(site)
    assert after.keys() == before.keys() and all(after[n] != before[n] for n in after)
    full = publish(db, tmp_path / "full", workers=1, full=True)
    assert (
        _data_files(site / "api" / "v1").keys() == _data_files(full.site_dir / "api" / "v1").keys()
    )
    assert "b.xlsx" in (site / "api" / "v1" / "datasets.json").read_text(encoding="utf-8")


def _published_basis(db: Path) -> None:
    """Give a fixture warehouse what ``migstat build`` writes beside the marts: the build's
    fingerprint and the published submission of every (country, source, period)."""
    with duckdb.connect(str(db)) as con:
        con.execute("create schema build_meta")
        con.execute("create table build_meta.build as select 'fingerprint-1' as fingerprint")
        con.execute(
            "create table marts.quality_submissions as select distinct submission_id, "
            "reporting_country_code as country_code, source, year::varchar as period, "
            "true as is_published, 'a.xlsx' as file_name from marts.fct_observations"
        )


def _masked(files: dict[str, bytes]) -> dict[str, bytes]:
    """Data files without the time they were written (JSON-stat ``updated``, the catalogue's
    ``generated``): what a carried-over file keeps from the publish that wrote it."""
    pattern = re.compile(rb'"(updated|generated)": ?"[^"]*"')
    return {name: pattern.sub(b"", data) for name, data in files.items()}


def test_a_changed_source_rewrites_only_its_datasets(tmp_path: Path) -> None:
    """A corrected workbook of one (country, source, year): the next publish streams again only
    the datasets of that source and the indicators (computed across sources); every other
    dataset's files are the last publish's files (same inodes). Together they are what a full
    publish writes (too little rewritten would leave the old numbers; too much would change
    the inodes of the other sources)."""
    from migstat.publish import publish

    db = build_fixture_warehouse(tmp_path / "migstat.duckdb", years=(2023, 2024))
    _published_basis(db)
    site = tmp_path / "site"
    publish(db, site, workers=1)
    before = _api_inodes(site)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update marts.quality_submissions set file_name = 'b.xlsx', submission_id = 999 "
            "where country_code = 'GTM' and period = '2024' and source = 'returns'"
        )
        con.execute(
            "update marts.fct_observations set submission_id = 999, value = value + 1 "
            "where reporting_country_code = 'GTM' and year = 2024 and source = 'returns'"
        )
        con.execute(
            "update marts.indicators set value = value + 1 "
            "where reporting_country_code = 'GTM' and year = 2024"
        )
    heard: list[str] = []
    publish(db, site, workers=1, say=heard.append)
    assert any("of 2 of 8 dataset(s)" in line and "6 unchanged" in line for line in heard), heard
    after = _api_inodes(site)
    assert after.keys() == before.keys()
    rewritten = {name for name in after if after[name] != before[name]}
    expected = {
        name
        for dataset in ("returns", "indicators")
        for names in dataset_files(dataset).values()
        for name in names
    }
    assert rewritten == expected | {"datasets.json"}
    full = publish(db, tmp_path / "full", workers=1, full=True)
    selective_files = _masked(_data_files(site / "api" / "v1"))
    assert selective_files == _masked(_data_files(full.site_dir / "api" / "v1"))
    assert b"b.xlsx" in selective_files["datasets.json"]
    # Nothing changed since: nothing is written, the open data included.
    heard.clear()
    again = publish(db, site, workers=1, say=heard.append)
    assert again.rendered == 0
    assert any("open data unchanged" in line for line in heard)
    assert _api_inodes(site) == after


def test_a_killed_publish_leaves_nothing_for_long(warehouse: Path, tmp_path: Path) -> None:
    """The folders a killed publish leaves beside the site (named after its pid) are removed by
    the next publish; those of a live publish are left alone."""
    import os

    from migstat.publish import publish

    site = tmp_path / "site"
    dead = _ended_pid()
    left = [tmp_path / f".site.{kind}-{dead}" for kind in ("api", "building", "old")]
    for folder in left:
        (folder / "api" / "v1").mkdir(parents=True)
        (folder / "api" / "v1" / "entries_exits.sdmx.csv").write_text("x")
    live = tmp_path / f".site.building-{os.getppid()}"
    live.mkdir()
    publish(warehouse, site, workers=1)
    assert not any(folder.exists() for folder in left)
    assert live.is_dir()


def test_a_killed_publish_spill_folder_is_removed_by_the_next(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's spill folder of a killed publish (2.4 GB at tier L) is removed when the next
    publish or export opens the warehouse: by the pid in its name, or in DuckDB's file names
    for a folder named the earlier way; a live process's folder stays."""
    import os

    from migstat.publish.data import SPILL_PREFIX

    monkeypatch.setenv("MIGSTAT_DUCKDB_TEMP_DIRECTORY", str(tmp_path))
    dead, live = _ended_pid(), os.getppid()
    left = tmp_path / f"{SPILL_PREFIX}{dead}-abc"
    older = tmp_path / f"{SPILL_PREFIX}xyz"
    running = tmp_path / f"{SPILL_PREFIX}{live}-def"
    for folder, owner in ((left, dead), (older, dead), (running, live)):
        folder.mkdir()
        (folder / f"duckdb_temp_{owner}_0_owner").write_text("")
    with Warehouse(warehouse, spill=True) as opened:
        assert opened.spill is not None and opened.spill.is_dir()
        assert opened.spill.name.startswith(f"{SPILL_PREFIX}{os.getpid()}-")
        assert not left.exists() and not older.exists()
        assert running.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == [running.name]


def _ended_pid() -> int:
    """The pid of a process that has ended (and was reaped)."""
    import subprocess

    process = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(process.stdout)


def _every_cell_window(query: Query) -> str:
    """The observations as every publish before this one read them: a window over every
    cell, partitioned by key and ordered by the tiebreak (no shortcut for unique keys)."""
    keys = [f"{sql} as k{i}" for i, sql in enumerate(query.keys)]
    names = ", ".join(f"k{i}" for i in range(len(query.keys)))
    return (
        f"select {names}, value, obs_flag, unit from ("
        f"select {', '.join(keys)}, value, obs_flag, unit, row_number() over ("
        f"partition by {', '.join(query.keys)} order by {', '.join(query.tiebreak)}) as rn_ "
        f"from ({query.base})) where rn_ = 1"
    )


def test_only_shared_keys_go_through_the_window(warehouse: Path, tmp_path: Path) -> None:
    """The observations (one per key, the first cell in tiebreak order) are those of a window
    over every cell, in every dataset, when some keys are held by two cells (the same cell in
    two cross-classifications: copies with another sheet, before or after the original in the
    tiebreak, and another value and flag)."""
    path = tmp_path / "shared.duckdb"
    path.write_bytes(warehouse.read_bytes())
    with duckdb.connect(str(path)) as con:
        con.execute(
            "insert into marts.fct_observations select f.* exclude (rn) replace ("
            "case when rn % 2 = 0 then '' else 'zz' end as sheet, "
            "f.value + 1 as value, 'p' as obs_flag) from ("
            "select *, row_number() over () as rn from marts.fct_observations) as f "
            "where rn % 7 = 0"
        )
    shared = 0
    with Warehouse(path) as source:
        for dataset in load_datasets(source):
            query = dataset.query
            names = ", ".join(f"k{i}" for i in range(len(query.keys)))
            new = source.stream(
                f"select * from ({query.observations_sql()}) order by {names}", query.params
            ).fetchall()
            old = source.stream(
                f"select * from ({_every_cell_window(query)}) order by {names}", query.params
            ).fetchall()
            assert new == old, dataset.id
            assert len(new) == dataset.count
            cells = source.stream(f"select count(*) from ({query.base})", query.params)
            shared += int(cells.fetchall()[0][0]) - len(new)
    assert shared > 0, "the fixture has keys held by more than one cell"


def test_text_made_by_duckdb_is_what_python_formats(warehouse: Path, tmp_path: Path) -> None:
    """When no field needs quoting and every value is whole, DuckDB makes the SDMX-CSV lines
    and the sparse JSON-stat items as text; the files are the bytes the Python writers make
    from rows (the same dataset with the text path switched off, ``whole`` false)."""
    with Warehouse(warehouse) as source:
        datasets = load_datasets(source)
        text = [d for d in datasets if as_text(d)]
        sparse = [d for d in text if d.count * 2 < _cube(d)]
        assert text and sparse, "both writers' text paths are exercised"
        rows = [
            dataclasses.replace(d, query=dataclasses.replace(d.query, whole=False)) for d in text
        ]
        assert not any(as_text(d) for d in rows)
        write_datasets(source, text, tmp_path / "text", FORMATS, NOW, chunk_rows=3)
        write_datasets(source, rows, tmp_path / "rows", FORMATS, NOW, chunk_rows=3)
    assert _data_files(tmp_path / "text") == _data_files(tmp_path / "rows")


def _cube(dataset: Dataset) -> int:
    total = 1
    for dim in dataset.dimensions:
        total *= len(dim.codes)
    return total


def test_text_path_is_left_for_values_or_codes_it_cannot_write_as_they_are(
    warehouse: Path, tmp_path: Path
) -> None:
    """A value that is not whole, or a code holding a comma, turns the text path
    off (``csv.writer`` quotes the field, ``json.dumps`` writes the float)."""
    path = tmp_path / "odd.duckdb"
    path.write_bytes(warehouse.read_bytes())
    with duckdb.connect(str(path)) as con:
        con.execute(
            "update marts.fct_observations set value = value + 0.25 where source = 'returns'"
        )
        con.execute(
            "update marts.fct_observations set nationality_code = 'X,1' "
            "where source = 'entries_exits' and nationality_code = (select min("
            "nationality_code) from marts.fct_observations where source = 'entries_exits')"
        )
    export(path, tmp_path / "odd", FORMATS)
    with Warehouse(path) as source:
        by_id = {d.id: d for d in load_datasets(source)}
    assert not as_text(by_id["returns"]) and not by_id["returns"].query.whole
    assert by_id["entries_exits"].query.whole and not as_text(by_id["entries_exits"])
    csv_text = (tmp_path / "odd" / "entries_exits.sdmx.csv").read_text("utf-8")
    assert ',"X,1",' in csv_text
    values = json.loads((tmp_path / "odd" / "returns.en.json").read_text("utf-8"))["value"]
    listed = values if isinstance(values, list) else list(values.values())
    assert any(isinstance(v, float) and v % 1 == 0.25 for v in listed)
