"""Containing a dbt failure that one submission's data causes (rule ``STR-BUILD``).

Every rule is computed as data, so a bad file is normally quarantined and the build passes. A
model can still fail on some value no rule anticipated (a bug in the project, an engine limit).
When ``dbt build`` fails, the build looks for the submissions whose data makes it fail, on its
own file (the raw store itself is never changed):

1. it builds again with every candidate submission (loaded, not withdrawn) set aside: if that
   fails too, the failure is the project's, not a submission's, and nothing is set aside;
2. otherwise it bisects: the smallest prefix of the candidates (in submission order) that makes
   the build fail ends with a culprit; the culprit is set aside and, while the build still
   fails, the search goes on among the others (at most ``MAX_CULPRITS``);
3. the culprits stay set aside (their cells moved out of the raw tables of the build file, the
   submission marked rejected with rule ``STR-BUILD``, naming the failed dbt nodes) and the
   last build, which passed, is the one published.

A search costs about ``log2(candidates) + 2`` more builds per culprit. The verdict is for this
build only: the next build tries every submission again, so a fixed project publishes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

MAX_CULPRITS = 3
RULE = "STR-BUILD"
SIDE_SCHEMA = "build_set_aside"


def candidates(path: Path) -> list[int]:
    """Submissions a build judges: loaded and not withdrawn, in submission order."""
    with duckdb.connect(str(path)) as con:
        rows = con.execute(
            "select submission_id from raw.submissions where status = 'loaded' "
            "and submission_id not in (select submission_id from raw.withdrawals) order by 1"
        ).fetchall()
    return [row[0] for row in rows]


def _cell_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables of schema raw holding rows per submission (cells, sheets), not the submissions."""
    rows = con.execute(
        "select table_name from information_schema.columns "
        "where table_schema = 'raw' and column_name = 'submission_id' "
        "and table_name not in ('submissions', 'withdrawals') order by 1"
    ).fetchall()
    return [row[0] for row in rows]


def set_aside(path: Path, ids: Sequence[int], reason_en: str, reason_es: str) -> None:
    """Make exactly ``ids`` the set-aside submissions of the build file ``path``: their rows
    move to schema ``build_set_aside`` and they read as rejected with ``STR-BUILD``; any
    submission set aside before and not in ``ids`` is put back as it was."""
    with duckdb.connect(str(path)) as con:
        con.execute("begin")
        con.execute(f"create schema if not exists {SIDE_SCHEMA}")
        for table in _cell_tables(con):
            side = f"{SIDE_SCHEMA}.{table}"
            con.execute(f"create table if not exists {side} as select * from raw.{table} limit 0")
            con.execute(f"insert into raw.{table} select * from {side}")
            con.execute(f"delete from {side}")
            if ids:
                chosen = f"submission_id in ({', '.join(str(int(i)) for i in ids)})"
                con.execute(f"insert into {side} select * from raw.{table} where {chosen}")
                con.execute(f"delete from raw.{table} where {chosen}")
        con.execute(
            "update raw.submissions set status = 'loaded', error_rule = null, "
            "error_message = null, error_message_es = null where error_rule = ?",
            [RULE],
        )
        if ids:
            con.execute(
                "update raw.submissions set status = 'rejected', error_rule = ?, "
                "error_message = ?, error_message_es = ? "
                f"where submission_id in ({', '.join(str(int(i)) for i in ids)})",
                [RULE, reason_en, reason_es],
            )
        con.execute("commit")


def find_culprits(
    path: Path,
    build: Callable[[], bool],
    failed_nodes: Callable[[], list[str]],
    tell: Callable[[str], None],
) -> list[int] | None:
    """Bisect the submissions of the build file ``path`` whose data makes ``build`` fail.

    ``build()`` runs dbt on ``path`` and says whether it passed. Returns the culprits, set
    aside in ``path`` and with ``path`` holding a passing build; or ``None`` when the failure
    does not come from submissions' data (``path`` then holds every submission again)."""
    nodes = ", ".join(node.split(":")[0] for node in failed_nodes()) or "dbt build"
    reason_en = (
        f"the build failed on this submission's data ({nodes}); it is kept out of this build "
        "so that the others publish. Report it to the maintainers; a corrected file or a "
        "fixed project is judged again at the next build"
    )
    reason_es = (
        f"la compilación falló con los datos de este envío ({nodes}); queda fuera de esta "
        "compilación para que los demás se publiquen. Informe a los responsables; un archivo "
        "corregido o un proyecto arreglado se juzga de nuevo en la próxima compilación"
    )
    pool = candidates(path)

    def passes(aside: Sequence[int]) -> bool:
        set_aside(path, aside, reason_en, reason_es)
        return build()

    tell(f"the build failed ({nodes}); looking for the submission(s) that make it fail")
    if not pool or not passes(pool):
        set_aside(path, [], reason_en, reason_es)
        tell("the build fails without any submission too: the failure is the project's")
        return None
    culprits: list[int] = []
    while len(culprits) < MAX_CULPRITS:
        remaining = [sid for sid in pool if sid not in culprits]
        low, high = 0, len(remaining)  # passes with remaining[:low]; fails with remaining[:high]
        while high - low > 1:
            middle = (low + high) // 2
            if passes([*culprits, *remaining[middle:]]):
                low = middle
            else:
                high = middle
        culprit = remaining[high - 1]
        culprits.append(culprit)
        tell(f"submission {culprit} makes the build fail: set aside with rule {RULE}")
        if passes(culprits):
            return culprits
    set_aside(path, [], reason_en, reason_es)
    tell(f"more than {MAX_CULPRITS} submissions make the build fail: nothing set aside")
    return None
