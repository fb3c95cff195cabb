"""The publish index: what the last publish made of every product query and open-data dataset,
kept in the site folder as one SQLite file (:data:`INDEX_FILE`), so that the next publish reads
only what it needs: a product query whose data did not change keeps its digest, catalogue
entries and manifest item without its table being read; its table is read (one row) only when
the product must be rendered again. A publish writes a copy of the last index with the rows it
changed, beside the new site, and swaps it in with the site (or in place with ``os.replace``
when the site itself is kept)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import cast

from migstat.publish.data import ProductTable, table_from_json, table_to_json
from migstat.publish.datasets import Code, Dataset, Dimension, Label, Query

INDEX_FILE = ".migstat-index.sqlite"
VERSION = "1"
_SCHEMA = (
    "create table meta (name text primary key, value text not null)",
    # One row per product query (spec x parameter set); product is null when its table is
    # empty (no product). entry_es/entry_en/manifest are JSON texts.
    "create table tasks (task text primary key, body text not null, product text, "
    "digest text, entry_es text, entry_en text, manifest text)",
    "create table datasets (position integer primary key, id text not null, body text not null)",
)


@dataclass(frozen=True)
class Recorded:
    """One product query as the last publish made it (without its table)."""

    task: str
    product: str | None
    digest: str | None
    entries: dict[str, dict[str, object]]
    manifest: dict[str, object] | None


@dataclass(frozen=True)
class Row:
    """One product query's row of a new index: its table and, when it is a product, what the
    site shows of it."""

    task: str
    table: ProductTable
    product: str | None = None
    digest: str | None = None
    entries: dict[str, dict[str, object]] | None = None
    manifest: dict[str, object] | None = None


class Index:
    """A publish index opened read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        meta = dict(self._con.execute("select name, value from meta").fetchall())
        if meta.get("version") != VERSION:
            self._con.close()
            raise sqlite3.DatabaseError(f"{path}: index version {meta.get('version')!r}")
        self.inputs = str(meta.get("inputs", ""))

    @classmethod
    def open(cls, site: Path) -> Index | None:
        """The index of a site, or None when it has none (or one this code cannot read)."""
        path = site / INDEX_FILE
        if not path.is_file():
            return None
        try:
            return cls(path)
        except sqlite3.Error:
            return None

    def close(self) -> None:
        self._con.close()

    def recorded(self) -> dict[str, Recorded]:
        """Every product query's record, by task key (tables not read)."""
        found: dict[str, Recorded] = {}
        rows = self._con.execute(
            "select task, product, digest, entry_es, entry_en, manifest from tasks"
        )
        for task, product, digest, entry_es, entry_en, manifest in rows:
            entries = (
                {"es": json.loads(entry_es), "en": json.loads(entry_en)}
                if entry_es is not None and entry_en is not None
                else {}
            )
            found[task] = Recorded(
                task, product, digest, entries, json.loads(manifest) if manifest else None
            )
        return found

    def table(self, task: str) -> ProductTable | None:
        """One product query's table as last published (one row read), or None."""
        row = self._con.execute("select body from tasks where task = ?", [task]).fetchone()
        if row is None:
            return None
        try:
            return table_from_json(json.loads(row[0]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def holds(self, inputs: str, rows: list[Row], tasks: int, datasets: list[Dataset]) -> bool:
        """Whether writing this index again (:func:`write_index` with these ``rows``, ``tasks``
        tasks in all and ``datasets``) would change nothing: a publish that finds the site
        unchanged leaves the file as it is."""
        if inputs != self.inputs:
            return False
        count = self._con.execute("select count(*) from tasks").fetchone()
        if count is None or count[0] != tasks:
            return False
        for row in rows:
            found = self._con.execute(
                "select task, body, product, digest, entry_es, entry_en, manifest from tasks "
                "where task = ?",
                [row.task],
            ).fetchone()
            if found != _encode(row):
                return False
        stored = [
            body for (body,) in self._con.execute("select body from datasets order by position")
        ]
        return stored == [json.dumps(dataset_to_json(d)) for d in _faithful(datasets)]

    def tables(self) -> Iterator[tuple[str, dict[str, object]]]:
        """Every table as its JSON (for tests and comparisons)."""
        for task, body in self._con.execute("select task, body from tasks order by task"):
            yield str(task), json.loads(body)

    def datasets(self) -> list[Dataset] | None:
        """The open-data datasets' structures as last published, in their order, or None."""
        try:
            return [
                dataset_from_json(json.loads(body))
                for (body,) in self._con.execute("select body from datasets order by position")
            ]
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def write_index(
    path: Path,
    base: Index | None,
    inputs: str,
    rows: Iterable[Row],
    keep: set[str],
    datasets: list[Dataset],
) -> None:
    """Write the index ``path`` (a new file): the rows of ``base`` whose task is in ``keep``
    (copied with the file, not decoded), then ``rows`` (inserted or replacing), the datasets
    and ``inputs`` (what the texts around the products follow from)."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    if base is not None:
        shutil.copyfile(base.path, temporary)
    with closing(sqlite3.connect(temporary)) as con:
        if base is None:
            for statement in _SCHEMA:
                con.execute(statement)
        con.execute("create temporary table keep_ (task text primary key)")
        con.executemany("insert into keep_ values (?)", ((task,) for task in keep))
        con.execute("delete from tasks where task not in (select task from keep_)")
        con.executemany(
            "insert or replace into tasks values (?, ?, ?, ?, ?, ?, ?)", map(_encode, rows)
        )
        con.execute("delete from datasets")
        con.executemany(
            "insert into datasets values (?, ?, ?)",
            (
                (position, dataset.id, json.dumps(dataset_to_json(dataset)))
                for position, dataset in enumerate(_faithful(datasets))
            ),
        )
        con.execute("delete from meta")
        con.executemany(
            "insert into meta values (?, ?)", [("version", VERSION), ("inputs", inputs)]
        )
        con.commit()
    os.replace(temporary, path)


def _encode(row: Row) -> tuple[str | None, ...]:
    """A row as the columns of ``tasks`` hold it."""
    return (
        row.task,
        json.dumps(table_to_json(row.table)),
        row.product,
        row.digest,
        None if row.entries is None else json.dumps(row.entries["es"]),
        None if row.entries is None else json.dumps(row.entries["en"]),
        None if row.manifest is None else json.dumps(row.manifest),
    )


def _faithful(datasets: list[Dataset]) -> list[Dataset]:
    """The datasets, all or none: each must come back from its JSON as it was (the same
    :meth:`Dataset.describe`, the same query), else none is kept and the next publish reads
    every structure from the warehouse."""
    for dataset in datasets:
        try:
            again = dataset_from_json(json.loads(json.dumps(dataset_to_json(dataset))))
        except (TypeError, ValueError):
            return []
        if again.describe() != dataset.describe() or again.query != dataset.query:
            return []
    return datasets


def _label(label: Label) -> list[str]:
    return [label.es, label.en]


def dataset_to_json(dataset: Dataset) -> dict[str, object]:
    """A dataset's structure and query as plain JSON (its observations stay in the warehouse)."""
    return {
        "id": dataset.id,
        "name": _label(dataset.name),
        "description": _label(dataset.description),
        "counting_unit": dataset.counting_unit,
        "dimensions": [
            {
                "id": d.id,
                "name": _label(d.name),
                "codes": [[c.id, _label(c.name), c.parent] for c in d.codes],
                "groups": {k: _label(v) for k, v in d.groups.items()},
            }
            for d in dataset.dimensions
        ],
        "count": dataset.count,
        "units": dataset.units,
        "query": {f.name: getattr(dataset.query, f.name) for f in fields(dataset.query)},
        "submissions": dataset.submissions,
        "last_update": dataset.last_update,
    }


def dataset_from_json(data: dict[str, object]) -> Dataset:
    """The dataset :func:`dataset_to_json` wrote."""

    def label(value: object) -> Label:
        es, en = cast("list[str]", value)
        return Label(es, en)

    query = cast("dict[str, object]", data["query"])
    return Dataset(
        id=str(data["id"]),
        name=label(data["name"]),
        description=label(data["description"]),
        counting_unit=cast("str | None", data["counting_unit"]),
        dimensions=[
            Dimension(
                str(d["id"]),
                label(d["name"]),
                [
                    Code(str(code), label(name), cast("str | None", parent))
                    for code, name, parent in cast("list[list[object]]", d["codes"])
                ],
                {str(k): label(v) for k, v in cast("dict[str, object]", d["groups"]).items()},
            )
            for d in cast("list[dict[str, object]]", data["dimensions"])
        ],
        count=int(cast("int", data["count"])),
        units=[str(u) for u in cast("list[object]", data["units"])],
        query=Query(
            **{  # type: ignore[arg-type]
                name: tuple(value) if isinstance(value, list) else value
                for name, value in query.items()
            }
        ),
        submissions=[dict(s) for s in cast("list[dict[str, object]]", data["submissions"])],
        last_update=cast("str | None", data["last_update"]),
    )
