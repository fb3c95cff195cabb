"""Chart-data latency over every chart of every dashboard, and the Superset process memory.

Usage: .venv/bin/python bench/superset_latency.py [--rounds N] [--concurrency C]
Talks to the Superset of $MIGSTAT_HOME (run `migstat superset up` first); logs in as admin with
SUPERSET_ADMIN_PASSWORD or the home's generated password. Each round requests
/api/v1/chart/<id>/data/ once per chart (Superset caches no chart data here, so every request
runs its DuckDB query). Memory is the resident set (RSS) of the gunicorn master and workers,
read from /proc after the rounds. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from migstat.home import REPO_ROOT, Home
from migstat.superset.control import running_pid, server_url
from migstat.superset.paths import Paths

# The REST client is a test helper (tests/python/fixtures/superset_api.py); the benchmark shares it.
sys.path.insert(0, str(REPO_ROOT / "tests" / "python"))
from fixtures.superset_api import SupersetClient


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(item) for item in children.read_text().split()] if children.exists() else []
    return [pid, *(grandchild for kid in kids for grandchild in process_tree(kid))]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()

    home = Home.from_env()
    pid = running_pid(home)
    url = server_url(home)
    if pid is None or url is None:
        raise SystemExit("Superset is not running for this MIGSTAT_HOME: migstat superset up")
    password = os.environ.get("SUPERSET_ADMIN_PASSWORD") or Paths(home).password.read_text()
    client = SupersetClient.login(url, "admin", password.strip())
    chart_ids = [
        chart["id"]
        for dashboard in client.dashboards()
        for chart in client.dashboard_charts(dashboard["id"])
    ]

    def timed(chart_id: int) -> float:
        started = time.perf_counter()
        client.chart_data(chart_id)
        return (time.perf_counter() - started) * 1000

    for chart_id in chart_ids:  # warm-up: first queries import code paths in each worker
        timed(chart_id)
    latencies: list[float] = []
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        for _ in range(args.rounds):
            latencies += list(pool.map(timed, chart_ids))
    wall = time.perf_counter() - started
    processes = process_tree(pid)
    memory = {str(process): rss_kib(process) // 1024 for process in processes}
    print(
        json.dumps(
            {
                "charts": len(chart_ids),
                "requests": len(latencies),
                "concurrency": args.concurrency,
                "p50_ms": round(statistics.median(latencies), 1),
                "p95_ms": round(percentile(latencies, 0.95), 1),
                "max_ms": round(max(latencies), 1),
                "requests_per_s": round(len(latencies) / wall, 1),
                "rss_mib_by_process": memory,
                "rss_mib_total": sum(memory.values()),
                "warehouse_mib": round(home.published_db.stat().st_size / 2**20, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
