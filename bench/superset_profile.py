"""Where a chart-data request's time goes inside Superset: cProfile around
``/api/v1/chart/<id>/data/`` in one Superset process (its Flask test client), no gunicorn.

Usage: .venv/bin/python bench/superset_profile.py [--charts 1,3,8,26] [--rounds 5] [--top 25]
Runs in Superset's own environment (``.venv-superset``) with the environment ``migstat superset
up`` gives it, over the home of $MIGSTAT_HOME (provisioned: run ``migstat superset up`` once).
Logs in as admin, asks each chart once to warm up, then profiles ``rounds`` requests per chart
with ``force=true`` (every query runs). Prints each request's milliseconds and the functions with
the most own time (SQLite commits, DuckDB connect/execute/close, ...).
"""

from __future__ import annotations

import argparse
import subprocess

from migstat.home import Home
from migstat.superset.control import superset_env
from migstat.superset.paths import VENV, Paths

PROGRAM = """
import cProfile, pstats, sys, time
from superset.app import create_app

charts = [int(x) for x in sys.argv[1].split(",")]
rounds, top, password = int(sys.argv[2]), int(sys.argv[3]), sys.stdin.read().strip()
client = create_app().test_client()
token = client.post(
    "/api/v1/security/login",
    json={"username": "admin", "password": password, "provider": "db", "refresh": False},
).json["access_token"]
headers = {"Authorization": f"Bearer {token}"}


def ask(chart):
    answer = client.get(f"/api/v1/chart/{chart}/data/?format=json&force=true", headers=headers)
    assert answer.status_code == 200, answer.data[:300]


for chart in charts:
    ask(chart)
profile, times = cProfile.Profile(), []
for _ in range(rounds):
    for chart in charts:
        started = time.perf_counter()
        profile.enable()
        ask(chart)
        profile.disable()
        times.append((chart, round((time.perf_counter() - started) * 1000)))
print("chart, ms:", times)
print("mean ms per request:", round(sum(ms for _, ms in times) / len(times)))
pstats.Stats(profile).sort_stats("tottime").print_stats(top)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--charts", default="1,3,8,26", help="chart ids, comma-separated")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    home = Home.from_env()
    subprocess.run(
        [
            str(VENV / "bin" / "python"),
            "-P",
            "-c",
            PROGRAM,
            args.charts,
            str(args.rounds),
            str(args.top),
        ],
        env=superset_env(home),
        cwd=home.superset_dir,
        input=Paths(home).password.read_text(),
        text=True,
        check=True,
    )


if __name__ == "__main__":
    main()
