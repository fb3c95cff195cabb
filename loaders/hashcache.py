"""Content hashes of received files, remembered by (path, size, mtime) so that an unchanged file is
neither re-read nor re-hashed when a folder is loaded again.

The cache is only a shortcut: a file whose size or modification time changed is hashed again, and
a file touched without changing its content still deduplicates by its sha256 in the raw store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

VERSION = 1


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class HashCache:
    """``path -> (size, mtime_ns, sha256)``, kept as one JSON file (under ``MIGSTAT_HOME``)."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self._entries: dict[str, list[object]] = {}
        self._dirty = False
        if file is not None and file.exists():
            with contextlib.suppress(OSError, ValueError):
                document = json.loads(file.read_text(encoding="utf-8"))
                if isinstance(document, dict) and document.get("version") == VERSION:
                    entries = document.get("files")
                    if isinstance(entries, dict):
                        self._entries = entries

    def sha256(self, path: Path, stat: os.stat_result) -> str:
        key = str(path)
        entry = self._entries.get(key)
        if (
            entry is not None
            and len(entry) == 3
            and entry[0] == stat.st_size
            and entry[1] == stat.st_mtime_ns
            and isinstance(entry[2], str)
        ):
            return entry[2]
        digest = sha256_of(path)
        self._entries[key] = [stat.st_size, stat.st_mtime_ns, digest]
        self._dirty = True
        return digest

    def save(self) -> None:
        if self.file is None or not self._dirty:
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
        temporary.write_text(
            json.dumps({"version": VERSION, "files": self._entries}), encoding="utf-8"
        )
        os.replace(temporary, self.file)
        self._dirty = False
