"""The dbt process of ``migstat build``: dbt's ``dbtRunner`` with an event callback.

``migstat build`` starts ``python -m migstat.dbt_child ARGS...`` in its own process group (so a
killed build kills dbt too: :mod:`migstat.build`). dbt runs in process here, through
``dbtRunner(callbacks=[...])``; its console output goes to this process's stdout (the build log),
and one JSON line per event migstat cares about goes to the file descriptor named by
``MIGSTAT_DBT_EVENTS_FD``:

* ``{"kind": "node", "index", "total", "resource_type", "name", "status", "seconds"}`` when a
  node (model, test, seed) finishes;
* ``{"kind": "done", "success", "failed": ["unique_id: status", ...]}`` at the end.

Exit status: dbt's (0 success, 1 a node failed, 2 dbt could not run).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import IO, Any

EVENTS_FD_ENV = "MIGSTAT_DBT_EVENTS_FD"
FAILED_STATUSES = {"error", "fail", "runtime error"}


class EventWriter:
    """Writes one JSON line per finished node (dbt calls back from its worker threads)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.positions: dict[str, tuple[int, int]] = {}

    def write(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.stream.write(json.dumps(record) + "\n")
            self.stream.flush()

    def __call__(self, event: Any) -> None:
        name = event.info.name
        if name == "LogStartLine":
            data = event.data
            self.positions[data.node_info.unique_id] = (int(data.index), int(data.total))
        elif name == "NodeFinished":
            node = event.data.node_info
            result = event.data.run_result
            index, total = self.positions.get(node.unique_id, (0, 0))
            self.write(
                {
                    "kind": "node",
                    "index": index,
                    "total": total,
                    "unique_id": node.unique_id,
                    "resource_type": node.resource_type,
                    "name": node.node_name,
                    "status": result.status or node.node_status,
                    "seconds": round(float(result.execution_time), 2),
                }
            )


def failed_nodes(result: Any) -> list[str]:
    """``unique_id: status`` of every node that errored or failed, from dbtRunner's result."""
    results = getattr(result, "results", None) or []
    return [
        f"{item.node.unique_id}: {status}"
        for item in results
        if (status := str(getattr(item.status, "value", item.status))) in FAILED_STATUSES
    ]


def main(args: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    with os.fdopen(int(os.environ[EVENTS_FD_ENV]), "w", encoding="utf-8") as stream:
        writer = EventWriter(stream)
        outcome = dbtRunner(callbacks=[writer]).invoke(args)
        writer.write(
            {"kind": "done", "success": outcome.success, "failed": failed_nodes(outcome.result)}
        )
    if outcome.success:
        return 0
    return 2 if outcome.exception is not None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
