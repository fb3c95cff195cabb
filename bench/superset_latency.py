"""Chart-data latency over every chart of every dashboard, and the Superset process memory.

Usage: .venv/bin/python bench/superset_latency.py [--rounds N] [--concurrency C]
Talks to the Superset of $MIGSTAT_HOME (run `migstat superset up` first); logs in as admin with
SUPERSET_ADMIN_PASSWORD or the home's generated password. Each round requests
/api/v1/chart/<id>/data/ once per chart of each dashboard (Superset caches no chart data here, so
every request runs its DuckDB query). Latency p50/p95 overall and per dashboard, and the ten
slowest charts by median. Memory is the resident set (RSS) of the gunicorn master and workers,
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
    # A chart on several dashboards is measured once per dashboard that shows it.
    charts = [
        (dashboard["dashboard_title"], chart["id"], chart["slice_name"])
        for dashboard in client.dashboards()
        for chart in client.dashboard_charts(dashboard["id"])
    ]

    def timed(chart_id: int) -> float:
        started = time.perf_counter()
        client.chart_data(chart_id)
        return (time.perf_counter() - started) * 1000

    for _, chart_id, _ in charts:  # warm-up: first queries import code paths in each worker
        timed(chart_id)
    by_chart: dict[tuple[str, int, str], list[float]] = {chart: [] for chart in charts}
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        for _ in range(args.rounds):
            for chart, ms in zip(charts, pool.map(timed, [c[1] for c in charts]), strict=True):
                by_chart[chart].append(ms)
    latencies = [ms for values in by_chart.values() for ms in values]
    dashboards: dict[str, dict[str, float | int]] = {}
    for title in dict.fromkeys(chart[0] for chart in charts):
        values = [ms for chart, got in by_chart.items() if chart[0] == title for ms in got]
        dashboards[title] = {
            "charts": sum(1 for chart in charts if chart[0] == title),
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
            "max_ms": round(max(values), 1),
        }
    slowest = sorted(by_chart.items(), key=lambda item: -statistics.median(item[1]))[:10]
    wall = time.perf_counter() - started
    processes = process_tree(pid)
    memory = {str(process): rss_kib(process) // 1024 for process in processes}
    print(
        json.dumps(
            {
                "charts": len(charts),
                "requests": len(latencies),
                "concurrency": args.concurrency,
                "p50_ms": round(statistics.median(latencies), 1),
                "p95_ms": round(percentile(latencies, 0.95), 1),
                "max_ms": round(max(latencies), 1),
                "dashboards": dashboards,
                "slowest_charts": [
                    {
                        "dashboard": title,
                        "chart_id": chart_id,
                        "chart": name,
                        "p50_ms": round(statistics.median(values), 1),
                        "max_ms": round(max(values), 1),
                    }
                    for (title, chart_id, name), values in slowest
                ],
                "requests_per_s": round(len(latencies) / wall, 1),
                "rss_mib_by_process": memory,
                "rss_mib_total": sum(memory.values()),
                "warehouse_mib": round(home.published_db.stat().st_size / 2**20, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
