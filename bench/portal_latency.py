"""Seconds from upload to verdict through the submission portal, and nine offices at once.

Usage: .venv/bin/python bench/portal_latency.py [--port 8593] [--rounds 10] [--no-preload]

Builds a scratch home (a temporary MIGSTAT_HOME): sample workbooks (seed 2026) loaded and built
as `migstat run` does (unless --no-preload), one office account and API token per sample
country, `migstat portal up`. Then, one at a time, ROUNDS uploads of sample workbooks written
with another seed (new content: each is a new submission), each timed from the POST to the
moment its verdict is final (GET /api/v1/submissions/{id} polled every 0.2 s): the median is
the number the issue asks for. Then nine offices upload one workbook each at the same time:
seconds until all nine got 202 and until all nine verdicts, whether all were kept, and whether
`migstat verify` passes. Prints one JSON line; stops the portal and removes the home.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

COUNTRIES = ["MEX", "GTM", "BLZ", "SLV", "HND", "NIC", "CRI", "PAN", "DOM"]
SOURCES = ["entries_exits", "asylum", "returns", "work_permits", "irregular_foreigners"]
FINAL = {"published", "quarantined", "rejected", "superseded", "withdrawn", "failed"}


def migstat(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "migstat", *args], env=env, capture_output=True, text=True
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"migstat {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def post(url: str, token: str, path: Path) -> dict:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{url}/api/v1/submissions",
        data=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        assert answer.status == 202
        return json.loads(answer.read())


def final(url: str, token: str, upload_id: int) -> dict:
    request = urllib.request.Request(
        f"{url}/api/v1/submissions/{upload_id}", headers={"Authorization": f"Bearer {token}"}
    )
    while True:
        with urllib.request.urlopen(request, timeout=60) as answer:
            body = json.loads(answer.read())
        if body["status"] in FINAL:
            return body
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8593)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-preload", action="store_true")
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="migstat-portal-bench-"))
    env = {**os.environ, "MIGSTAT_HOME": str(scratch / "home"), "MIGSTAT_PASSWORD": "x" * 16}
    try:
        base, other = scratch / "samples", scratch / "other"
        migstat(env, "sample", "-o", str(base), "--seed", "2026")
        migstat(env, "sample", "-o", str(other), "--seed", "7")
        if not options.no_preload:
            migstat(env, "load", str(base))
            migstat(env, "build")
        tokens = {}
        for country in COUNTRIES:
            migstat(env, "users", "add", country.lower(), "--role", "office", "--country", country)
            tokens[country] = migstat(env, "users", "token", country.lower()).strip()
        migstat(env, "portal", "up", "--port", str(options.port))
        url = f"http://127.0.0.1:{options.port}"
        plan = [
            (country, other / f"{country}_{source}_2023.xlsx")
            for source in SOURCES
            for country in COUNTRIES
        ][: options.rounds]
        seconds, verdicts = [], []
        for country, path in plan:
            started = time.monotonic()
            answer = post(url, tokens[country], path)
            body = final(url, tokens[country], answer["id"])
            seconds.append(time.monotonic() - started)
            verdicts.append(body["status"])
        started = time.monotonic()
        with ThreadPoolExecutor(len(COUNTRIES)) as pool:
            sent = list(
                pool.map(
                    lambda c: (c, post(url, tokens[c], other / f"{c}_returns_2024.xlsx")),
                    COUNTRIES,
                )
            )
        accepted_all = time.monotonic() - started
        nine = [final(url, tokens[c], answer["id"]) for c, answer in sent]
        verdict_all = time.monotonic() - started
        verified = subprocess.run(
            [sys.executable, "-m", "migstat", "verify"], env=env, capture_output=True
        )
        print(
            json.dumps(
                {
                    "preloaded_samples": not options.no_preload,
                    "rounds": len(seconds),
                    "upload_to_verdict_median_s": round(statistics.median(seconds), 2),
                    "upload_to_verdict_min_s": round(min(seconds), 2),
                    "upload_to_verdict_max_s": round(max(seconds), 2),
                    "verdicts": verdicts,
                    "nine_offices_all_202_s": round(accepted_all, 2),
                    "nine_offices_all_verdicts_s": round(verdict_all, 2),
                    "nine_offices_kept": len({b["submission_id"] for b in nine}),
                    "nine_offices_verdicts": sorted(b["status"] for b in nine),
                    "verify_passed": verified.returncode == 0,
                }
            )
        )
    finally:
        subprocess.run([sys.executable, "-m", "migstat", "portal", "down"], env=env, check=False)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
