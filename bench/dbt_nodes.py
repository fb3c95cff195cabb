"""The slowest nodes of a dbt run: node count, dbt's elapsed time, the data tests' total.

.venv/bin/python bench/dbt_nodes.py $MIGSTAT_HOME/dbt/target/run_results.json [COUNT]
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path


def main() -> None:
    results = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    nodes = sorted(results["results"], key=lambda node: -float(node["execution_time"]))
    kinds = collections.Counter(node["unique_id"].split(".")[0] for node in nodes)
    summed = sum(float(node["execution_time"]) for node in nodes)
    tests = sum(
        float(node["execution_time"]) for node in nodes if node["unique_id"].startswith("test.")
    )
    print(
        f"nodes {len(nodes)} {dict(kinds)}; node times summed {summed:.1f} s; "
        f"dbt elapsed {float(results.get('elapsed_time') or 0):.1f} s; data tests {tests:.1f} s"
    )
    for node in nodes[:count]:
        name = node["unique_id"].split(".", 2)[-1]
        print(f"  {float(node['execution_time']):8.2f}  {name[:95]}")


if __name__ == "__main__":
    main()
