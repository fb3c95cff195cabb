"""Compare two data API folders (``api/v1/`` of two sites, or two ``migstat export`` outputs)
file by file, whole files, large ones in 16 MB blocks: JSON-stat ``updated``, the catalogue's
``generated`` and the SDMX-ML message's ``ID`` and ``Prepared`` (pysdmx's random id and
time) are masked; everything else must be the same bytes.

    .venv/bin/python bench/compare_api.py BEFORE/api/v1 AFTER/api/v1
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

LARGE = 100_000_000
STAMPS = re.compile(rb'"(updated|generated)":"[^"]*"')
MESSAGE = re.compile(rb"<mes:(ID|Prepared)>[^<]*</mes:\1>")


def _masked(data: bytes) -> bytes:
    return MESSAGE.sub(b"", STAMPS.sub(b"", data))


def _same_large(a: Path, b: Path) -> bool:
    with a.open("rb") as f, b.open("rb") as g:
        if _masked(f.read(1 << 20)) != _masked(g.read(1 << 20)):
            return False
        while True:
            x, y = f.read(1 << 24), g.read(1 << 24)
            if x != y:
                return False
            if not x:
                return True


def main() -> None:
    before, after = Path(sys.argv[1]), Path(sys.argv[2])
    same = different = 0
    names = sorted({p.name for p in before.iterdir()} | {p.name for p in after.iterdir()})
    for name in names:
        a, b = before / name, after / name
        if not a.is_file() or not b.is_file():
            print(f"{name}: only in {'after' if not a.is_file() else 'before'}")
            different += 1
            continue
        if a.stat().st_size > LARGE:
            ok = _same_large(a, b)
        else:
            ok = _masked(a.read_bytes()) == _masked(b.read_bytes())
        if not ok:
            print(f"{name}: different ({a.stat().st_size} / {b.stat().st_size} bytes)")
        same += ok
        different += not ok
    print(f"{same} same, {different} different")


if __name__ == "__main__":
    main()
