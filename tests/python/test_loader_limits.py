"""The loader's limits: hostile workbooks are rejected by rule, naming file, sheet and cell, within
a memory bound, and never stop the other files of the same command from loading.

Every hostile file is built here (see ``limits_corpus``). Each kind is loaded by a real
``migstat load`` process next to a good workbook; its peak memory (the largest resident size of
the command or any of its reader processes) is read from ``getrusage(RUSAGE_CHILDREN)`` in a
fresh wrapper process, so nothing else the test run started is counted.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import openpyxl
import pytest
from limits_corpus import (
    decompression_bomb,
    far_cell,
    filled_template,
    giant_text_cell,
    long_shared_string,
    minimal_xlsx,
    oversized_file,
    repeated_cells_ods,
    shared_strings_bomb,
    sheet_xml,
    truncated_zip,
)
from python_calamine import CalamineWorkbook

from loaders.limits import Limits, ZipWorkbook
from loaders.load import load_paths
from loaders.workbook import SheetGrid, Workbook
from migstat.errors import MigstatError, WorkbookRejected
from migstat.home import Home
from migstat.specs import load_specs

PEAK_BOUND_MB = 500
"""The documented bound on the loader's peak memory (README, "Loader limits")."""

WRAPPER = """
import json, resource, subprocess, sys
run = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": run.returncode, "peak_mb": peak / 1024,
                  "stdout": run.stdout, "stderr": run.stderr}))
"""


def load_measured(home: Path, *paths: Path, env: dict[str, str] | None = None) -> dict:
    """Run ``migstat load`` in a fresh process; its exit code, output and peak memory (MB)."""
    environment = {**os.environ, "MIGSTAT_HOME": str(home), **(env or {})}
    command = [sys.executable, "-c", WRAPPER, sys.executable, "-m", "migstat", "load"]
    done = subprocess.run(
        [*command, *(str(path) for path in paths)],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    return json.loads(done.stdout)


def submissions(home: Path) -> dict[str, dict]:
    db = home / "warehouse" / "landing.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select file_name, status, error_rule, error_sheet, error_cell, error_message, "
            "error_message_es from raw.submissions"
        ).fetchall()
    keys = ("status", "rule", "sheet", "cell", "message", "message_es")
    return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in rows}


# kind -> (builder(folder) -> file, rule, words in the message, sheet, cell)
Builder = Callable[[Path], Path]
KINDS: dict[str, tuple[Builder, str, str, str | None, str | None]] = {
    "decompression bomb (300 MB of zeros in a sheet)": (
        lambda folder: decompression_bomb(folder / "GTM_returns_2001.xlsx"),
        "STR-LIMIT",
        "inflates to 300.0 MB",
        None,
        None,
    ),
    "shared-strings bomb (one 100 MB string)": (
        lambda folder: shared_strings_bomb(folder / "GTM_returns_2002.xlsx"),
        "STR-LIMIT",
        "decompression bomb",
        None,
        None,
    ),
    "shared string over 32,767 characters": (
        lambda folder: long_shared_string(folder / "GTM_returns_2003.xlsx"),
        "STR-LIMIT",
        "40,000 characters",
        "Metadatos",
        "C7",
    ),
    "one cell at XFD1048576 under a small dimension": (
        lambda folder: far_cell(folder / "GTM_returns_2004.xlsx"),
        "STR-LIMIT",
        "uses cell XFD1048576",
        "Metadatos",
        "XFD1048576",
    ),
    "dimension declared as A1:XFD1048576": (
        lambda folder: far_cell(folder / "GTM_returns_2005.xlsx", "A1:XFD1048576"),
        "STR-LIMIT",
        "declares its size as XFD1048576",
        "Metadatos",
        "XFD1048576",
    ),
    "inline text cell over 32,767 characters": (
        lambda folder: giant_text_cell(folder, "GTM_returns_2006.xlsx"),
        "STR-LIMIT",
        "40,006 characters",
        "POR_MES_SEXO",
        "A8",
    ),
    "corrupt (truncated) zip": (
        lambda folder: truncated_zip(folder, "GTM_returns_2007.xlsx"),
        "STR-READ",
        "not a readable workbook",
        None,
        None,
    ),
    "ods of 1 KB repeating one cell 99 million times": (
        lambda folder: repeated_cells_ods(folder / "GTM_returns_2010.ods"),
        "STR-LIMIT",
        "ran out of memory",
        None,
        None,
    ),
    "file over the size limit (51 MB)": (
        lambda folder: oversized_file(folder / "GTM_returns_2008.xlsx"),
        "STR-LIMIT",
        "over the limit of 50.0 MB",
        None,
        None,
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_hostile_file_is_rejected_by_rule_and_its_folder_still_loads(
    tmp_path: Path, kind: str
) -> None:
    builder, rule, words, sheet, cell = KINDS[kind]
    folder = tmp_path / "inbox"
    filled_template(folder, "GTM_returns_2000.xlsx", 2000)
    hostile = builder(folder)
    filled_template(folder, "GTM_returns_2024.xlsx", 2024)
    home = tmp_path / "home"

    run = load_measured(home, folder)

    assert run["rc"] == 1, run["stderr"]
    verdicts = submissions(home)
    assert verdicts["GTM_returns_2000.xlsx"]["status"] == "loaded"
    assert verdicts["GTM_returns_2024.xlsx"]["status"] == "loaded"
    verdict = verdicts[hostile.name]
    assert verdict["status"] == "rejected"
    assert verdict["rule"] == rule
    assert words in verdict["message"]
    assert verdict["message_es"], "a country office reads the reason in Spanish"
    assert verdict["sheet"] == sheet
    assert verdict["cell"] == cell
    assert verdict["message_es"] != verdict["message"], "the Spanish is missing from the catalogue"
    line = next(line for line in run["stderr"].splitlines() if hostile.name in line)
    assert f"{verdict['message_es']} / {verdict['message']}" in line, "Spanish first, then English"
    assert f"rule {rule}" in line
    if sheet:
        assert f"sheet {sheet}" in line
    if cell:
        assert f"cell {cell}" in line
    print(f"\nCORPUS | {kind} | rejected | {rule} | peak {run['peak_mb']:.0f} MB")
    assert run["peak_mb"] < PEAK_BOUND_MB


def test_a_reader_that_dies_on_a_file_rejects_that_file_and_the_next_one_loads(
    tmp_path: Path,
) -> None:
    """With the sheet-extent limits lifted (in the home's migstat.yml), the XFD1048576 sheet
    reaches python-calamine, which asks for hundreds of GB for its dense range: the allocation
    hits the reader process's address-space cap and the process dies. Only that file is
    rejected; the files after it load."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    far_cell(folder / "GTM_returns_2004.xlsx")
    filled_template(folder, "GTM_returns_2023.xlsx", 2023)
    filled_template(folder, "GTM_returns_2024.xlsx", 2024)
    home = tmp_path / "home"
    home.mkdir()
    (home / "migstat.yml").write_text(
        "limits:\n"
        "  max_rows: 2000000\n"
        "  max_columns: 20000\n"
        "  max_cells: 100000000000000\n"
        "  worker_memory_mb: 400\n"
        "  workers: 1\n",
        encoding="utf-8",
    )

    run = load_measured(home, folder)

    assert run["rc"] == 1
    verdicts = submissions(home)
    assert verdicts["GTM_returns_2004.xlsx"]["status"] == "rejected"
    assert verdicts["GTM_returns_2004.xlsx"]["rule"] == "STR-LIMIT"
    assert "ran out of memory" in verdicts["GTM_returns_2004.xlsx"]["message"]
    assert "400 MB" in verdicts["GTM_returns_2004.xlsx"]["message"]
    assert verdicts["GTM_returns_2004.xlsx"]["sheet"] == "Metadatos"
    assert verdicts["GTM_returns_2023.xlsx"]["status"] == "loaded"
    assert verdicts["GTM_returns_2024.xlsx"]["status"] == "loaded"
    print(
        f"\nCORPUS | reader killed by its memory cap | rejected | STR-LIMIT | "
        f"peak {run['peak_mb']:.0f} MB"
    )
    assert run["peak_mb"] < PEAK_BOUND_MB


def test_limits_come_from_the_home_file_then_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home(tmp_path)
    assert Limits.from_home(home) == Limits()
    (tmp_path / "migstat.yml").write_text(
        "limits:\n  max_rows: 1000\n  max_string_chars: 500\n", encoding="utf-8"
    )
    monkeypatch.setenv("MIGSTAT_LIMIT_MAX_ROWS", "2000")
    limits = Limits.from_home(home)
    assert (limits.max_rows, limits.max_string_chars) == (2000, 500)
    monkeypatch.setenv("MIGSTAT_LIMIT_MAX_COLUMNS", "many")
    with pytest.raises(MigstatError, match="max_columns"):
        Limits.from_home(home)


def test_a_lowered_limit_in_the_home_rejects_a_normal_workbook(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    path = filled_template(folder, "GTM_returns_2023.xlsx")
    home = tmp_path / "home"
    home.mkdir()
    (home / "migstat.yml").write_text("limits:\n  max_file_bytes: 1000\n", encoding="utf-8")
    run = load_measured(home, path)
    assert run["rc"] == 1
    verdict = submissions(home)[path.name]
    assert (verdict["status"], verdict["rule"]) == ("rejected", "STR-LIMIT")
    assert "over the limit of 0.0 MB" in verdict["message"]


def test_a_zip_part_that_inflates_beyond_its_declared_size_is_rejected(tmp_path: Path) -> None:
    """The zip directory can lie about a part's size: the loader counts what really inflates."""
    rng = random.Random(7)
    rows = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{rng.randint(0, 10**9)}</v></c></row>' for r in range(1, 3000)
    )
    path = minimal_xlsx(tmp_path / "GTM_returns_2009.xlsx", sheet_xml(rows, "A1:A2999"))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    real = info.file_size
    declared = (1000).to_bytes(4, "little")
    # The size sits at offset 22 of the local header and 24 of the central directory entry.
    local = info.header_offset
    assert int.from_bytes(data[local + 22 : local + 26], "little") == real
    data[local + 22 : local + 26] = declared
    name = b"xl/worksheets/sheet1.xml"
    entry = data.find(b"PK\x01\x02")
    while data[entry + 46 : entry + 46 + len(name)] != name:
        entry = data.find(b"PK\x01\x02", entry + 4)
        assert entry != -1
    assert int.from_bytes(data[entry + 24 : entry + 28], "little") == real
    data[entry + 24 : entry + 28] = declared
    path.write_bytes(bytes(data))

    with pytest.raises(WorkbookRejected) as caught:
        Workbook(path, Limits()).grid("Metadatos")
    assert caught.value.rule == "STR-LIMIT"
    assert "beyond the 0.0 MB its zip directory declares" in caught.value.message


def test_zip_directory_checks_run_before_anything_is_inflated(tmp_path: Path) -> None:
    path = decompression_bomb(tmp_path / "bomb.xlsx", megabytes=30)
    with pytest.raises(WorkbookRejected) as caught:
        ZipWorkbook(path, Limits(max_part_bytes=10 << 20))
    assert "inflates to 30.0 MB" in caught.value.message
    with pytest.raises(WorkbookRejected) as caught:
        ZipWorkbook(path, Limits())
    assert "compressed" in caught.value.message and "to 1" in caught.value.message
    with pytest.raises(WorkbookRejected) as caught:
        ZipWorkbook(path, Limits(max_total_bytes=20 << 20, max_compression_ratio=10_000))
    assert "the workbook inflates to 30.0 MB" in caught.value.message


def test_sparse_grids_keep_absolute_positions_like_a_full_rectangle(tmp_path: Path) -> None:
    rng = random.Random(11)
    for attempt in range(6):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "Datos"
        top, left = rng.randint(1, 30), rng.randint(1, 12)
        for _ in range(rng.randint(1, 25)):
            row, column = top + rng.randint(0, 12), left + rng.randint(0, 6)
            sheet.cell(row=row, column=column, value=rng.choice([1.5, "texto", 7]))
        path = tmp_path / f"sparse{attempt}.xlsx"
        book.save(path)
        dense = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Datos")
        full = dense.to_python(skip_empty_area=False)
        grid = Workbook(path).grid("Datos")
        assert isinstance(grid, SheetGrid)
        assert (grid.first_row, grid.first_column) == dense.start
        assert len(grid) == len(full)
        for row_index, row in enumerate(full):
            assert len(grid[row_index]) == len(row)
            assert list(grid[row_index]) == row
        assert grid[-1][-1] == full[-1][-1]


def test_unchanged_files_are_not_read_again_and_touched_ones_dedup_by_content(
    tmp_path: Path,
) -> None:
    specs = load_specs()
    folder = tmp_path / "inbox"
    first = filled_template(folder, "GTM_returns_2023.xlsx", 2023)
    second = filled_template(folder, "GTM_returns_2024.xlsx", 2024)
    db = tmp_path / "warehouse" / "landing.duckdb"
    limits = Limits(workers=1)
    assert [o.status for o in load_paths([folder], db, specs, limits=limits)] == [
        "loaded",
        "loaded",
    ]
    assert (db.parent / "file-hashes.json").exists()

    # Same size and mtime but other bytes: trusted from the cache, so not read nor hashed again.
    original = second.read_bytes()
    before = second.stat()
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0xFF
    second.write_bytes(bytes(flipped))
    os.utime(second, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert [o.status for o in load_paths([folder], db, specs, limits=limits)] == [
        "skipped",
        "skipped",
    ]

    # Touched (new mtime), same content: hashed again, found by its sha256, skipped.
    second.write_bytes(original)
    os.utime(second, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    stat = first.stat()
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert [o.status for o in load_paths([folder], db, specs, limits=limits)] == [
        "skipped",
        "skipped",
    ]

    # Changed content: read and loaded.
    filled_template(folder, "GTM_returns_2024.xlsx", 2022)
    changed = load_paths([folder], db, specs, limits=limits)
    assert [o.status for o in changed] == ["skipped", "loaded"]
    assert changed[1].period == "2022"


def test_relative_paths_load_though_the_readers_run_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filled_template(tmp_path / "inbox", "GTM_returns_2023.xlsx")
    monkeypatch.chdir(tmp_path)
    outcomes = load_paths([Path("inbox")], Path("w") / "landing.duckdb", load_specs())
    assert [outcome.status for outcome in outcomes] == ["loaded"]


@pytest.mark.parametrize(
    ("rows", "cell"),
    [
        ('<row r="1"><c s="1" t="n" r="XFD7"><v>1</v></c></row>', "XFD7"),
        ('<x:row r="3"><x:c r="A3"><x:v>1</x:v></x:c><x:c r="ZZZ3"/></x:row>', "ZZZ3"),
        ('<row r="200001"><c r="A200001"><v>1</v></c></row>', "A200001"),
    ],
    ids=["reference not first", "namespace prefix", "row past the limit"],
)
def test_every_way_of_writing_a_far_cell_is_found(tmp_path: Path, rows: str, cell: str) -> None:
    sheet = sheet_xml(rows).replace("<worksheet ", '<worksheet xmlns:x="urn:x" ')
    path = minimal_xlsx(tmp_path / "far.xlsx", sheet)
    with pytest.raises(WorkbookRejected) as caught:
        Workbook(path).grid("Metadatos")
    assert (caught.value.rule, caught.value.sheet, caught.value.cell) == (
        "STR-LIMIT",
        "Metadatos",
        cell,
    )


def test_cells_without_references_are_counted_towards_the_extent(tmp_path: Path) -> None:
    """A cell without ``r`` takes the next column: 2,001 of them pass the last column."""
    rows = '<row r="1">' + "<c><v>1</v></c>" * 2_001 + "</row>"
    path = minimal_xlsx(tmp_path / "unreferenced.xlsx", sheet_xml(rows))
    with pytest.raises(WorkbookRejected) as caught:
        Workbook(path).grid("Metadatos")
    assert caught.value.rule == "STR-LIMIT"
    assert "beyond the limit of 200,000 rows x 2,000 columns" in caught.value.message
