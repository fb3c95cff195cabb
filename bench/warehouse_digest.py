"""Digest of what a build publishes, to show two builds of the same home give the same results.

Every table and view of the schema ``marts``, every rule-failure relation of ``intermediate``
(``int_*_failures_detected``, ``int_rule_failures_unioned``) and the verdicts
(``int_submissions_verdicted``): row count and an md5 of all rows, each row rendered as text
(doubles to 12 significant digits: a sum of doubles computed by parallel threads may differ in
its last bits from one run to the next) and the rows sorted by that text (a total order, so
neither the physical order of rows nor the threads that wrote them count). The
judged-submissions ledger is left out (it records dbt's invocation id and times). Prints one
line per relation and a digest of the whole set.

    .venv/bin/python bench/warehouse_digest.py HOME/warehouse/migstat.duckdb [--compare OTHER]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import duckdb

INTERMEDIATE = ("int_rule_failures_unioned", "int_submissions_verdicted")


def relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "union all select schema_name, view_name from duckdb_views() where not internal"
    ).fetchall()
    chosen = [
        (schema, name)
        for schema, name in rows
        if schema == "marts"
        or (
            schema == "intermediate"
            and (name.endswith("_failures_detected") or name in INTERMEDIATE)
        )
    ]
    return sorted(chosen)


def digest(path: Path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    found: dict[str, str] = {}
    for schema, name in relations(con):
        columns = con.execute(f'describe "{schema}"."{name}"').fetchall()
        shown = ", ".join(
            f"printf('%.12g', \"{column}\")" if kind in ("DOUBLE", "FLOAT") else f'"{column}"'
            for column, kind, *_ in columns
        )
        count, md5 = con.execute(
            f"select count(*), md5(coalesce(string_agg(r, chr(10) order by r), '')) from "
            f'(select cast(row({shown}) as varchar) as r from "{schema}"."{name}")'
        ).fetchone() or (0, "")
        found[f"{schema}.{name}"] = f"{count} {md5}"
    con.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--compare", type=Path, help="a second warehouse: list the differences")
    args = parser.parse_args()
    first = digest(args.warehouse)
    whole = hashlib.md5("\n".join(f"{k} {v}" for k, v in first.items()).encode()).hexdigest()
    for name, value in first.items():
        print(f"{name} {value}")
    print(f"{len(first)} relations, digest {whole}")
    if args.compare is None:
        return
    second = digest(args.compare)
    differ = sorted(k for k in first.keys() | second.keys() if first.get(k) != second.get(k))
    for name in differ:
        print(f"DIFFERS {name}: {first.get(name)} vs {second.get(name)}")
    print("identical" if not differ else f"{len(differ)} relations differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
