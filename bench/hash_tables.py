"""Hash every table of some schemas of a warehouse, in a total order, to compare two builds.

    .venv/bin/python bench/hash_tables.py WAREHOUSE.duckdb [--schemas intermediate,marts]

Prints one line per table (`schema.table rows sha256`) and a last line with the hash of all of
them. Each table is read with `order by all` (every column, in order), each row written as the
text of its values, so two builds with the same rows give the same hash whatever their
physical order. Views are skipped (they are queries, not stored rows); columns that differ from
one build to the next by design (dbt's invocation id, build times) are left out, and doubles
are compared to 12 significant digits.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import duckdb

SKIPPED_COLUMNS = {"invocation_id", "judged_by_invocation_id", "judged_at", "built_at", "loaded_at"}


def _text(value: object) -> str:
    """A value as text; doubles to 12 significant digits (a sum of doubles taken in another
    order by DuckDB's threads differs in its last bits from one run to the next)."""
    return f"{value:.12g}" if isinstance(value, float) else repr(value)


def table_hashes(path: Path, schemas: list[str]) -> list[tuple[str, int, str]]:
    """(schema.table, rows, sha256) of every base table of ``schemas`` in ``path``."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_type = 'BASE TABLE' and table_schema in (select unnest(?))"
            " order by 1, 2",
            [schemas],
        ).fetchall()
        out: list[tuple[str, int, str]] = []
        for schema, table in tables:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if name not in SKIPPED_COLUMNS
            ]
            listed = ", ".join(f'"{name}"' for name in columns)
            digest = hashlib.sha256()
            rows = 0
            cursor = con.execute(f'select {listed} from "{schema}"."{table}" order by all')
            while batch := cursor.fetchmany(10_000):
                for row in batch:
                    digest.update("\t".join(map(_text, row)).encode())
                    digest.update(b"\n")
                rows += len(batch)
            out.append((f"{schema}.{table}", rows, digest.hexdigest()))
        return out
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--schemas", default="intermediate,marts")
    args = parser.parse_args()
    hashes = table_hashes(args.warehouse, args.schemas.split(","))
    everything = hashlib.sha256()
    for name, rows, digest in hashes:
        print(f"{name} {rows} {digest}")
        everything.update(f"{name} {rows} {digest}\n".encode())
    print(f"all {len(hashes)} tables {everything.hexdigest()}")


if __name__ == "__main__":
    main()
