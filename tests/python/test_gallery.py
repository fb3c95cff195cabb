"""The gallery of published tables (tests/python/gallery.py), end to end: each table is read by
its layout alone (placed under $MIGSTAT_HOME/specs/layouts, not in the repository), accepted
with no error, published with the table's own totals at every level, previewed by the layout
workbench, and a resubmission with one changed cell is quarantined naming that cell while the
accepted version stays published."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from gallery import GALLERY, LAYOUTS_DIR, Row, Table

pytestmark = pytest.mark.slow

MIGSTAT = str(Path(sys.executable).with_name("migstat"))
TABLES = [make() for make in GALLERY]


def run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MIGSTAT_HOME": str(home), "COLUMNS": "200"}
    done = subprocess.run(
        [MIGSTAT, *args], env=env, capture_output=True, text=True, check=False, timeout=900
    )
    if check and done.returncode not in (0, 1):
        raise AssertionError(f"migstat {' '.join(args)}: {done.returncode}\n{done.stderr}")
    return done


def changed_cell(table: Table) -> tuple[Row, str, int, int]:
    """The cell a resubmission changes: the first leaf with a number in its second data
    column, in the last block (a port's block when the table has blocks)."""
    first_data = 2 if table.total_column == "first" else 1
    column = first_data + 1
    for row in table.root.leaves():
        if row.block_values[-1][1]:
            number = row.written_at[-1]
            letter = chr(ord("A") + column)
            return row, f"{letter}{number}", number - 1, column
    raise AssertionError(f"{table.name}: no leaf with a number")


def resubmit(table: Table, folder: Path) -> tuple[Path, str]:
    """The same table with one cell changed by far more than any tolerance."""
    _, reference, row_index, column = changed_cell(table)
    bump = 7_000 if table.decimals else 7_000_000 if table.scale == 1 else 7_000

    def change(grid: list[list[object]]) -> None:
        grid[row_index][column] = float(grid[row_index][column]) + bump

    stem, suffix = table.file_name.rsplit(".", 1)
    table.file_name = f"{stem}_revisado.{suffix}"
    path = table.write(folder, change)
    table.file_name = f"{stem}.{suffix}"
    return path, reference


@pytest.fixture(scope="module")
def gallery_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    home = tmp_path_factory.mktemp("gallery-home")
    shutil.copytree(LAYOUTS_DIR, home / "specs" / "layouts")
    originals = home / "published"
    revised = home / "revised"
    originals.mkdir()
    revised.mkdir()
    files = {table.name: table.write(originals) for table in TABLES}
    changes = {table.name: resubmit(table, revised) for table in TABLES}
    for table in TABLES:
        table.grid()  # written_at and block values of the original, as published
    first = run(home, "load", str(originals))
    second = run(home, "load", str(revised))
    build = run(home, "build")
    db = home / "warehouse" / "migstat.duckdb"
    assert db.exists(), build.stdout + build.stderr
    return {
        "home": home,
        "files": files,
        "changes": changes,
        # Which user layouts are in use is progress, said on stderr.
        "load": first.stdout + first.stderr + second.stdout + second.stderr,
        "build": build,
        "db": db,
    }


def query(db: Path, sql: str, parameters: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, parameters or []).fetchall()


def submission(db: Path, file_name: str) -> tuple[int, str, str, int, int, int]:
    rows = query(
        db,
        "select submission_id, status, layout, cast(period as integer), first_month, last_month "
        "from marts.quality_submissions where file_name = ?",
        [file_name],
    )
    assert len(rows) == 1, f"{file_name}: {rows}"
    return rows[0]


def test_user_layouts_are_used_and_said(gallery_home):
    load = gallery_home["load"]
    for table in TABLES:
        assert f"{table.layout_id}.yml" in load


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_table_is_read_by_its_layout_and_accepted(gallery_home, table):
    db = gallery_home["db"]
    submission_id, status, layout, year, first, last = submission(db, table.file_name)
    assert layout == table.layout_id
    assert (year, first, last) == (table.year, *table.months)
    errors = query(
        db,
        "select rule_id, sheet, cell, message_en from marts.quality_rule_failures "
        "where submission_id = ? and severity = 'error'",
        [submission_id],
    )
    assert errors == []
    assert status == "accepted"


def published_by_row(db: Path, submission_id: int) -> dict[int, float]:
    """Published values summed per sheet row (from the cell reference of each observation)."""
    rows = query(
        db,
        "select cast(regexp_extract(cell, '[0-9]+$') as integer) as row_number, sum(value) "
        "from marts.fct_observations where submission_id = ? group by 1",
        [submission_id],
    )
    return dict(rows)


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_published_totals_equal_the_tables_own_at_every_level(gallery_home, table):
    db = gallery_home["db"]
    submission_id = submission(db, table.file_name)[0]
    published = published_by_row(db, submission_id)
    scale = table.scale
    blocks = range(1, len(table.blocks)) if table.blocks else range(1)
    checked = 0
    for row in table.root.walk():
        leaves = list(row.leaves())
        got = sum(published.get(leaf.written_at[block], 0.0) for leaf in leaves for block in blocks)
        printed = round(sum(row.values), table.decimals) * scale
        tolerance = 0.5 if not table.decimals else 0.05 * scale * (len(leaves) * table.columns + 1)
        assert abs(got - printed) <= tolerance, f"{row.label}: published {got}, table {printed}"
        checked += 1
    assert checked == len(list(table.root.walk()))
    flags = query(
        db,
        "select distinct obs_flag from marts.fct_observations where submission_id = ?",
        [submission_id],
    )
    assert flags == [("e" if table.decimals else None,)]


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_published_codes_are_the_tables_own(gallery_home, table):
    db = gallery_home["db"]
    submission_id = submission(db, table.file_name)[0]
    column = "country_from_code" if table.source == "returns" else "nationality_code"
    published = query(
        db,
        f"select distinct cast(regexp_extract(cell, '[0-9]+$') as integer), {column} "
        "from marts.fct_observations where submission_id = ?",
        [submission_id],
    )
    codes = {row: code for row, code in published}
    for leaf in table.root.leaves():
        for number in leaf.written_at[1:] if table.blocks else leaf.written_at:
            assert codes.get(number) == leaf.code, f"{leaf.label} row {number}"


def test_entries_indicator_is_the_grand_total(gallery_home):
    db = gallery_home["db"]
    for table in TABLES:
        if table.source != "entries_exits":
            continue
        has_nationals = any(leaf.code == table.country for leaf in table.root.leaves())
        column = "entries_total" if has_nationals else "entries_foreigners"
        found = query(
            db,
            f"select {column}, first_month, last_month from marts.movements_yearly "
            "where reporting_country_code = ? and year = ?",
            [table.country, table.year],
        )
        assert found and found[0][1:] == table.months
        printed = round(sum(table.root.values), table.decimals) * table.scale
        tolerance = 0.5 if not table.decimals else 0.05 * table.scale * 200
        assert found and abs(found[0][0] - printed) <= tolerance, (table.name, found, printed)


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_one_changed_cell_is_named_and_the_accepted_version_stays(gallery_home, table):
    db = gallery_home["db"]
    path, reference = gallery_home["changes"][table.name]
    revised_id, status, *_ = submission(db, path.name)
    assert status == "quarantined"
    suspects = query(
        db,
        "select sheet, cell from marts.quality_rule_failures "
        "where submission_id = ? and rule_id = 'ADD-003'",
        [revised_id],
    )
    assert suspects == [(table.sheet, reference)]
    original_id = submission(db, table.file_name)[0]
    published = query(
        db,
        "select distinct submission_id from marts.fct_observations "
        "where reporting_country_code = ? and source = ? and year = ?",
        [table.country, table.source, table.year],
    )
    assert published == [(original_id,)]


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_layout_check_previews_the_table(gallery_home, table):
    home = gallery_home["home"]
    path = gallery_home["files"][table.name]
    done = run(home, "layout", "check", str(path), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["layout"] == table.layout_id
    assert report["findings"] == []
    kinds = {row["row_number"]: row["kind"] for row in report["rows"]}
    for row in table.root.walk():
        expected = {"detail", "member"} if not row.children else {"aggregate", "total"}
        for number in row.written_at:
            assert kinds[number] in expected, f"{row.label} row {number}: {kinds[number]}"
    revised, _ = gallery_home["changes"][table.name]
    done = run(home, "layout", "check", str(revised), "--json")
    assert done.returncode == 1
    cells = {finding["cell"] for finding in json.loads(done.stdout)["findings"]}
    assert cells, "a changed cell must make a total fail"


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_layout_draft_reads_the_table_shape(gallery_home, table, tmp_path):
    home = gallery_home["home"]
    path = gallery_home["files"][table.name]
    draft = tmp_path / "draft.yml"
    done = run(home, "layout", "draft", str(path), "-o", str(draft))
    assert done.returncode == 0, done.stderr
    checked = run(home, "layout", "check", str(path), "--layout", str(draft), "--json")
    report = json.loads(checked.stdout)
    first_leaf = next(table.root.leaves())
    assert report["year"] == table.year
    assert (report["first_month"], report["last_month"]) == table.months
    assert any(row["row_number"] == first_leaf.written_at[0] for row in report["rows"])
