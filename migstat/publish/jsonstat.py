"""JSON-stat 2.0 files of datasets and products, one per language.

Written by hand: JSON-stat is a small, fully specified JSON format (https://json-stat.org/format/)
and no maintained Python library writes it (pyjstat reads and writes only through pandas and
drops status and notes). Values are a dense array when at least half the cube is filled and an
object keyed by flat index otherwise, both allowed by the format; observation flags travel in
``status`` (never in the value), their meaning in ``extension.status_labels``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO

from migstat.publish.data import TOTAL, ProductTable, Warehouse
from migstat.publish.datasets import (
    CHUNK_ROWS,
    Dataset,
    as_text,
    flag_codes,
    jsonstat_items,
    positioned,
)


def _values(
    size: list[int], cells: dict[int, tuple[float | None, str | None]]
) -> tuple[object, object]:
    total = 1
    for n in size:
        total *= n
    status = {str(i): flag for i, (_, flag) in sorted(cells.items()) if flag}
    if len(cells) * 2 >= total:
        dense: list[float | None] = [None] * total
        for i, (value, _) in cells.items():
            dense[i] = value
        return dense, status
    return {str(i): value for i, (value, _) in sorted(cells.items())}, status


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


NULLS_AT_ONCE = 65_536


def _head(dataset: Dataset, lang: str, updated: str) -> dict[str, object]:
    """The dataset's document before its values: labels and the dimensions' categories."""
    dimension: dict[str, object] = {}
    for dim in dataset.dimensions:
        entry: dict[str, object] = {
            "label": dim.name.get(lang),
            "category": {
                "index": [c.id for c in dim.codes],
                "label": {c.id: c.name.get(lang) for c in dim.codes},
            },
        }
        groups: dict[str, list[str]] = {}
        for code in dim.codes:
            if code.parent:
                groups.setdefault(code.parent, []).append(code.id)
        if groups:
            entry["extension"] = {
                "groups": [
                    {"id": g, "label": dim.groups[g].get(lang), "children": children}
                    for g, children in sorted(groups.items(), key=lambda i: dim.groups[i[0]].es)
                ]
            }
        dimension[dim.id] = entry
    return {
        "version": "2.0",
        "class": "dataset",
        "href": f"{dataset.id}.json",
        "label": dataset.name.get(lang),
        "note": [dataset.description.get(lang)],
        "updated": dataset.last_update or updated,
        "source": "migstat",
        "id": [d.id for d in dataset.dimensions],
        "size": [len(d.codes) for d in dataset.dimensions],
        "dimension": dimension,
    }


class _Items:
    """Items of a JSON array or object written a few at a time, commas between them."""

    def __init__(self, put: Callable[[str], object]) -> None:
        self.put = put
        self.empty = True

    def extend(self, items: list[str]) -> None:
        if items:
            self.put(("" if self.empty else ",") + ",".join(items))
            self.empty = False


def write_dataset(
    warehouse: Warehouse,
    dataset: Dataset,
    paths: dict[str, Path],
    updated: str,
    chunk_rows: int = CHUNK_ROWS,
) -> list[Path]:
    """The JSON-stat 2.0 files of a published dataset, one per language (``paths``: language
    -> file), written in one pass over the observations streamed from the warehouse in the
    cube's row-major order: the categories first (small), then the values a chunk at a time,
    then the flags (spooled to a temporary file meanwhile). The bytes are those of one
    ``json.dumps`` of the whole document (a test compares them); memory does not grow with
    the number of observations."""
    total = 1
    for dim in dataset.dimensions:
        total *= len(dim.codes)
    dense = dataset.count * 2 >= total
    first = next(iter(paths.values()))
    spool = first.with_name(f".{first.name}.status")
    if not dense and as_text(dataset):
        return _write_sparse_text(warehouse, dataset, paths, updated, spool, chunk_rows)
    handles: dict[str, TextIO] = {}
    try:
        for lang, path in paths.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handles[lang] = path.open("w", encoding="utf-8")
            handles[lang].write(_dumps(_head(dataset, lang, updated))[:-1] + ',"value":')

        def put(text: str) -> None:
            for handle in handles.values():
                handle.write(text)

        with spool.open("w+", encoding="utf-8") as status:
            put("[" if dense else "{")
            values, flags = _Items(put), _Items(status.write)
            written = 0  # dense: the next flat index
            for chunk in positioned(warehouse, dataset, chunk_rows):
                parts: list[str] = []
                flagged: list[str] = []
                for flat, value, flag in chunk:
                    if dense:
                        if flat > written:
                            values.extend(parts)
                            parts = []
                            _nulls(values, flat - written)
                        parts.append(_dumps(_number(value)))
                        written = flat + 1
                    else:
                        parts.append(f'"{flat}":{_dumps(_number(value))}')
                    if flag:
                        flagged.append(f'"{flat}":{_dumps(flag)}')
                values.extend(parts)
                flags.extend(flagged)
            if dense:
                _nulls(values, total - written)
            put("]" if dense else "}")
            put(',"status":{')
            status.seek(0)
            while block := status.read(1 << 20):
                put(block)
            put("}")
        for lang, handle in handles.items():
            handle.write(_tail(dataset, lang))
    finally:
        spool.unlink(missing_ok=True)
        for handle in handles.values():
            handle.close()
    return list(paths.values())


def _tail(dataset: Dataset, lang: str) -> str:
    """The dataset's document after its status: the extension, and the closing brace."""
    extension = {
        "dataset": dataset.id,
        "counting_unit": dataset.counting_unit,
        "units": dataset.units,
        "status_labels": {c.id: c.name.get(lang) for c in flag_codes()},
        "totals": TOTAL,
    }
    return ',"extension":' + _dumps(extension) + "}"


def _write_sparse_text(
    warehouse: Warehouse,
    dataset: Dataset,
    paths: dict[str, Path],
    updated: str,
    spool: Path,
    chunk_rows: int,
) -> list[Path]:
    """:func:`write_dataset` of a sparse cube whose items DuckDB makes as text
    (:func:`migstat.publish.datasets.jsonstat_items`): the same bytes, copied from DuckDB's
    buffers to both files without a Python object per observation."""
    handles: dict[str, BinaryIO] = {}
    try:
        for lang, path in paths.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handles[lang] = path.open("wb")
            head = _dumps(_head(dataset, lang, updated))[:-1] + ',"value":{'
            handles[lang].write(head.encode("utf-8"))
        with spool.open("w+b") as status:
            values_started = status_started = False
            for values, flags in jsonstat_items(warehouse, dataset, chunk_rows):
                for view in values:
                    if not values_started:  # the first item has no comma before it
                        view, values_started = view[1:], True
                    for handle in handles.values():
                        handle.write(view)
                for view in flags:
                    if not status_started:
                        view, status_started = view[1:], True
                    status.write(view)
            for handle in handles.values():
                handle.write(b'},"status":{')
            for handle in handles.values():
                status.seek(0)
                while block := status.read(1 << 20):
                    handle.write(block)
                handle.write(b"}")
        for lang, handle in handles.items():
            handle.write(_tail(dataset, lang).encode("utf-8"))
    finally:
        spool.unlink(missing_ok=True)
        for handle in handles.values():
            handle.close()
    return list(paths.values())


def _nulls(values: _Items, count: int) -> None:
    """``count`` empty cells of a dense value array, a bounded number at a time."""
    while count > 0:
        step = min(count, NULLS_AT_ONCE)
        values.extend(["null"] * step)
        count -= step


def product_document(
    table: ProductTable,
    lang: str,
    label: str,
    row_title: str,
    column_title: str,
    notes: list[str],
    updated: str,
) -> dict[str, object]:
    """The JSON-stat 2.0 dataset of one product table (rows x columns, as published)."""
    rows, columns = table.rows, table.columns
    cells: dict[int, tuple[float | None, str | None]] = {}
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            cell = table.cell(row.code, column.code)
            if cell.value is not None or cell.flag:
                cells[i * len(columns) + j] = (_number(cell.value), cell.flag)
    value, status = _values([len(rows), len(columns)], cells)
    return {
        "version": "2.0",
        "class": "dataset",
        "label": label,
        "note": notes,
        "updated": updated,
        "id": ["row", "column"],
        "size": [len(rows), len(columns)],
        "dimension": {
            "row": {
                "label": row_title,
                "category": {
                    "index": [r.code for r in rows],
                    "label": {r.code: r.label(lang) for r in rows},
                },
            },
            "column": {
                "label": column_title,
                "category": {
                    "index": [c.code for c in columns],
                    "label": {c.code: c.label(lang) for c in columns},
                },
            },
        },
        "value": value,
        "status": status,
        "extension": {
            "status_labels": {c.id: c.name.get(lang) for c in flag_codes()},
            "unit": table.unit or "count",
            "counting_units": table.counting_units,
        },
    }


def write_json(document: dict[str, object], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(document, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    return path
