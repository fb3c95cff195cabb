"""``migstat run``: the main job on the embedded default, end to end.

Each step is the same subcommand a user would type, run as a child process so that each one
opens and closes the warehouse on its own (DuckDB allows one writer at a time).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

from migstat.errors import MigstatError
from migstat.home import Home


@dataclass(frozen=True)
class Step:
    title: str
    args: list[str]
    ok_codes: tuple[int, ...] = (0,)
    """Exit codes that let the run go on (``load`` exits 1 when it rejected a file)."""


def steps(
    home: Home, *, superset: bool, fresh_samples: bool, seed: int, portal: bool = True
) -> list[Step]:
    plan: list[Step] = []
    if fresh_samples or not any(home.inbox.glob("*.*")):
        plan.append(
            Step("sample workbooks", ["sample", "-o", str(home.inbox), "--seed", str(seed)])
        )
    plan += [
        Step("load", ["load", str(home.inbox)], ok_codes=(0, 1)),
        Step("build and check", ["build"]),
        Step("publish products", ["publish", "-o", str(home.site_dir)]),
    ]
    if superset:
        plan.append(Step("dashboards", ["superset", "up"]))
    if portal:
        plan.append(Step("submission portal", ["portal", "up"]))
    return plan


def run(
    *, superset: bool = True, fresh_samples: bool = False, seed: int = 2026, portal: bool = True
) -> None:
    home = Home.from_env().ensure()
    for number, step in enumerate(
        steps(home, superset=superset, fresh_samples=fresh_samples, seed=seed, portal=portal), 1
    ):
        print(f"\n== {number}. {step.title}: migstat {' '.join(step.args)}", flush=True)
        completed = subprocess.run([sys.executable, "-m", "migstat", *step.args], check=False)
        if completed.returncode not in step.ok_codes:
            raise MigstatError(
                f"step '{step.title}' failed with exit code {completed.returncode}; "
                f"re-run `migstat {' '.join(step.args)}` to see why"
            )
    print("\n== done")
    print(f"  warehouse (read-only for users): {home.published_db}")
    print(f"  products: file://{home.site_dir / 'index.html'}")
    if superset:
        print("  dashboards: http://127.0.0.1:8088 (see the login line above)")
    if portal:
        from migstat.portal.ctl import login_help, status

        url = status(home)["url"] or "http://127.0.0.1:8090"  # set by `portal up` above
        print("  submission portal for country offices: " + login_help(home, url))
    print("  every submission and its verdict: migstat status; a report: migstat report ID -o FILE")
