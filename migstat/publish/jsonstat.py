"""JSON-stat 2.0 files of datasets and products, one per language.

Written by hand: JSON-stat is a small, fully specified JSON format (https://json-stat.org/format/)
and no maintained Python library writes it (pyjstat reads and writes only through pandas and
drops status and notes). Values are a dense array when at least half the cube is filled and an
object keyed by flat index otherwise, both allowed by the format; observation flags travel in
``status`` (never in the value), their meaning in ``extension.status_labels``.
"""

from __future__ import annotations

import json
from pathlib import Path

from migstat.publish.data import TOTAL, ProductTable
from migstat.publish.datasets import Dataset, flag_codes


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


def dataset_document(dataset: Dataset, lang: str, updated: str) -> dict[str, object]:
    """The JSON-stat 2.0 dataset of a published dataset, labels in ``lang``."""
    ids = [d.id for d in dataset.dimensions]
    size = [len(d.codes) for d in dataset.dimensions]
    positions = [{c.id: i for i, c in enumerate(d.codes)} for d in dataset.dimensions]
    strides = [1] * len(size)
    for i in range(len(size) - 2, -1, -1):
        strides[i] = strides[i + 1] * size[i + 1]
    cells: dict[int, tuple[float | None, str | None]] = {}
    units: set[str] = set()
    for obs in dataset.observations:
        flat = sum(p[c] * s for p, c, s in zip(positions, obs.key, strides, strict=True))
        cells[flat] = (_number(obs.value), obs.flag)
        units.add(obs.unit)
    value, status = _values(size, cells)
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
    document: dict[str, object] = {
        "version": "2.0",
        "class": "dataset",
        "href": f"{dataset.id}.json",
        "label": dataset.name.get(lang),
        "note": [dataset.description.get(lang)],
        "updated": dataset.last_update or updated,
        "source": "migstat",
        "id": ids,
        "size": size,
        "dimension": dimension,
        "value": value,
        "status": status,
        "extension": {
            "dataset": dataset.id,
            "counting_unit": dataset.counting_unit,
            "units": sorted(units),
            "status_labels": {c.id: c.name.get(lang) for c in flag_codes()},
            "totals": TOTAL,
        },
    }
    return document


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
