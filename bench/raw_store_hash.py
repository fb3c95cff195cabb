"""Hash every raw table of a landing store, to show a loader change writes the same raw store.

Usage: .venv/bin/python bench/raw_store_hash.py WAREHOUSE/landing.duckdb [--physical]

One line per table of schema ``raw``: name, rows, sha256 of its rows in a total order (``order
by all`` over every column but ``loaded_at`` and ``file_path``, which name the moment and place of
a load, not its content). ``--physical`` also hashes the cell tables in their physical order
(``rowid``), which is the order a reader scanning them without ``order by`` sees. Compare two
stores with ``diff <(... a) <(... b)``.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import duckdb

LEFT_OUT = ("loaded_at", "file_path")


def table_hashes(database: Path, physical: bool = False) -> list[str]:
    lines: list[str] = []
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [
            str(row[0])
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' order by 1"
            ).fetchall()
        ]
        for table in tables:
            columns = [
                str(row[0])
                for row in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if row[0] not in LEFT_OUT
            ]
            listed = ", ".join(f'"{column}"' for column in columns)
            orders = ["all"] + (["rowid"] if physical else [])
            for order in orders:
                digest = hashlib.sha256()
                count = 0
                cursor = con.execute(f'select {listed} from raw."{table}" order by {order}')
                while batch := cursor.fetchmany(10_000):
                    digest.update(repr(batch).encode())
                    count += len(batch)
                suffix = "" if order == "all" else " (physical order)"
                lines.append(f"{table}{suffix} {count} {digest.hexdigest()[:16]}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--physical", action="store_true", help="also hash in rowid order")
    arguments = parser.parse_args()
    print("\n".join(table_hashes(arguments.database, arguments.physical)))


if __name__ == "__main__":
    main()
