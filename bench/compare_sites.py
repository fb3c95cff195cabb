"""Compare two published sites file by file, the run's own timestamps and pysdmx's random
message ids masked (say, main's publish and a branch's of the same warehouse).

Usage: .venv/bin/python bench/compare_sites.py SITE_A SITE_B
XLSX files are compared member by member (the zip's own timestamps left out, the workbook's
creation time masked); the site's bookkeeping (``.migstat-*``) is not compared.
Exits 1 when a file differs or exists in one site only.
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

STAMP = re.compile(
    rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?([+-]\d\d:\d\d|Z)?|<mes:ID>[^<]*</mes:ID>"
)


def main() -> int:
    a, b = Path(sys.argv[1]), Path(sys.argv[2])
    in_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    in_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    only = sorted(str(p) for p in in_a ^ in_b)
    same = different = skipped = 0
    for rel in sorted(in_a & in_b):
        if rel.name.startswith(".migstat"):
            skipped += 1
            continue
        x, y = _content(a / rel), _content(b / rel)
        if x == y or STAMP.sub(b"T", x) == STAMP.sub(b"T", y):
            same += 1
        else:
            different += 1
            print(f"different: {rel}")
    for name in only:
        print(f"in one site only: {name}")
    print(f"{same} equal, {different} different, {skipped} not compared, {len(only)} in one only")
    return 1 if different or only else 0


def _content(path: Path) -> bytes:
    """A file's bytes; an XLSX file's members (names and contents, in order) instead."""
    if path.suffix != ".xlsx":
        return path.read_bytes()
    with zipfile.ZipFile(path) as book:
        return b"\0".join(name.encode() + b"\0" + book.read(name) for name in book.namelist())


if __name__ == "__main__":
    sys.exit(main())
