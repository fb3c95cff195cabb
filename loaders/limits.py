"""Resource limits of the loader, and the checks that apply them before a reader allocates.

A workbook is untrusted input: a few kilobytes can declare a sheet of 17 billion cells, inflate to
gigabytes, or hold a string of a gigabyte. Every check here runs on what the file *declares* (the
zip directory, the sheet's ``<dimension>``, the cell references) while streaming through it with a
bounded buffer, before python-calamine builds anything from it. What no check can foresee (a
reader bug, a legacy ``.xls``) is bounded by the worker process's memory cap (``loaders.workers``).

Limits come from, in order: the defaults below, the ``limits:`` mapping of
``$MIGSTAT_HOME/migstat.yml``, and environment variables ``MIGSTAT_LIMIT_<FIELD>`` (for example
``MIGSTAT_LIMIT_MAX_ROWS=500000``). Every violation rejects the file with rule ``STR-LIMIT``.
"""

from __future__ import annotations

import html
import os
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NoReturn, cast

import yaml
from pydantic import Field, ValidationError

from migstat.errors import MigstatError, WorkbookRejected
from migstat.home import Home
from migstat.model import Strict
from migstat.specs import column_letter_to_index, index_to_column_letter
from migstat.translations import N_, translate

ZIP_SUFFIXES = (".xlsx", ".xlsm", ".ods")
ENV_PREFIX = "MIGSTAT_LIMIT_"
MiB = 1 << 20
CHUNK = 1 << 18
MAX_TAG_BYTES = 1 << 20
"""A single XML tag longer than this is not something a spreadsheet program writes."""
SMALL_XML_BYTES = 16 * MiB
"""workbook.xml and its relationships are read whole; they are small in every real workbook."""
RATIO_FLOOR_BYTES = MiB
"""The compression ratio is judged only for parts that inflate to more than this."""
BEYOND = {
    "uses cell": N_(
        "the sheet uses cell {ref}, beyond the limit of {rows} rows x {columns} columns ({corner})"
    ),
    "uses row": N_(
        "the sheet uses row {ref}, beyond the limit of {rows} rows x {columns} columns ({corner})"
    ),
    "declares its size as": N_(
        "the sheet declares its size as {ref}, beyond the limit of {rows} rows x {columns} "
        "columns ({corner})"
    ),
}
"""What a sheet does beyond the limits of rows and columns, by what gave it away."""


class Limits(Strict):
    """What one workbook may contain. Defaults are far above any real statistics template."""

    max_file_bytes: int = Field(50 * MiB, gt=0, description="size of the file on disk")
    max_part_bytes: int = Field(
        200 * MiB, gt=0, description="inflated size of one part of a zip-based workbook"
    )
    max_total_bytes: int = Field(
        400 * MiB, gt=0, description="inflated size of all parts of a zip-based workbook"
    )
    max_compression_ratio: float = Field(
        200.0, gt=1, description="inflated / compressed size of a part over 1 MiB"
    )
    max_rows: int = Field(200_000, gt=0, description="last row a sheet may use")
    max_columns: int = Field(2_000, gt=0, description="last column a sheet may use")
    max_cells: int = Field(
        1_000_000, gt=0, description="cells of the used rectangles of all sheets read"
    )
    max_string_chars: int = Field(
        32_767, gt=0, description="characters of one cell's text (Excel's own limit)"
    )
    worker_memory_mb: int = Field(
        480, ge=64, description="address space of the process reading one file (MiB)"
    )
    worker_seconds: float = Field(300.0, gt=0, description="time the reading of one file may take")
    workers: int = Field(0, ge=0, description="reader processes; 0 = one per core")

    @classmethod
    def from_home(cls, home: Home | None = None) -> Limits:
        """Defaults, then ``limits:`` of ``$MIGSTAT_HOME/migstat.yml``, then environment."""
        home = home or Home.from_env()
        values: dict[str, object] = {}
        config = home.root / "migstat.yml"
        if config.exists():
            try:
                document = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as error:
                raise MigstatError(f"{config} is not valid YAML: {error}") from error
            section = document.get("limits") if isinstance(document, dict) else None
            if isinstance(section, dict):
                values.update(section)
        for name in cls.model_fields:
            raw = os.environ.get(ENV_PREFIX + name.upper())
            if raw is not None and raw.strip():
                values[name] = raw.strip()
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise MigstatError(
                f"invalid loader limits (in {config} or {ENV_PREFIX}*): {error}"
            ) from error


def _rejection(
    message: str,
    file: str,
    sheet: str | None,
    cell: str | None,
    rule: str,
    values: dict[str, object],
) -> WorkbookRejected:
    return WorkbookRejected(
        message.format(**values),
        file=file,
        sheet=sheet,
        cell=cell,
        rule=rule,
        message_es=translate("es", message, **values),
    )


def rejected(
    message: str,
    file: str,
    sheet: str | None = None,
    cell: str | None = None,
    *,
    rule: str = "STR-LIMIT",
    **values: object,
) -> WorkbookRejected:
    """The rejection of a file, ``message`` an English msgid of the gettext catalogue
    (``str.format`` fields filled from ``values``); its Spanish comes from the catalogue."""
    return _rejection(message, file, sheet, cell, rule, values)


def reject(
    message: str,
    file: str,
    sheet: str | None = None,
    cell: str | None = None,
    **values: object,
) -> NoReturn:
    """Reject with ``STR-LIMIT`` (see :func:`rejected`)."""
    raise _rejection(message, file, sheet, cell, "STR-LIMIT", values)


def _mb(size: float) -> str:
    return f"{size / MiB:,.1f} MB"


def check_file_size(path: Path, limits: Limits) -> None:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        reject(
            N_("the file is {size}, over the limit of {limit}"),
            path.name,
            size=_mb(size),
            limit=_mb(limits.max_file_bytes),
        )


@dataclass(frozen=True)
class Extent:
    """The cells a sheet part uses, as found by streaming through its XML (zero-based)."""

    first_row: int
    first_column: int
    last_row: int
    last_column: int
    cells: int
    has_formulas_or_errors: bool = False
    """Some cell holds a formula or an error value (see ``ZipWorkbook.uncomputed_cells``)."""

    @property
    def area(self) -> int:
        if self.cells == 0:
            return 0
        return (self.last_row - self.first_row + 1) * (self.last_column - self.first_column + 1)


_P = rb"(?:[A-Za-z_][\w.-]*:)?"
_CELL_REF = re.compile(rb"<" + _P + rb"c\b[^>]*?\sr=[\"']([A-Z]{1,4})([0-9]{1,8})[\"']")
_CELL_FAST = re.compile(rb"<" + _P + rb"c(?=[\s>/])(?:\s+r=[\"']([A-Z]{1,4})([0-9]{1,8})[\"'])?")
_ROW_REF = re.compile(rb"<" + _P + rb"row\b[^>]*?\sr=[\"']([0-9]{1,8})[\"']")
_ROW_FAST = re.compile(rb"<" + _P + rb"row(?=[\s>/])(?:\s+r=[\"']([0-9]{1,8})[\"'])?")
_ANY_PREFIX = re.compile(rb"<[A-Za-z_][\w.-]*:")
_CELL_PLAIN = re.compile(rb"<c(?=[\s>/])(?:\s+r=[\"']([A-Z]{1,4})([0-9]{1,8})[\"'])?")
_ROW_PLAIN = re.compile(rb"<row(?=[\s>/])(?:\s+r=[\"']([0-9]{1,8})[\"'])?")
_DIMENSION = re.compile(
    rb"<" + _P + rb"dimension\b[^>]*?\sref=[\"']\$?([A-Z]{1,4})\$?([0-9]{1,8})"
    rb"(?::\$?([A-Z]{1,4})\$?([0-9]{1,8}))?[\"']"
)
_SHARED_ITEM = re.compile(
    rb"<" + _P + rb"si\b[^>]*/>|<" + _P + rb"si\b.*?</" + _P + rb"si>", re.DOTALL
)
_SHARED_START = re.compile(rb"<" + _P + rb"si\b")
_SHARED_END = re.compile(rb"</" + _P + rb"si>")
_TAG = re.compile(r"<[^>]*>")
_PHONETIC = re.compile(r"<(?:[\w.-]+:)?rPh\b.*?</(?:[\w.-]+:)?rPh>", re.DOTALL)
_CELL_VALUE = re.compile(
    rb"<" + _P + rb"c\b([^>]*?)>\s*<" + _P + rb"v>\s*([0-9]+)\s*</" + _P + rb"v>"
)
_ATTR_R = re.compile(rb"\sr=[\"']([A-Z]{1,4}[0-9]{1,8})[\"']")
_ATTR_T_SHARED = re.compile(rb"\st=[\"']s[\"']")


FORMULA_OR_ERROR_MARKS = (b"<f>", b"<f ", b":f>", b":f ", b't="e"', b"t='e'")
"""Byte patterns of a formula element or an error-typed cell in a worksheet part."""
FORMULA_OR_ERROR_HINTS = (b"<f", b":f", b'"e"', b"'e'")
"""Each mark of ``FORMULA_OR_ERROR_MARKS`` contains one of these."""


OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
"""The first bytes of an OLE compound file: a legacy .xls, or an encrypted .xlsx/.xlsm."""


def _not_a_zip(path: Path, error: Exception) -> WorkbookRejected:
    """Why a file that should be a zip (.xlsx, .xlsm, .ods) is not one."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head:
        why = N_("not a readable workbook: the file is empty (0 bytes)")
    elif head == OLE_MAGIC:
        why = N_(
            "not a readable workbook: the file is password-protected (encrypted) or a legacy "
            ".xls saved under another extension; save it without a password as .xlsx and send "
            "it again"
        )
    else:
        why = N_("not a readable workbook: the zip container is damaged ({error})")
    return rejected(why, path.name, rule="STR-READ", error=error)


def _uncomputed(cell: ET.Element) -> str | None:
    """What an error cell or a formula cell without a computed value shows, else ``None``."""
    formula = value = None
    for child in cell:
        name = child.tag.rsplit("}", 1)[-1]
        if name == "f":
            formula = (child.text or "").strip()
        elif name == "v":
            value = (child.text or "").strip()
    if cell.get("t") == "e" and value:
        return value
    if formula is not None and not value and cell.get("t") not in ("str", "inlineStr"):
        return f"={formula}" if formula else "=(formula)"
    return None


def _text_length(raw: bytes) -> int:
    text = _TAG.sub("", _PHONETIC.sub("", raw.decode("utf-8", "replace")))
    return len(html.unescape(text))


def _column_key(letters: bytes) -> tuple[int, bytes]:
    return (len(letters), letters)


AT_ONCE_BYTES = 1 << 16
"""A chunk at least this long has its cell references read with numpy, all at once."""
_SPACE_OR_END = b" \t\n\r\f\v>/"
"""What may follow ``<c`` in a cell tag (``(?=[\\s>/])`` of ``_CELL_PLAIN``)."""


def _marks_at_once(buffer: bytes) -> bool:
    """Whether a chunk holds one of ``FORMULA_OR_ERROR_MARKS``, with array operations: each
    ``f`` between ``<`` or ``:`` and ``>`` or a space, and each ``e`` written ``t="e"`` or
    ``t='e'``. Same answer as searching the six marks, in one pass over the bytes per letter
    instead of four hint and six mark searches (``bytes.__contains__`` is slow on XML, where
    ``<`` and ``"`` are everywhere)."""
    import numpy as np  # only for long chunks: a small workbook's reader never loads numpy

    size = len(buffer)
    data = np.frombuffer(bytes(4) + buffer + bytes(4), dtype=np.uint8)
    inner = data[4 : 4 + size]
    found = np.flatnonzero(inner == ord("f")) + 4
    if len(found):
        before, after = data[found - 1], data[found + 1]
        if (
            ((before == ord("<")) | (before == ord(":")))
            & ((after == ord(">")) | (after == ord(" ")))
        ).any():
            return True
    found = np.flatnonzero(inner == ord("e")) + 4
    if len(found):
        quote = data[found - 1]
        if (
            ((quote == ord('"')) | (quote == ord("'")))
            & (data[found + 1] == quote)
            & (data[found - 2] == ord("="))
            & (data[found - 3] == ord("t"))
        ).any():
            return True
    return False


def _cells_at_once(buffer: bytes) -> tuple[int, int, int, int, int] | None:
    """(cells, first row, last row, first column, last column), zero-based, of the cell tags
    of a chunk, read with array operations instead of one Python object per cell.

    Answers only when every cell tag is written the usual way, ``<c r="A1"``: exactly what
    ``_CELL_PLAIN`` then finds. ``None`` otherwise (a cell without its reference first, or with
    another quote or spacing, or out of its pattern): the caller reads the chunk by regex."""
    import numpy as np  # only for long chunks: a small workbook's reader never loads numpy

    size = len(buffer)
    data = np.frombuffer(buffer + bytes(32), dtype=np.uint8)
    opens = np.flatnonzero(data[:size] == ord("<"))
    opens = opens[data[opens + 1] == ord("c")]
    cells = opens[np.isin(data[opens + 2], np.frombuffer(_SPACE_OR_END, dtype=np.uint8))]
    if not len(cells):
        return 0, 0, 0, 0, 0
    usual = (
        (data[cells + 2] == ord(" "))
        & (data[cells + 3] == ord("r"))
        & (data[cells + 4] == ord("="))
        & (data[cells + 5] == ord('"'))
    )
    if not usual.all():
        return None
    start = cells + 6
    column = np.zeros(len(cells), dtype=np.int64)
    letters = np.zeros(len(cells), dtype=np.int64)
    running = np.ones(len(cells), dtype=bool)
    for offset in range(5):
        char = data[start + offset].astype(np.int64)
        running &= (char >= ord("A")) & (char <= ord("Z"))
        if offset == 4:
            if running.any():
                return None  # five letters: not a reference the pattern takes
            break
        column = np.where(running, column * 26 + (char - 64), column)
        letters += running
    if not letters.all():
        return None
    digits_at = start + letters
    row = np.zeros(len(cells), dtype=np.int64)
    digits = np.zeros(len(cells), dtype=np.int64)
    running = np.ones(len(cells), dtype=bool)
    for offset in range(9):
        char = data[digits_at + offset].astype(np.int64)
        running &= (char >= ord("0")) & (char <= ord("9"))
        if offset == 8:
            if running.any():
                return None  # nine digits: not a reference the pattern takes
            break
        row = np.where(running, row * 10 + (char - ord("0")), row)
        digits += running
    if not digits.all() or not (data[digits_at + digits] == ord('"')).all():
        return None
    return (
        len(cells),
        int(row.min()) - 1,
        int(row.max()) - 1,
        int(column.min()) - 1,
        int(column.max()) - 1,
    )


class ZipWorkbook:
    """The zip directory of an .xlsx/.xlsm/.ods, checked against the limits before inflating."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.name = path.name
        self.limits = limits
        try:
            with zipfile.ZipFile(path) as archive:
                self.infos = {info.filename: info for info in archive.infolist()}
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise _not_a_zip(path, error) from error
        total = 0
        for info in self.infos.values():
            size = info.file_size
            total += size
            if size > limits.max_part_bytes:
                reject(
                    N_("part {part} inflates to {size}, over the limit of {limit} per part"),
                    self.name,
                    part=info.filename,
                    size=_mb(size),
                    limit=_mb(limits.max_part_bytes),
                )
            ratio = size / max(info.compress_size, 1)
            if size > RATIO_FLOOR_BYTES and ratio > limits.max_compression_ratio:
                reject(
                    N_(
                        "part {part} is compressed {ratio} to 1 ({size} from {compressed}), over "
                        "the limit of {limit} to 1 (a decompression bomb)"
                    ),
                    self.name,
                    part=info.filename,
                    ratio=f"{ratio:,.0f}",
                    size=_mb(size),
                    compressed=_mb(info.compress_size),
                    limit=f"{limits.max_compression_ratio:,.0f}",
                )
        if total > limits.max_total_bytes:
            reject(
                N_("the workbook inflates to {size}, over the limit of {limit}"),
                self.name,
                size=_mb(total),
                limit=_mb(limits.max_total_bytes),
            )

    def stream(self, member: str) -> Iterator[bytes]:
        """The inflated bytes of ``member`` in chunks; never more than its declared size.

        The zip directory's sizes can lie: this inflates the raw stream itself and rejects a
        part that inflates beyond what it declares, before anything else reads it.
        """
        info = self.infos[member]
        declared = info.file_size
        with self.path.open("rb") as handle:
            handle.seek(info.header_offset)
            header = handle.read(30)
            if len(header) != 30 or header[:4] != b"PK\x03\x04":
                raise rejected(
                    N_("not a readable workbook: part {part} has a damaged header"),
                    self.name,
                    rule="STR-READ",
                    part=member,
                )
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            handle.seek(info.header_offset + 30 + name_length + extra_length)
            remaining = info.compress_size
            if info.compress_type == zipfile.ZIP_STORED:
                inflater = None
            elif info.compress_type == zipfile.ZIP_DEFLATED:
                inflater = zlib.decompressobj(-15)
            else:
                raise rejected(
                    N_("not a readable workbook: part {part} uses compression method {method}"),
                    self.name,
                    rule="STR-READ",
                    part=member,
                    method=info.compress_type,
                )
            produced = 0
            pending = b""
            while remaining > 0 or pending:
                if not pending:
                    raw = handle.read(min(CHUNK, remaining))
                    if not raw:
                        break
                    remaining -= len(raw)
                else:
                    raw = b""
                if inflater is None:
                    data = raw
                else:
                    try:
                        data = inflater.decompress(pending + raw, CHUNK)
                    except zlib.error as error:
                        raise rejected(
                            N_("not a readable workbook: part {part} is damaged ({error})"),
                            self.name,
                            rule="STR-READ",
                            part=member,
                            error=error,
                        ) from error
                    pending = inflater.unconsumed_tail
                produced += len(data)
                if produced > declared:
                    reject(
                        N_(
                            "part {part} inflates beyond the {size} its zip directory declares "
                            "(a disguised decompression bomb)"
                        ),
                        self.name,
                        part=member,
                        size=_mb(declared),
                    )
                if data:
                    yield data
                if inflater is not None and inflater.eof:
                    break

    def read_small(self, member: str) -> bytes:
        if self.infos[member].file_size > SMALL_XML_BYTES:
            size = _mb(self.infos[member].file_size)
            reject(N_("part {part} is {size}"), self.name, part=member, size=size)
        return b"".join(self.stream(member))

    def sheet_parts(self) -> dict[str, str]:
        """Sheet name -> worksheet part (xlsx/xlsm); empty when the workbook does not say."""
        if "xl/workbook.xml" not in self.infos:
            return {}
        try:
            workbook = ET.fromstring(self.read_small("xl/workbook.xml"))
            rels_name = "xl/_rels/workbook.xml.rels"
            rels = ET.fromstring(self.read_small(rels_name)) if rels_name in self.infos else None
        except ET.ParseError:
            return {}
        targets: dict[str, str] = {}
        if rels is not None:
            for rel in rels:
                target = rel.get("Target") or ""
                if target.startswith("/"):
                    part = target.lstrip("/")
                else:
                    part = str(PurePosixPath("xl") / target)
                parts: list[str] = []
                for piece in part.split("/"):
                    if piece == "..":
                        if parts:
                            parts.pop()
                    elif piece and piece != ".":
                        parts.append(piece)
                targets[rel.get("Id") or ""] = "/".join(parts)
        sheets: dict[str, str] = {}
        for element in workbook.iter():
            if element.tag.rsplit("}", 1)[-1] != "sheet":
                continue
            rel_id = next(
                (value for key, value in element.attrib.items() if key.endswith("}id")), None
            )
            name = element.get("name")
            if name is not None and rel_id in targets and targets[rel_id] in self.infos:
                sheets[name] = targets[rel_id]
        return sheets

    def scan_sheet(self, member: str, sheet: str) -> Extent:
        """Stream through a worksheet part and bound its extent before any reader sees it."""
        limits = self.limits
        first_row = first_column = 1 << 62
        last_row = last_column = -1
        cells = referenced_cells = rows = referenced_rows = 0
        declared_checked = False
        formulas = False
        carry = b""
        for chunk in self.stream(member):
            buffer = carry + chunk
            cut = buffer.rfind(b"<")
            if cut != -1 and buffer.find(b">", cut) == -1:
                carry = buffer[cut:]
                buffer = buffer[:cut]
                if len(carry) > MAX_TAG_BYTES:
                    reject(
                        N_("part {part} has an XML tag over 1 MB long"),
                        self.name,
                        sheet,
                        part=member,
                    )
            else:
                carry = b""
            if not declared_checked:
                found = _DIMENSION.search(buffer)
                if found is not None:
                    declared_checked = True
                    self._check_declared(sheet, found)
                elif b"<sheetData" in buffer or b":sheetData" in buffer:
                    declared_checked = True
            if not formulas and len(buffer) >= AT_ONCE_BYTES:
                formulas = _marks_at_once(buffer)
            elif not formulas:
                # Four quick looks rule out nearly every chunk before the six exact marks.
                formulas = any(hint in buffer for hint in FORMULA_OR_ERROR_HINTS) and any(
                    mark in buffer for mark in FORMULA_OR_ERROR_MARKS
                )
            # Writers put ``r`` first: one pass finds every cell and, nearly always, its reference.
            # Tags with a namespace prefix (``<x:c>``) are rare: look for them only when present.
            prefixed = _ANY_PREFIX.search(buffer) is not None
            at_once = None
            if not prefixed and len(buffer) >= AT_ONCE_BYTES:
                at_once = _cells_at_once(buffer)
            if at_once is not None and (
                not at_once[0] or (at_once[2] < limits.max_rows and at_once[4] < limits.max_columns)
            ):
                counted, top, bottom, low, high = at_once
                cells += counted
                referenced_cells += counted
                if counted:
                    first_row, last_row = min(first_row, top), max(last_row, bottom)
                    first_column, last_column = min(first_column, low), max(last_column, high)
            else:  # by regex; also when a cell lies beyond a limit, to name the first one
                refs = (_CELL_FAST if prefixed else _CELL_PLAIN).findall(buffer)
                cells += len(refs)
                if (b"", b"") in refs:
                    refs = _CELL_REF.findall(buffer)
                referenced_cells += len(refs)
                if refs:
                    all_letters, all_numbers = zip(*refs, strict=True)
                    letters = set(all_letters)
                    high = max(letters, key=_column_key)
                    low = min(letters, key=_column_key)
                    numbers = list(map(int, set(all_numbers)))  # a row's cells share one
                    top, bottom = min(numbers) - 1, max(numbers) - 1
                    first_row, last_row = min(first_row, top), max(last_row, bottom)
                    first_column = min(first_column, column_letter_to_index(low.decode()))
                    last_column = max(last_column, column_letter_to_index(high.decode()))
                    if last_row >= limits.max_rows or last_column >= limits.max_columns:
                        for letters_, number in refs:
                            self._check_position(sheet, letters_, int(number), "uses cell")
            row_refs = (_ROW_FAST if prefixed else _ROW_PLAIN).findall(buffer)
            rows += len(row_refs)
            if not all(row_refs):
                row_refs = _ROW_REF.findall(buffer)
            referenced_rows += len(row_refs)
            if row_refs:
                bottom = max(map(int, row_refs)) - 1
                last_row = max(last_row, bottom)
                if bottom >= limits.max_rows:
                    self._check_position(sheet, b"A", bottom + 1, "uses row")
            if cells > limits.max_cells:
                reject(
                    N_("the sheet has over {limit} cells (the limit)"),
                    self.name,
                    sheet,
                    limit=f"{limits.max_cells:,}",
                )
        # Cells or rows without a reference take the next position: bound them from above.
        last_column = max(last_column, -1) + (cells - referenced_cells)
        last_row = max(last_row, -1) + (rows - referenced_rows)
        if cells:
            self._check_position(
                sheet,
                index_to_column_letter(max(last_column, 0)).encode(),
                max(last_row, 0) + 1,
                "uses cell",
            )
        if not cells:
            return Extent(0, 0, -1, -1, 0)
        return Extent(
            min(first_row, last_row),
            min(first_column, last_column),
            last_row,
            last_column,
            cells,
            formulas,
        )

    def uncomputed_cells(self, member: str) -> dict[str, str]:
        """Cells a reader sees as empty although the file holds something there, by reference:
        error values (``#REF!``, ``#DIV/0!``: ``t="e"``) as written, and formulas without a
        computed value (what libraries such as openpyxl write until a spreadsheet program
        recalculates) as ``=`` and the formula. Call it on a part ``scan_sheet`` has bounded."""
        found: dict[str, str] = {}
        parser = ET.XMLPullParser(events=("end",))
        try:
            for chunk in self.stream(member):
                parser.feed(chunk)
                for event in parser.read_events():
                    # Only "end" events are asked for: each carries an element.
                    _, element = cast("tuple[str, ET.Element]", event)
                    name = element.tag.rsplit("}", 1)[-1]
                    if name == "c":
                        shown = _uncomputed(element)
                        reference = element.get("r")
                        if shown is not None and reference:
                            found[reference] = shown
                    if name in ("c", "row"):
                        element.clear()
        except ET.ParseError:
            pass  # the reader has read the part already: what it could not parse, it rejected
        return found

    def _check_declared(self, sheet: str, found: re.Match[bytes]) -> None:
        """The ``<dimension ref>`` a reader may reserve memory for, before it reads a cell."""
        letters, number = found.group(3) or found.group(1), found.group(4) or found.group(2)
        self._check_position(sheet, letters, int(number), "declares its size as")
        top, left = int(found.group(2)), column_letter_to_index(found.group(1).decode())
        bottom, right = int(number), column_letter_to_index(letters.decode())
        area = (abs(bottom - top) + 1) * (abs(right - left) + 1)
        if area > self.limits.max_cells:
            ref = found.group(0).split(b"=", 1)[1].strip(b"\"'").decode()
            reject(
                N_("the sheet declares its size as {ref}, {area} cells, over the limit of {limit}"),
                self.name,
                sheet,
                ref=ref,
                area=f"{area:,}",
                limit=f"{self.limits.max_cells:,}",
            )

    def _check_position(self, sheet: str, letters: bytes, row: int, verb: str) -> None:
        limits = self.limits
        column = column_letter_to_index(letters.decode())
        if row > limits.max_rows or column + 1 > limits.max_columns:
            ref = f"{letters.decode()}{row}"
            reject(
                BEYOND[verb],
                self.name,
                sheet,
                ref,
                ref=ref,
                rows=f"{limits.max_rows:,}",
                columns=f"{limits.max_columns:,}",
                corner=f"{index_to_column_letter(limits.max_columns - 1)}{limits.max_rows}",
            )

    def long_shared_strings(self) -> dict[int, int]:
        """Index -> length of every shared string longer than the limit (xlsx/xlsm).

        Streams with a bounded buffer: a string item whose XML grows past a dozen times the
        limit is measured as far as it goes and then skipped to its end.
        """
        member = next((name for name in self.infos if name.lower() == "xl/sharedstrings.xml"), None)
        if member is None:
            return {}
        limit = self.limits.max_string_chars
        ceiling = max(limit * 12, MiB)
        found: dict[int, int] = {}
        index = 0
        carry = b""
        skipping = False
        for chunk in self.stream(member):
            buffer = carry + chunk
            position = 0
            while True:
                if skipping:
                    closing = _SHARED_END.search(buffer, position)
                    if closing is None:
                        carry = buffer[-16:]
                        break
                    skipping = False
                    index += 1
                    position = closing.end()
                    continue
                match = _SHARED_ITEM.search(buffer, position)
                if match is not None:
                    raw = match.group(0)
                    if len(raw) > limit:
                        length = _text_length(raw)
                        if length > limit:
                            found[index] = length
                    index += 1
                    position = match.end()
                    continue
                opening = _SHARED_START.search(buffer, position)
                rest = buffer[opening.start() :] if opening else buffer[-16:]
                if opening is not None and len(rest) > ceiling:
                    found[index] = max(_text_length(rest), limit + 1)
                    skipping = True
                    position = opening.end()
                    continue
                carry = rest
                break
        return found

    def cells_with_shared_strings(
        self, member: str, indices: set[int]
    ) -> Iterator[tuple[str, int]]:
        """(cell, index) of the cells of a worksheet part that show one of ``indices``."""
        carry = b""
        for chunk in self.stream(member):
            buffer = carry + chunk
            end = 0
            for match in _CELL_VALUE.finditer(buffer):
                end = match.end()
                attributes, value = match.group(1), int(match.group(2))
                if value in indices and _ATTR_T_SHARED.search(attributes):
                    ref = _ATTR_R.search(attributes)
                    yield (ref.group(1).decode() if ref else "?"), value
            cut = buffer.rfind(b"<c", end)
            carry = buffer[max(cut, end) :] if cut != -1 else b""
            if len(carry) > MAX_TAG_BYTES:
                carry = carry[-MAX_TAG_BYTES:]
