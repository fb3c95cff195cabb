"""Products published, seconds to publish and size of the site, on the published warehouse.

Usage: .venv/bin/python bench/publish_site.py [--workers N] [--repeat R]
Reads $MIGSTAT_HOME/warehouse/migstat.duckdb (run `migstat run --no-superset` first) and writes
the site into a temporary folder, so the home's own site is left alone. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

from migstat.home import Home
from migstat.publish import publish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    home = Home.from_env()
    seconds: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.repeat):
            result = publish(home.published_db, Path(scratch) / "site", workers=args.workers)
            seconds.append(result.seconds)
        files = sum(1 for f in result.site_dir.rglob("*") if f.is_file())
    print(
        json.dumps(
            {
                "warehouse": str(home.published_db),
                "products": result.products,
                "publish_seconds_median": round(statistics.median(seconds), 2),
                "publish_seconds": [round(s, 2) for s in seconds],
                "site_mb": round(result.size_mb, 1),
                "files": files,
                "workers": args.workers or os.cpu_count(),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
