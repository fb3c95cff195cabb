"""How busy the cores are during a command: CPU of its process tree and of the machine, per
second, and per dbt node.

    .venv/bin/python bench/cpu_timeline.py --out DIR -- COMMAND [ARG ...]
    .venv/bin/python bench/cpu_timeline.py --report DIR [--run-results PATH]

Runs COMMAND and samples every ``--interval`` seconds: the user + system CPU and the resident
memory of its whole process tree (``/proc/<pid>/stat`` and ``status`` of every descendant),
the CPU of each of its threads (``DIR/threads.csv``) and the machine's busy CPU (``/proc/stat``,
every process of every user) into ``DIR/samples.csv``. ``--report`` prints the tree's
CPU-busy fraction (CPU s / (wall s x cores)), how many seconds it kept <0.5, 0.5-1.5 or >=1.5
cores busy, how much of the machine the other processes used meanwhile, the peak resident
memory; with dbt's ``run_results.json`` also, per node: wall, the tree's CPU during it,
``cores`` (that CPU / wall), ``others`` (cores other processes used meanwhile),
``alongside`` (seconds other nodes ran during it) and ``threads`` (CPU of all threads / CPU of
the busiest one: 1.0 = one thread did all the work, 2.0 = two shared it evenly), the nodes
running at the peak memory, and how long two or more nodes ran at once.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found += [int(child) for child in text.split()]
    except OSError:
        pass
    return found


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and every live descendant, in MiB."""
    total = 0.0
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
        pending += _children(pid)
    return total


def tree_cpu(root: int) -> float:
    """User + system CPU seconds of ``root`` and every live descendant (their threads too)."""
    total = 0.0
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat (after the command name: 11-14).
        total += sum(int(value) for value in fields[11:15]) / TICKS
        pending += _children(pid)
    return total


def thread_cpu(root: int) -> dict[int, float]:
    """User + system CPU seconds of every live thread of ``root`` and its descendants."""
    found: dict[int, float] = {}
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                fields = Path(f"/proc/{pid}/task/{task}/stat").read_text().rsplit(")", 1)[1]
            except OSError:
                continue
            values = fields.split()
            found[int(task)] = (int(values[11]) + int(values[12])) / TICKS
        pending += _children(pid)
    return found


def machine_busy() -> tuple[float, float]:
    """(busy CPU s, all CPU s) of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


def record(out: Path, command: list[str], interval: float) -> int:
    out.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(command)
    threads_out = (out / "threads.csv").open("w", newline="", encoding="utf-8")
    threads_writer = csv.writer(threads_out)
    threads_writer.writerow(["epoch", "tid", "cpu_s"])
    with (out / "samples.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", "tree_cpu_s", "machine_busy_s", "machine_all_s", "tree_rss_mb"])
        while True:
            busy, every = machine_busy()
            now = f"{time.time():.3f}"
            for tid, used in thread_cpu(process.pid).items():
                threads_writer.writerow([now, tid, f"{used:.2f}"])
            threads_out.flush()
            tree = f"{tree_cpu(process.pid):.2f}"
            rss = f"{tree_rss_mb(process.pid):.0f}"
            writer.writerow([now, tree, f"{busy:.2f}", f"{every:.2f}", rss])
            handle.flush()
            if process.poll() is not None:
                break
            time.sleep(interval)
    threads_out.close()
    return process.returncode


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def report(out: Path, run_results: Path | None, cores: int) -> None:
    with (out / "samples.csv").open(encoding="utf-8") as handle:
        rows = [[float(value) for value in row] for row in list(csv.reader(handle))[1:]]
    # The tree's CPU of a sample counts children that exited (cutime); a drop means a
    # descendant ended before its parent waited for it: keep the running maximum.
    steps = []
    high = rows[0][1]
    for before, after in itertools.pairwise(rows):
        cpu = max(after[1], high) - high
        high = max(high, after[1])
        machine = after[2] - before[2]
        steps.append((before[0], after[0], cpu, machine))
    wall = rows[-1][0] - rows[0][0]
    peak = max(rows, key=lambda row: row[4] if len(row) > 4 else 0.0)
    cpu = sum(step[2] for step in steps)
    machine = sum(step[3] for step in steps)
    print(
        f"wall {wall:.1f} s, tree CPU {cpu:.1f} s, busy fraction {cpu / (wall * cores):.2f}"
        f" (cores busy on average {cpu / wall:.2f} of {cores}); machine busy {machine:.1f} CPU s,"
        f" others {machine - cpu:.1f} CPU s ({(machine - cpu) / wall:.2f} cores on average)"
    )
    if len(peak) > 4:
        print(f"peak RSS of the tree {peak[4] / 1024:.2f} GiB at {peak[0] - rows[0][0]:.0f} s")
    bands = {"<0.5": 0.0, "0.5-1.5": 0.0, ">=1.5": 0.0}
    for start, end, used, _ in steps:
        rate = used / (end - start)
        band = "<0.5" if rate < 0.5 else "0.5-1.5" if rate < 1.5 else ">=1.5"
        bands[band] += end - start
    print(
        "seconds with the tree using cores: " + ", ".join(f"{k} {v:.0f}" for k, v in bands.items())
    )
    if run_results is None:
        return

    def tree_between(start: float, end: float) -> tuple[float, float]:
        used = others = 0.0
        for a, b, tree, all_busy in steps:
            overlap = max(0.0, min(b, end) - max(a, start))
            if overlap:
                used += tree * overlap / (b - a)
                others += (all_busy - tree) * overlap / (b - a)
        return used, others

    threads: dict[float, dict[int, float]] = {}
    threads_file = out / "threads.csv"
    if threads_file.exists():
        with threads_file.open(encoding="utf-8") as handle:
            for epoch, tid, seconds in list(csv.reader(handle))[1:]:
                threads.setdefault(float(epoch), {})[int(tid)] = float(seconds)
    epochs = sorted(threads)

    def spread(start: float, end: float) -> float:
        """CPU of all threads / CPU of the busiest thread between two samples around the span:
        1.0 when one thread did all the work, 2.0 when two shared it evenly."""
        if not epochs:
            return float("nan")
        first = max([e for e in epochs if e <= start] or [epochs[0]])
        last = min([e for e in epochs if e >= end] or [epochs[-1]])
        deltas = [used - threads[first].get(tid, 0.0) for tid, used in threads[last].items()]
        busiest = max(deltas, default=0.0)
        return sum(deltas) / busiest if busiest > 0 else float("nan")

    nodes = []
    for node in json.loads(run_results.read_text(encoding="utf-8"))["results"]:
        spans = [t for t in node.get("timing", []) if t.get("started_at") and t.get("completed_at")]
        if not spans:
            continue
        start = min(_epoch(t["started_at"]) for t in spans)
        end = max(_epoch(t["completed_at"]) for t in spans)
        nodes.append((node["unique_id"].split(".", 2)[-1], start, end))
    nodes.sort(key=lambda node: node[2] - node[1], reverse=True)
    print(
        f"{'node':60} {'wall':>7} {'cpu':>7} {'cores':>5} {'others':>6} {'alongside':>9}"
        f" {'threads':>7}"
    )
    for name, start, end in nodes[:20]:
        used, others = tree_between(start, end)
        alongside = sum(max(0.0, min(end, e) - max(start, s)) for n, s, e in nodes if n != name)
        print(
            f"{name[:60]:60} {end - start:7.1f} {used:7.1f} {used / (end - start):5.2f}"
            f" {others / (end - start):6.2f} {alongside:8.1f}s {spread(start, end):7.2f}"
        )
    if len(peak) > 4:
        at_peak = [name for name, start, end in nodes if start <= peak[0] <= end + 1.0]
        print(f"nodes running at the peak RSS: {', '.join(at_peak) or 'none (outside dbt)'}")
    if nodes:
        first = min(node[1] for node in nodes)
        last = max(node[2] for node in nodes)
        two = 0.0
        edges = sorted({t for _, s, e in nodes for t in (s, e)})
        for a, b in itertools.pairwise(edges):
            running = sum(1 for _, s, e in nodes if s < b and e > a)
            if running >= 2:
                two += b - a
        print(f"dbt nodes span {last - first:.1f} s; two or more nodes running for {two:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--report", type=Path)
    parser.add_argument("--run-results", type=Path)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("command", nargs="*")
    args = parser.parse_args()
    if args.report:
        report(args.report, args.run_results, args.cores)
        return
    if not args.out or not args.command:
        parser.error("--out DIR -- COMMAND, or --report DIR")
    sys.exit(record(args.out, args.command, args.interval))


if __name__ == "__main__":
    main()
