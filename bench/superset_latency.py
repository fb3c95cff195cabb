"""Chart-data latency over every chart of every dashboard, and the Superset process memory.

Usage: .venv/bin/python bench/superset_latency.py [--rounds N] [--concurrency C]
Talks to the Superset of $MIGSTAT_HOME (run `migstat superset up` first); logs in as admin with
SUPERSET_ADMIN_PASSWORD or the home's generated password. Each round requests
/api/v1/chart/<id>/data/ once per chart of each dashboard. The measured rounds come twice:
"cold" rounds ask with ``force=true`` (Superset skips its chart-data cache, every request runs its
DuckDB query: the first view of a chart after a build), then "cached" rounds ask as a dashboard
does (with the chart-data cache on, answered from it; without a cache, the same as cold).
Latency p50/p95 overall and per dashboard, and the ten slowest charts by median (cold). Memory is
the resident set (RSS) of the gunicorn master and workers, read from /proc after the rounds.
Prints one JSON line: ``dashboards``/``p50_ms``/``p95_ms`` are the cold rounds, ``cached`` the
cached rounds.
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

    def timed(chart_id: int, force: bool) -> float:
        started = time.perf_counter()
        query = {"format": "json", "type": "full"} | ({"force": "true"} if force else {})
        answer = client.get(f"/api/v1/chart/{chart_id}/data/", **query)
        if not answer["result"]:
            raise SystemExit(f"chart {chart_id} answered no result")
        return (time.perf_counter() - started) * 1000

    for _, chart_id, _ in charts:  # warm-up: first queries import code paths in each worker
        timed(chart_id, force=False)

    def measure(force: bool) -> dict[tuple[str, int, str], list[float]]:
        by_chart: dict[tuple[str, int, str], list[float]] = {chart: [] for chart in charts}
        ids = [chart[1] for chart in charts]
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            for _ in range(args.rounds):
                answers = pool.map(lambda chart_id: timed(chart_id, force), ids)
                for chart, ms in zip(charts, answers, strict=True):
                    by_chart[chart].append(ms)
        return by_chart

    def per_dashboard(
        by_chart: dict[tuple[str, int, str], list[float]],
    ) -> dict[str, dict[str, float | int]]:
        dashboards: dict[str, dict[str, float | int]] = {}
        for title in dict.fromkeys(chart[0] for chart in charts):
            values = [ms for chart, got in by_chart.items() if chart[0] == title for ms in got]
            dashboards[title] = {
                "charts": sum(1 for chart in charts if chart[0] == title),
                "p50_ms": round(statistics.median(values), 1),
                "p95_ms": round(percentile(values, 0.95), 1),
                "max_ms": round(max(values), 1),
            }
        return dashboards

    started = time.perf_counter()
    by_chart = measure(force=True)
    wall = time.perf_counter() - started
    cached = measure(force=False)
    latencies = [ms for values in by_chart.values() for ms in values]
    cached_latencies = [ms for values in cached.values() for ms in values]
    dashboards = per_dashboard(by_chart)
    slowest = sorted(by_chart.items(), key=lambda item: -statistics.median(item[1]))[:10]
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
                "cached": {
                    "p50_ms": round(statistics.median(cached_latencies), 1),
                    "p95_ms": round(percentile(cached_latencies, 0.95), 1),
                    "max_ms": round(max(cached_latencies), 1),
                    "dashboards": per_dashboard(cached),
                },
                "requests_per_s": round(len(latencies) / wall, 1),
                "rss_mib_by_process": memory,
                "rss_mib_total": sum(memory.values()),
                "warehouse_mib": round(home.published_db.stat().st_size / 2**20, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
