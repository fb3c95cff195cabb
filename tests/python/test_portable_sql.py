"""No DuckDB-only SQL outside the dispatch macros (macros/portable/): every model and macro is
scanned with its Jinja comments, Jinja expressions and SQL comments removed, so what remains is
the SQL the model spells itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migstat.home import project_root

ROOT = project_root()
PORTABLE = ROOT / "macros" / "portable"

# DuckDB spellings that Spark SQL (or ANSI SQL) does not share, each with the macro to use.
DUCKDB_ONLY = {
    r"\bstrip_accents\s*\(": "a portable macro",
    r"\bregexp_[a-z_]+\s*\(": "regexp_extract() / regexp_full_match()",
    r"\bgroup\s+by\s+all\b": "explicit group by columns",
    r"\b(list|array)_[a-z_]+\s*\(": "csv_position() or plain columns",
    r"\bstring_split\s*\(": "csv_position()",
    r"\bunnest\s*\(": "a union of literal rows",
    r"\bmedian\s*\(": "median()",
    r"\bstring_agg\s*\(": "sorted_string_agg()",
    r"::": "cast(... as ...)",
    r"\btry_cast\s*\(": "try_cast()",
    r"\b(try_)?strptime\s*\(|\bstrftime\s*\(": "year_month(), try_parse_day_month_year()",
    r"\bepoch\w*\s*\(": "a portable macro",
    r"\bilike\b": "lower(...) like",
    r"\bqualify\b": "a window in a subquery",
    r"\bvarchar\b": "text_type()",
    r"//": "int_div()",
    r"\bstruct_pack\s*\(|\{\s*'[a-z_]+'\s*:": "plain columns",
    r"\bexclude\s*\(|\breplace\s*\(\s*[^,()]+\s+as\b": "explicit columns",
    r"\bcolumns\s*\(": "explicit columns",
}


def sql_of(path: Path) -> str:
    """The SQL a file spells itself: without Jinja comments/expressions/statements and SQL
    comments (a macro call such as {{ median('x') }} is the portable form)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\{#.*?#\}", " ", text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}", " x ", text, flags=re.S)
    text = re.sub(r"\{%.*?%\}", " ", text, flags=re.S)
    return re.sub(r"--[^\n]*", " ", text)


def sql_files() -> list[Path]:
    files = sorted((ROOT / "models").rglob("*.sql")) + sorted((ROOT / "macros").rglob("*.sql"))
    return [path for path in files if PORTABLE not in path.parents]


def duckdb_only_constructs() -> list[str]:
    found = []
    for path in sql_files():
        sql = sql_of(path)
        for pattern, instead in DUCKDB_ONLY.items():
            for match in re.finditer(pattern, sql, flags=re.I):
                line = sql.count("\n", 0, match.start()) + 1
                found.append(
                    f"{path.relative_to(ROOT)}:{line}: {match.group(0).strip()!r} (use {instead})"
                )
    return found


def test_no_duckdb_only_sql_outside_the_dispatch_macros() -> None:
    assert sql_files(), "no models found"
    assert duckdb_only_constructs() == []


@pytest.mark.parametrize(
    "sql",
    [
        "select median(x) from t",
        "select string_agg(a, ',' order by a) from t",
        "select a::integer",
        "select * from t group by all",
        "select cast(a as varchar)",
        "select regexp_matches(a, 'b')",
        "select list_position(l, 1)",
        "select a // 2",
    ],
)
def test_the_scan_finds_a_duckdb_only_construct(sql: str, tmp_path: Path) -> None:
    model = tmp_path / "model.sql"
    model.write_text("{# median( in a comment is fine #}\n" + sql + "\n")
    assert any(re.search(pattern, sql_of(model), flags=re.I) for pattern in DUCKDB_ONLY)
    clean = tmp_path / "clean.sql"
    clean.write_text("select {{ median('x') }} -- median(x)\n")
    assert not any(re.search(pattern, sql_of(clean), flags=re.I) for pattern in DUCKDB_ONLY)
