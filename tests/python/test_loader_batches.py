"""The loader's columnar path: cells as columns from the parser to the store, several files
written in one transaction, each file still all-or-nothing with every cell's origin kept."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from loaders import load as load_module
from loaders.limits import Limits
from loaders.load import load_paths
from loaders.parse import CellColumns, CellRecord, ParsedSubmission
from loaders.store import FileFacts, RawStore
from loaders.workers import parse_file
from migstat.specs import column_letter_to_index, load_specs
from migstat.workbooks.template import sheet_grid, write_template

SPECS = load_specs()


def filled(folder: Path, source_id: str, country_code: str, year: int, base: int) -> Path:
    """A template of ``source_id`` whose every cell holds a number unique to the file."""
    source = SPECS.source(source_id)
    country = SPECS.country(country_code)
    values = {}
    for sheet in SPECS.template_layout(source_id).sheets:
        grid = sheet_grid(sheet, source, country)
        values[sheet.name] = {
            (row, *column): base + index
            for index, (row, column) in enumerate(
                (row, column) for row in grid.rows for column in grid.columns
            )
        }
    name = f"{country_code}_{source_id}_{year}.xlsx"
    return write_template(source_id, country_code, year, folder / name, values)


def stored_cells(db: Path, source: str, submission_id: int) -> set[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        labels = [
            f"{name}_label" for name in SPECS.source(source).dimension_names()
        ]  # every label column, in the spec's order
        rows = con.execute(
            f"select sheet, cell, row_number, column_number, measure, {', '.join(labels)}, "
            "raw_text, value, value_status, cell_role, parent_row, parent_label, row_key "
            f"from raw.{source} where submission_id = ?",
            [submission_id],
        ).fetchall()
    return set(rows)


def expected_cells(parsed: ParsedSubmission) -> set[tuple[object, ...]]:
    dimensions = SPECS.source(parsed.source).dimension_names()
    return {
        (
            c.sheet,
            c.cell,
            c.row_number,
            c.column_number,
            c.measure,
            *(c.labels.get(name) for name in dimensions),
            c.raw_text,
            c.value,
            c.value_status,
            c.cell_role,
            c.parent_row,
            c.parent_label,
            c.row_key,
        )
        for c in parsed.cells
    }


def test_columns_give_back_the_records_they_were_built_from(tmp_path: Path) -> None:
    path = filled(tmp_path, "returns", "GTM", 2023, 1)
    parsed = parse_file(path, SPECS, Limits())
    records = parsed.cells
    assert records and len(records) == len(parsed.cell_columns)
    assert CellColumns.from_records(records).records() == records
    packed = parsed.cell_columns.pack()
    assert packed.records() == records


def test_files_written_in_one_batch_keep_each_cell_with_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three files of two sources in one transaction: every stored cell is the parsed cell of
    its own file (sheet, cell reference, labels, value), in its own submission."""
    monkeypatch.setattr(load_module, "BATCH_FILES", 10)
    files = [
        filled(tmp_path, "returns", "GTM", 2023, 1),
        filled(tmp_path, "asylum", "CRI", 2023, 100_000),
        filled(tmp_path, "returns", "HND", 2022, 200_000),
    ]
    db = tmp_path / "landing.duckdb"
    outcomes = load_paths(files, db, SPECS, limits=Limits())
    assert [o.status for o in outcomes] == ["loaded"] * 3, outcomes
    assert [o.submission_id for o in outcomes] == [1, 2, 3]
    for outcome, path in zip(outcomes, files, strict=True):
        parsed = parse_file(path, SPECS, Limits())
        assert outcome.submission_id is not None
        assert stored_cells(db, parsed.source, outcome.submission_id) == expected_cells(parsed)
    with duckdb.connect(str(db), read_only=True) as con:
        sheets = con.execute(
            "select submission_id, sum(cell_count) from raw.submission_sheets group by 1 order by 1"
        ).fetchall()
    assert sheets == [(o.submission_id, o.cells) for o in outcomes]


def test_a_file_that_fails_in_a_batch_leaves_no_row_and_the_files_before_it_stay(
    tmp_path: Path,
) -> None:
    """A batch whose second file cannot be written: the batch is rolled back and written again
    file by file, so the first file is kept whole, the failing one leaves nothing, and the
    error is raised (as when files were written one by one)."""
    good = parse_file(filled(tmp_path, "returns", "GTM", 2023, 1), SPECS, Limits())
    broken = replace(
        parse_file(filled(tmp_path, "returns", "HND", 2023, 5), SPECS, Limits()),
        source="no_such_source",
    )
    later = parse_file(filled(tmp_path, "returns", "SLV", 2023, 9), SPECS, Limits())

    def facts(number: int) -> FileFacts:
        return FileFacts(Path(f"/batch/{number}.xlsx"), f"{number:064x}", 10, datetime(2025, 1, 1))

    db = tmp_path / "landing.duckdb"
    with RawStore(db, SPECS) as store, pytest.raises(Exception, match="no_such_source"):
        store.record([(facts(1), good), (facts(2), broken), (facts(3), later)])
    with duckdb.connect(str(db), read_only=True) as con:
        submissions = con.execute(
            "select submission_id, sha256 from raw.submissions order by 1"
        ).fetchall()
        returns = con.execute(
            "select submission_id, count(*) from raw.returns group by 1 order by 1"
        ).fetchall()
        sheets = con.execute("select distinct submission_id from raw.submission_sheets").fetchall()
    assert submissions == [(1, f"{1:064x}")]
    assert returns == [(1, len(good.cell_columns))]
    assert sheets == [(1,)]


def test_cells_sent_once_per_row_are_stored_in_order_with_their_own_row_and_labels(
    tmp_path: Path,
) -> None:
    """What is the same for a whole row crosses from the reader once per row (``pack``) and is
    joined back to the row's cells in the store: a packed file (through pickle, as from a
    reader process), the same cells built one by one (no rows), and columns where a label is
    given per row in one row and per cell in the next, all in one transaction, give every cell
    its own row's values and labels, in the order parsed."""
    parsed = parse_file(filled(tmp_path, "returns", "GTM", 2023, 1), SPECS, Limits())
    records = parsed.cells
    packed = pickle.loads(pickle.dumps(replace(parsed, cell_columns=parsed.cell_columns.pack())))
    assert packed.cell_columns.packed  # one value per row for the row fields
    loose = replace(parsed, cell_columns=CellColumns.from_records(records))
    mixed_columns = CellColumns()
    common = {"sheet": records[0].sheet, "measure": records[0].measure, "parent_label": None}
    mixed_columns.add_row(
        **common,
        row_number=7,
        parent_row=None,
        row_key="a",
        labels={"sex": "Hombres", "age_group": "0-4"},
        column_labels={},
        cells=["B7", "C7"],
        column_numbers=[2, 3],
        raw_texts=["1", None],
        values=[1.0, None],
        statuses=["number", "blank"],
        roles=["detail", "detail"],
    )
    mixed_columns.add_row(
        **common,
        row_number=8,
        parent_row=7,
        row_key="a/b",
        labels={"age_group": "5-9"},
        column_labels={"sex": ["Mujeres", "Total"]},
        cells=["B8", "C8"],
        column_numbers=[2, 3],
        raw_texts=["2", "3"],
        values=[2.0, 3.0],
        statuses=["number", "number"],
        roles=["detail", "total"],
    )
    mixed_records = mixed_columns.records()
    mixed = replace(
        parsed,
        cell_columns=pickle.loads(pickle.dumps(mixed_columns.pack())),
        sheets=[],
    )
    assert mixed.cell_columns.packed and "sex" in mixed.cell_columns.cell_label_keys

    def facts(number: int) -> FileFacts:
        return FileFacts(Path(f"/rows/{number}.xlsx"), f"{number:064x}", 10, datetime(2025, 1, 1))

    db = tmp_path / "landing.duckdb"
    with RawStore(db, SPECS) as store:
        ids = store.record([(facts(1), packed), (facts(2), loose), (facts(3), mixed)])
    dimensions = SPECS.source("returns").dimension_names()
    with duckdb.connect(str(db), read_only=True) as con:
        for submission_id, expected in zip(ids, [records, records, mixed_records], strict=True):
            stored = con.execute(
                "select sheet, cell, row_number, column_number, "
                f"{', '.join(f'{name}_label' for name in dimensions)}, raw_text, value, "
                "value_status, cell_role, parent_row, row_key "
                "from raw.returns where submission_id = ? order by rowid",
                [submission_id],
            ).fetchall()
            assert stored == [
                (
                    c.sheet,
                    c.cell,
                    c.row_number,
                    c.column_number,
                    *(c.labels.get(name) for name in dimensions),
                    c.raw_text,
                    c.value,
                    c.value_status,
                    c.cell_role,
                    c.parent_row,
                    c.row_key,
                )
                for c in expected
            ]


def test_cells_travel_without_a_reference_string_and_with_coded_texts(tmp_path: Path) -> None:
    """A reader sends no cell reference (each is its column's letters and its row number) and
    the texts that repeat (statuses, roles, labels given per column) as codes: the cells read
    back one by one, and as written to the store, are the same as before the trip, and every
    reference names its own column and row."""
    path = filled(tmp_path, "entries_exits", "CRI", 2023, 3)
    before = parse_file(path, SPECS, Limits()).cells
    parsed = parse_file(path, SPECS, Limits())
    assert parsed.cell_columns.derived_cells and not parsed.cell_columns.strings["cell"]
    travelled = pickle.loads(pickle.dumps(replace(parsed, cell_columns=parsed.cell_columns.pack())))
    coded = {name for _, name in travelled.cell_columns.coded}
    assert {"value_status", "cell_role"} <= coded
    assert travelled.cells == before
    for cell in before:
        letters = cell.cell.rstrip("0123456789")
        assert cell.cell == f"{letters}{cell.row_number}"
        assert column_letter_to_index(letters) + 1 == cell.column_number
    again = pickle.loads(pickle.dumps(replace(parsed, cell_columns=parsed.cell_columns.pack())))
    facts = FileFacts(path.resolve(), "f" * 64, path.stat().st_size, datetime(2024, 1, 1))
    with RawStore(tmp_path / "w" / "landing.duckdb", SPECS) as store:
        store.record([(facts, again)])
        stored = store.con.execute(
            "select cell, row_number, column_number, raw_text, value_status, cell_role "
            "from raw.entries_exits order by rowid"
        ).fetchall()
    assert stored == [
        (c.cell, c.row_number, c.column_number, c.raw_text, c.value_status, c.cell_role)
        for c in before
    ]


def test_cell_values_coded_once_keep_their_type_and_the_sign_of_zero() -> None:
    """Cells are sent as codes into a table of distinct values: values equal in Python but read
    differently (``1``, ``1.0`` and ``True``; ``0.0`` and ``-0.0``) keep their own entry, in
    rows given both ways round, and come back as converted one by one."""

    def convert(raw: object) -> tuple[str | None, float | None, str]:
        if isinstance(raw, str):
            return raw, None, "text"
        return repr(raw), float(raw), type(raw).__name__  # type: ignore[arg-type]

    def convert_all(
        raws: list[object],
    ) -> tuple[list[str | None], list[float | None], list[str]]:
        texts, numbers, statuses = zip(*map(convert, raws), strict=True)
        return list(texts), list(numbers), list(statuses)

    rows: list[list[object]] = [
        [0.0, -0.0, 1, 1.0, True, "1", False, 0],
        [-0.0, 0.0, True, 1.0, 1, "1", 0, False],
        [-0.0, -0.0, 0.0, 0.0, 2.5, 2.5, "x", "x"],
        [3.5, "y", 3.5, 4, "y", 4.0, 2.5, 1],
    ]
    columns = CellColumns()
    for number, raw_values in enumerate(rows, start=1):
        codes = columns.code_values(("markers",), raw_values, convert_all)
        columns.add_row(
            sheet="S",
            row_number=number,
            measure="m",
            parent_row=None,
            parent_label=None,
            row_key=None,
            labels={},
            column_labels={},
            cells=None,
            column_numbers=list(range(1, len(raw_values) + 1)),
            roles=["detail"] * len(raw_values),
            value_codes=codes,
        )
    assert len(columns.value_texts) == len(set(map(repr, rows[0]))) + 6  # 2.5, x, 3.5, y, 4, 4.0
    travelled = pickle.loads(pickle.dumps(columns.pack()))
    records = travelled.records()
    expected = [convert(raw) for raw_values in rows for raw in raw_values]
    assert [(r.raw_text, r.value, r.value_status) for r in records] == expected
    signs = [str(r.value) for r in records if r.value_status == "float" and r.value == 0]
    assert signs == ["0.0", "-0.0", "-0.0", "0.0", "-0.0", "-0.0", "0.0", "0.0"]


def test_rows_read_with_value_codes_hold_row_fields_once_and_read_back_cell_by_cell() -> None:
    """Rows added with value codes keep what is the same for a whole row (sheet, measure, row,
    parent, row key, row labels) once per row as they come in, not a copy per cell: a label given
    per row that a later row gives per cell, and a label first given in a later row, still read
    back cell by cell as given, before and after the trip to the parent (``pack`` + pickle)."""

    def convert(raw: list[object]) -> tuple[list[str | None], list[float | None], list[str]]:
        numbers = [float(v) if isinstance(v, int) else None for v in raw]
        texts = [None if v == "" else str(v) for v in raw]
        return texts, numbers, ["blank" if n is None else "number" for n in numbers]

    rows: list[tuple[int, dict[str, str | None], dict[str, list[str | None]], list[object]]] = [
        (7, {"sex": "Hombres", "age_group": "0-4"}, {}, [1, ""]),
        (8, {"age_group": "5-9"}, {"sex": ["Mujeres", "Total"]}, [2, 3]),
        (9, {"age_group": "10-14", "nationality": "GTM"}, {}, [4, 1]),
    ]
    columns = CellColumns()
    expected = []
    for number, labels, column_labels, raw in rows:
        codes = columns.code_values(("plain",), raw, convert)
        roles = ["detail", "total"]
        parent = None if number == 7 else 7
        columns.add_row(
            sheet="Cuadro 1",
            row_number=number,
            measure="persons",
            parent_row=parent,
            parent_label=None if parent is None else "Total",
            row_key=f"row-{number}",
            labels=labels,
            column_labels=column_labels,
            cells=None,
            column_numbers=[2, 3],
            roles=roles,
            value_codes=codes,
        )
        for position, value in enumerate(raw):
            given: dict[str, str | None] = dict.fromkeys(("sex", "age_group", "nationality"))
            given.update(labels)
            given.update({key: cells[position] for key, cells in column_labels.items()})
            expected.append(
                CellRecord(
                    sheet="Cuadro 1",
                    cell=f"{'BC'[position]}{number}",
                    row_number=number,
                    column_number=position + 2,
                    measure="persons",
                    labels=given,
                    raw_text=None if value == "" else str(value),
                    value=None if value == "" else float(value),  # type: ignore[arg-type]
                    value_status="blank" if value == "" else "number",
                    cell_role=roles[position],
                    parent_row=parent,
                    parent_label=None if parent is None else "Total",
                    row_key=f"row-{number}",
                )
            )
    assert columns.packed and len(columns.strings["sheet"]) == len(rows)  # once per row
    assert columns.cell_label_keys == {"sex"}
    travelled = pickle.loads(pickle.dumps(columns.pack()))
    assert travelled.records() == expected
    assert columns.records() == expected
