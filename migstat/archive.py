"""The archive of received files: every file version ever received, immutable, by its sha256.

``$MIGSTAT_HOME/archive/<sha256[:2]>/<sha256><suffix>``, read-only, written through a temporary
file in the same folder and a rename, so a file in the archive is always whole. The original
name and everything else known about the file live in the history journal
(:mod:`migstat.history`); ``migstat restore`` rebuilds the raw store from both.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from migstat.errors import MigstatError

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
CHUNK = 1 << 20


def archive_dir(root: Path) -> Path:
    return root / "archive"


def archive_path(root: Path, sha256: str, suffix: str) -> Path:
    return archive_dir(root) / sha256[:2] / f"{sha256}{suffix.lower()}"


def find_archived(root: Path, sha256: str) -> Path | None:
    """The archived copy of a content, whatever its suffix, or ``None``."""
    folder = archive_dir(root) / sha256[:2]
    if not folder.is_dir():
        return None
    for candidate in sorted(folder.glob(f"{sha256}*")):
        if candidate.name.startswith(sha256) and not candidate.name.endswith(".part"):
            return candidate
    return None


def archived_hashes(root: Path) -> set[str]:
    """The sha256 of every archived file."""
    folder = archive_dir(root)
    if not folder.is_dir():
        return set()
    return {
        path.name[:64]
        for path in folder.glob("??/*")
        if path.is_file() and not path.name.endswith(".part")
    }


def keep(root: Path, source: Path, sha256: str, *, sync: bool = True) -> Path:
    """Copy ``source`` into the archive under ``sha256`` (no-op when already there).

    The copy is hashed while written; a file that changed since it was hashed is refused
    rather than archived under a hash it does not have. The copy is synced to disk before it
    takes its name; its folder too, unless ``sync`` is false (the caller then syncs the folders
    of several copies at once: ``sync_folders``).
    """
    existing = find_archived(root, sha256)
    if existing is not None:
        return existing
    target = archive_path(root, sha256, source.suffix)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    try:
        with source.open("rb") as reader, temporary.open("wb") as writer:
            for chunk in iter(lambda: reader.read(CHUNK), b""):
                digest.update(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        if digest.hexdigest() != sha256:
            raise MigstatError(
                f"{source.name}: the file changed while it was being received "
                f"(sha256 {digest.hexdigest()[:12]}..., expected {sha256[:12]}...); send it again"
            )
        os.chmod(temporary, READ_ONLY)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    if sync:
        sync_folders([target.parent])
    return target


def sync_folders(folders: Iterable[Path]) -> None:
    """Sync folders to disk, so the names of the files just renamed into them last."""
    for folder in folders:
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
