"""Receiving an uploaded file: size limit, content sniffing, immutable copy by sha256.

A file is judged by its bytes, not its name: an ``.xlsx``/``.xlsm`` is a zip holding
``xl/workbook.xml``, an ``.ods`` a zip whose ``mimetype`` is the OpenDocument spreadsheet one, an
``.xls`` an OLE2 compound file. Anything else is refused before it reaches the loader. What is
accepted is kept read-only under ``$MIGSTAT_HOME/portal/archive/`` by its sha256 (the same
writer as the archive of ``migstat load``) before anything else happens.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from migstat.archive import keep
from migstat.home import Home
from migstat.portal.db import portal_dir

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
CHUNK = 1 << 20


class Refused(Exception):
    """An upload refused before it is kept: a message in Spanish and in English."""

    def __init__(self, es: str, en: str, status: int = 400) -> None:
        super().__init__(en)
        self.es = es
        self.en = en
        self.status = status


@dataclass(frozen=True)
class Received:
    file_name: str
    sha256: str
    size_bytes: int
    stored: Path


def sniff(path: Path) -> str | None:
    """The workbook kind of a file by its content: ``.xlsx``, ``.xlsm``, ``.ods``, ``.xls``."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head == OLE2:
        return ".xls"
    if not head.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIME:
                return ".ods"
            if "xl/workbook.xml" in names:
                content_types = (
                    archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
                )
                return ".xlsm" if b"macroEnabled" in content_types else ".xlsx"
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    return None


def clean_name(name: str, suffix: str) -> str:
    """The file name as sent, without folders or odd characters, with the suffix its content
    has (the loader picks its reader by suffix)."""
    base = Path(name.replace("\\", "/")).name or "workbook"
    stem = re.sub(r"[^A-Za-z0-9_.\- ]+", "_", Path(base).stem).strip(" .") or "workbook"
    return f"{stem[:120]}{suffix}"


def receive(home: Home, stream: BinaryIO, name: str, max_bytes: int) -> Received:
    """Copy ``stream`` (at most ``max_bytes``), sniff it and keep it; raise :class:`Refused`."""
    folder = portal_dir(home) / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as temporary:
        path = Path(temporary.name)
        try:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                size += len(chunk)
                if size > max_bytes:
                    raise Refused(
                        f"{name}: el archivo pasa del tamaño máximo de {max_bytes / 2**20:.0f} MiB",
                        f"{name}: the file is larger than the limit of {max_bytes / 2**20:.0f} MiB",
                        413,
                    )
                digest.update(chunk)
                temporary.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    try:
        if size == 0:
            raise Refused(f"{name}: el archivo está vacío", f"{name}: the file is empty")
        suffix = sniff(path)
        if suffix is None:
            raise Refused(
                f"{name}: no es un libro de Excel ni de OpenDocument (.xlsx, .xls, .ods); "
                "se revisa el contenido, no el nombre",
                f"{name}: not an Excel or OpenDocument workbook (.xlsx, .xls, .ods); "
                "the content is checked, not the name",
                415,
            )
        sha256 = digest.hexdigest()
        named = path.rename(path.with_suffix(suffix))
        path = named
        stored = keep(portal_dir(home), named, sha256)
        return Received(clean_name(name, suffix), sha256, size, stored)
    finally:
        path.unlink(missing_ok=True)


def staged_copy(home: Home, upload_id: int, stored: Path, file_name: str) -> Path:
    """A copy of a kept file under its name as sent (the loader reads country, source and year
    from the name too), in a folder of its own."""
    folder = portal_dir(home) / "staging" / str(upload_id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_name
    if not target.exists():
        shutil.copyfile(stored, target)
    return target
