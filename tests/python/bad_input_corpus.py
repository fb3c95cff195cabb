"""The bad-input corpus: more than 50 kinds of bad workbook, each built by the tests.

Each kind is a row of ``KINDS``: how to build its file(s) (the last file is the one judged; files
before it are loaded first, in order), the verdict it must get, the rule that must name it and
the sheet and cell the message must point at. Nothing binary is committed: the hostile files are
written byte by byte (``limits_corpus``), the others are the standardized templates filled with
the sample numbers (``migstat.workbooks.samples``) and then damaged with openpyxl or by rewriting
one part of the zip.

Kinds meant to be published use keys (country, source, year) of their own, outside the sample
years, so that the published data of every other submission can be compared with the baseline.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
from limits_corpus import (
    decompression_bomb,
    far_cell,
    long_shared_string,
    oversized_file,
    repeated_cells_ods,
    rewrite_part,
    shared_strings_bomb,
)
from openpyxl.workbook.workbook import Workbook

from migstat.specs import Specs, load_specs
from migstat.workbooks.samples import SampleMaker, Submission, clean_submission, write_submission

LAST_YEAR = 2024
SAMPLE_SEED = 0

REJECTED = "rejected"
QUARANTINED = "quarantined"
WARNED = "accepted with warnings"
ACCEPTED = "accepted"
DUPLICATE = "duplicate"
SUPERSEDED = "superseded"

# Parts of a template written by openpyxl: the sheets in the order they were created.
METADATA_PART = "xl/worksheets/sheet2.xml"
BY_COUNTRY_PART = "xl/worksheets/sheet3.xml"


@dataclass
class Corpus:
    """Where the kinds write their files, and what they build them from."""

    folder: Path
    baseline_inbox: Path
    specs: Specs = field(default_factory=load_specs)

    def __post_init__(self) -> None:
        self.maker = SampleMaker(SAMPLE_SEED, self.specs)
        self.folder.mkdir(parents=True, exist_ok=True)

    def submission(self, country: str, source: str, year: int) -> Submission:
        return clean_submission(self.maker, source, country, year, LAST_YEAR)

    def write(self, submission: Submission, name: str) -> Path:
        return write_submission(submission, self.folder / name, self.specs)

    def clean(self, country: str, source: str, year: int, name: str) -> Path:
        return self.write(self.submission(country, source, year), name)

    def edited(
        self,
        country: str,
        source: str,
        year: int,
        name: str,
        change: Callable[[Workbook], None],
        *,
        version: int = 1,
    ) -> Path:
        """A clean workbook of (country, source, year), changed with openpyxl and saved."""
        submission = self.submission(country, source, year)
        submission.version = version
        path = self.write(submission, name)
        book = openpyxl.load_workbook(path)
        change(book)
        book.save(path)
        return path


def set_cells(sheet: str, **cells: object) -> Callable[[Workbook], None]:
    def change(book: Workbook) -> None:
        for ref, value in cells.items():
            book[sheet][ref] = value

    return change


def chain(*changes: Callable[[Workbook], None]) -> Callable[[Workbook], None]:
    def change(book: Workbook) -> None:
        for each in changes:
            each(book)

    return change


# ------------------------------------------------------------------ whole-file damage


def renamed_copy(corpus: Corpus, name: str) -> Path:
    """A clean workbook saved under ``name`` (any extension, or none)."""
    clean = corpus.clean("GTM", "returns", 2023, "tmp_renamed.xlsx")
    return clean.rename(corpus.folder / name)


def empty_file(corpus: Corpus) -> Path:
    path = corpus.folder / "GTM_returns_2023_empty.xlsx"
    path.write_bytes(b"")
    return path


def truncated(corpus: Corpus) -> Path:
    clean = corpus.clean("GTM", "returns", 2023, "tmp_truncated.xlsx")
    data = clean.read_bytes()
    clean.unlink()
    path = corpus.folder / "GTM_returns_2023_truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


def corrupt_part(corpus: Corpus) -> Path:
    """A zip whose directory is intact but whose sheet data is overwritten with garbage."""
    path = corpus.clean("GTM", "returns", 2023, "GTM_returns_2023_corrupt.xlsx")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(BY_COUNTRY_PART)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(start, start + min(info.compress_size, 400)):
        data[offset] = 0x5A
    path.write_bytes(bytes(data))
    return path


def html_page(corpus: Corpus) -> Path:
    """An HTML page saved as .xls, as some web portals export "Excel" tables."""
    path = corpus.folder / "GTM_returns_2023_portal.xls"
    path.write_text(
        "<html><body><table><tr><td>País</td><td>Total</td></tr>"
        "<tr><td>México</td><td>12</td></tr></table></body></html>",
        encoding="utf-8",
    )
    return path


def encrypted(corpus: Corpus) -> Path:
    """What Excel writes for a password-protected .xlsx: an OLE compound file (not a zip)
    holding ``EncryptionInfo`` and ``EncryptedPackage`` streams."""
    header = bytearray(512)
    header[:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    header[24:26] = (0x3E).to_bytes(2, "little")  # minor version
    header[26:28] = (0x03).to_bytes(2, "little")  # major version 3 (512-byte sectors)
    header[28:30] = (0xFFFE).to_bytes(2, "little")  # little-endian
    header[30:32] = (9).to_bytes(2, "little")  # sector shift
    names = "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le")
    path = corpus.folder / "GTM_returns_2023_password.xlsx"
    path.write_bytes(bytes(header) + names + bytes(4096))
    return path


VBA_CONTENT_TYPE = b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'


def macro_enabled(corpus: Corpus) -> Path:
    """A clean .xlsm with a VBA project part (macros are never run: the numbers are read)."""
    source = corpus.clean("GTM", "returns", 2019, "tmp_macro.xlsx")
    path = corpus.folder / "GTM_returns_2019.xlsm"
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(path, "w") as after:
        for info in before.infolist():
            data = before.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"<Default ", VBA_CONTENT_TYPE + b"<Default ", 1)
                data = data.replace(
                    b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
                )
            after.writestr(info, data, zipfile.ZIP_DEFLATED)
        after.writestr("xl/vbaProject.bin", b'\xd0\xcf\x11\xe0Attribute VB_Name = "Auto_Open"')
    source.unlink()
    return path


BILLION_LAUGHS = (
    b'<!DOCTYPE workbook [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">'
    b'<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">'
    b'<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"><!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">]>'
)


def entity_expansion(corpus: Corpus) -> Path:
    """A "billion laughs" entity declaration in xl/workbook.xml, used in a sheet name."""
    path = corpus.clean("GTM", "returns", 2023, "GTM_returns_2023_laughs.xlsx")
    rewrite_part(path, "xl/workbook.xml", b"<workbook ", BILLION_LAUGHS + b"<workbook ")
    return rewrite_part(path, "xl/workbook.xml", b'name="Instrucciones"', b'name="&i;"')


def external_entity(corpus: Corpus) -> Path:
    """An external entity (``file:///etc/passwd``) used as the metadata's country."""
    path = corpus.clean("GTM", "returns", 2023, "GTM_returns_2023_xxe.xlsx")
    rewrite_part(
        path,
        METADATA_PART,
        b"<worksheet ",
        b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]><worksheet ',
    )
    return rewrite_part(path, METADATA_PART, b"<t>GTM</t>", b"<t>&x;</t>")


# ------------------------------------------------------------------ sheets, headers, columns


def delete_sheet(name: str) -> Callable[[Workbook], None]:
    def change(book: Workbook) -> None:
        del book[name]

    return change


def rename_sheet(old: str, new: str) -> Callable[[Workbook], None]:
    def change(book: Workbook) -> None:
        book[old].title = new

    return change


def insert_rows(sheet: str, before: int, count: int = 1) -> Callable[[Workbook], None]:
    def change(book: Workbook) -> None:
        book[sheet].insert_rows(before, count)

    return change


def insert_column(sheet: str, before: int, header: str) -> Callable[[Workbook], None]:
    """A column inserted into the table, with its own header and a note in each row."""

    def change(book: Workbook) -> None:
        ws = book[sheet]
        ws.insert_cols(before)
        ws.cell(row=5, column=before, value=header)
        for row in range(6, ws.max_row + 1):
            if ws.cell(row=row, column=1).value:
                ws.cell(row=row, column=before, value="ver nota")

    return change


def merge(sheet: str, cells: str) -> Callable[[Workbook], None]:
    def change(book: Workbook) -> None:
        book[sheet].merge_cells(cells)

    return change


def hide_rows(sheet: str, *rows: int) -> Callable[[Workbook], None]:
    def change(book: Workbook) -> None:
        for row in rows:
            book[sheet].row_dimensions[row].hidden = True

    return change


def numbers_as_text(sheet: str, separator: str, prefix: str = "") -> Callable[[Workbook], None]:
    """Every number of a sheet typed as text with a thousands separator ("1\u00a0234"), after
    ``prefix`` (an apostrophe kept in the text: "'1234")."""

    def change(book: Workbook) -> None:
        for row in book[sheet].iter_rows(min_row=6, min_col=2):
            for cell in row:
                if isinstance(cell.value, int):
                    cell.value = prefix + f"{cell.value:,}".replace(",", separator)

    return change


def year_in_a_date_cell(year: int) -> datetime:
    """What a year typed into a cell formatted as a date holds: the date of serial ``year``."""
    return datetime(1899, 12, 30) + timedelta(days=year)


def formulas_for_totals(book: Workbook) -> None:
    """The Total column of POR_MES_SEXO as formulas, as openpyxl writes them: no cached value
    until a spreadsheet program recalculates."""
    ws = book["POR_MES_SEXO"]
    for row in range(6, 19):
        ws.cell(row=row, column=2, value=f"=SUM(C{row}:D{row})")


def ref_error(corpus: Corpus) -> Path:
    """``#REF!`` in a total cell (a cached error value, as Excel stores a broken formula)."""
    path = corpus.clean("GTM", "returns", 2023, "GTM_returns_2023_ref.xlsx")
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet4.xml").decode()
    start = sheet.index('<c r="B18"')
    end = sheet.index("</c>", start) + len("</c>")
    style = (
        sheet[start:end].split(' s="', 1)[1].split('"', 1)[0] if ' s="' in sheet[start:end] else "0"
    )
    broken = f'<c r="B18" s="{style}" t="e"><f>SUM(#REF!)</f><v>#REF!</v></c>'
    return rewrite_part(
        path, "xl/worksheets/sheet4.xml", sheet[start:end].encode(), broken.encode()
    )


def unicode_labels(book: Workbook) -> None:
    """Labels as copied from web pages and PDFs: zero-width spaces, non-breaking spaces,
    decomposed accents, full-width letters, a byte-order mark."""
    ws = book["POR_PAIS"]
    ws["A6"] = "Estados\u00a0Unidos\u200b"
    ws["A7"] = "Me\u0301xico"
    ws["A9"] = "\ufeffＣａｎａｄá"
    ws["A10"] = "  ESPAÑA  "


def others_row(book: Workbook, label: str) -> None:
    """``label`` written in an extra row of POR_PAIS with numbers: a label that is no code."""
    ws = book["POR_PAIS"]
    ws["A17"] = label
    for column in range(2, 15):
        ws.cell(row=17, column=column, value=0)


def label(text: str) -> Callable[[Workbook], None]:
    """``text`` as the label of an extra row of POR_PAIS, typed as text (even when it begins
    with ``=``: what an office pasting a cell as text sends), with zeros in its cells."""

    def change(book: Workbook) -> None:
        others_row(book, text)
        book["POR_PAIS"]["A17"].data_type = "s"

    return change


# ------------------------------------------------------------------ versions and resubmissions


def version_pair(corpus: Corpus) -> list[Path]:
    """Panama returns 2020: version 2 (dated March) received first, then version 1 (January)."""
    newer = corpus.submission("PAN", "returns", 2020)
    newer.version, newer.submitted_on = 2, date(2021, 3, 1)
    older = corpus.submission("PAN", "returns", 2020)
    older.version, older.submitted_on = 1, date(2021, 1, 15)
    return [
        corpus.write(newer, "PAN_returns_2020_v2.xlsx"),
        corpus.write(older, "PAN_returns_2020_v1.xlsx"),
    ]


def into_others(corpus: Corpus) -> Path:
    """A version 2 of SLV returns 2023 with every country's numbers moved into "Otros"."""
    submission = corpus.submission("SLV", "returns", 2023)
    moved: dict = {}
    for (country, month), value in submission.values["POR_PAIS"].items():
        number = value if isinstance(value, int) else 0
        if country == "_T":
            moved[(country, month)] = value
            continue
        moved[("OTH", month)] = moved.get(("OTH", month), 0) + number
        if country != "OTH":
            moved[(country, month)] = 0
    submission.values = {**submission.values, "POR_PAIS": moved}
    submission.version = 2
    return corpus.write(submission, "SLV_returns_2023_v2.xlsx")


def revised_up(corpus: Corpus) -> Path:
    """A version 2 of NIC returns 2023 with every number doubled (consistent, but revised)."""
    submission = corpus.submission("NIC", "returns", 2023)
    submission.values = {
        sheet: {key: value * 2 if isinstance(value, int) else value for key, value in cells.items()}
        for sheet, cells in submission.values.items()
    }
    submission.version = 2
    return corpus.write(submission, "NIC_returns_2023_v2.xlsx")


def same_file_again(corpus: Corpus) -> Path:
    return corpus.baseline_inbox / "CRI_returns_2023.xlsx"


def same_content_renamed(corpus: Corpus) -> Path:
    path = corpus.folder / "CRI_returns_2023_copia.xlsx"
    shutil.copyfile(corpus.baseline_inbox / "CRI_returns_2023.xlsx", path)
    return path


# ------------------------------------------------------------------ the table


@dataclass(frozen=True)
class Kind:
    name: str
    build: Callable[[Corpus], Path | list[Path]]
    verdict: str
    rule: str | None
    sheet: str | None = None
    cell: str | None = None
    words: str = ""
    """Words the message must hold (for rejections without a sheet: the reason)."""

    def files(self, corpus: Corpus) -> list[Path]:
        built = self.build(corpus)
        return built if isinstance(built, list) else [built]


def edit(
    country: str,
    source: str,
    year: int,
    name: str,
    change: Callable[[Workbook], None],
    version: int = 1,
) -> Callable[[Corpus], Path]:
    return lambda corpus: corpus.edited(country, source, year, name, change, version=version)


def clean(country: str, source: str, year: int, name: str) -> Callable[[Corpus], Path]:
    return lambda corpus: corpus.clean(country, source, year, name)


RET = ("GTM", "returns", 2023)
"""Most damage is done to Guatemala's returns of 2023 (a key the baseline publishes: a
quarantined resubmission must leave the published version as it was)."""


def ret(name: str, change: Callable[[Workbook], None]) -> Callable[[Corpus], Path]:
    return edit(*RET, f"GTM_returns_2023_{name}.xlsx", change)


KINDS: list[Kind] = [
    # --- the file itself
    Kind(
        "wrong extension (.csv)",
        lambda c: renamed_copy(c, "GTM_returns_2023.csv"),
        REJECTED,
        "STR-READ",
        words="unsupported file type '.csv'",
    ),
    Kind(
        "missing extension",
        lambda c: renamed_copy(c, "GTM_returns_2023"),
        REJECTED,
        "STR-READ",
        words="unsupported file type ''",
    ),
    Kind(
        ".xlsx content named .xls",
        lambda c: renamed_copy(c, "GTM_returns_2023_ext.xls"),
        REJECTED,
        "STR-READ",
    ),
    Kind("empty file (0 bytes)", empty_file, REJECTED, "STR-READ", words="the file is empty"),
    Kind("truncated zip", truncated, REJECTED, "STR-READ", words="zip container is damaged"),
    Kind("corrupt zip (garbage in a part)", corrupt_part, REJECTED, "STR-READ"),
    Kind("HTML page saved as .xls", html_page, REJECTED, "STR-READ"),
    Kind(
        "encrypted (password-protected)",
        encrypted,
        REJECTED,
        "STR-READ",
        words="password-protected",
    ),
    Kind("macro-enabled .xlsm with a VBA project", macro_enabled, ACCEPTED, None),
    Kind("entity expansion (billion laughs)", entity_expansion, REJECTED, "STR-READ"),
    Kind(
        "external entity (file:///etc/passwd)",
        external_entity,
        REJECTED,
        "STR-READ",
        "Metadatos",
        words="unrecognized entity",
    ),
    Kind(
        "decompression bomb (300 MB of zeros)",
        lambda c: decompression_bomb(c.folder / "GTM_returns_2023_bomb.xlsx"),
        REJECTED,
        "STR-LIMIT",
    ),
    Kind(
        "shared-string bomb (one 100 MB string)",
        lambda c: shared_strings_bomb(c.folder / "GTM_returns_2023_sst.xlsx"),
        REJECTED,
        "STR-LIMIT",
    ),
    Kind(
        "shared string over 32,767 characters",
        lambda c: long_shared_string(c.folder / "GTM_returns_2023_long.xlsx"),
        REJECTED,
        "STR-LIMIT",
        "Metadatos",
        "C7",
    ),
    Kind(
        "one cell at XFD1048576",
        lambda c: far_cell(c.folder / "GTM_returns_2023_xfd.xlsx"),
        REJECTED,
        "STR-LIMIT",
        "Metadatos",
        "XFD1048576",
    ),
    Kind(
        "dimension declared A1:XFD1048576",
        lambda c: far_cell(c.folder / "GTM_returns_2023_dim.xlsx", "A1:XFD1048576"),
        REJECTED,
        "STR-LIMIT",
        "Metadatos",
        "XFD1048576",
    ),
    Kind(
        "file over the size limit (51 MB)",
        lambda c: oversized_file(c.folder / "GTM_returns_2023_big.xlsx"),
        REJECTED,
        "STR-LIMIT",
    ),
    Kind(
        ".ods of 1 KB repeating a cell 99 million times",
        lambda c: repeated_cells_ods(c.folder / "GTM_returns_2023_rep.ods"),
        REJECTED,
        "STR-LIMIT",
    ),
    # --- sheets and layout
    Kind(
        "Metadatos sheet deleted", ret("nometa", delete_sheet("Metadatos")), REJECTED, "STR-LAYOUT"
    ),
    Kind(
        "template id changed",
        ret("tpl", set_cells("Metadatos", B9="mi_plantilla")),
        REJECTED,
        "STR-LAYOUT",
    ),
    Kind(
        "required sheet missing",
        ret("nosheet", delete_sheet("POR_MES_SEXO")),
        QUARANTINED,
        "STR-001",
        "POR_MES_SEXO",
    ),
    Kind(
        "required sheet renamed",
        ret("rensheet", rename_sheet("POR_EDAD_SEXO", "Edad y sexo")),
        QUARANTINED,
        "STR-001",
        "POR_EDAD_SEXO",
    ),
    Kind(
        "headers shifted down a row",
        ret("shift", insert_rows("POR_MES_SEXO", 5)),
        REJECTED,
        "STR-HEADER",
        "POR_MES_SEXO",
        "B5",
    ),
    Kind(
        "header renamed (Hombres -> Grupo 1)",
        ret("renhead", set_cells("POR_MES_SEXO", C5="Grupo 1")),
        QUARANTINED,
        "COD-001",
        "POR_MES_SEXO",
        "C5",
    ),
    Kind(
        "header wiped",
        ret("nohead", set_cells("POR_EDAD_SEXO", B5=None, C5=None, D5=None)),
        REJECTED,
        "STR-HEADER",
        "POR_EDAD_SEXO",
        "B5",
    ),
    Kind(
        "column inserted (Notas)",
        ret("inscol", insert_column("POR_MES_SEXO", 3, "Notas")),
        QUARANTINED,
        "COD-001",
        "POR_MES_SEXO",
        "C5",
    ),
    Kind(
        "year is text in the metadata",
        ret("yeartext", set_cells("Metadatos", B6="dos mil veintitrés")),
        REJECTED,
        "STR-META",
        "Metadatos",
        "B6",
    ),
    Kind(
        "month 13 in the metadata",
        ret("month13", set_cells("Metadatos", B8=13)),
        REJECTED,
        "STR-META",
        "Metadatos",
        "B8",
    ),
    # --- cells
    Kind(
        "merged cells over data",
        ret("merged", merge("POR_MES_SEXO", "C8:D8")),
        QUARANTINED,
        "ADD-001",
        "POR_MES_SEXO",
        "B8",
    ),
    Kind(
        "hidden rows",
        edit("GTM", "returns", 2020, "GTM_returns_2020.xlsx", hide_rows("POR_PAIS", 7, 8)),
        ACCEPTED,
        None,
    ),
    # --- as offices type them (the hostile-table sweep: each was a false alarm before)
    Kind(
        "year typed '2018 (p)' in the metadata",
        edit(
            "SLV", "returns", 2018, "SLV_returns_2018.xlsx", set_cells("Metadatos", B6="2018 (p)")
        ),
        ACCEPTED,
        None,
    ),
    Kind(
        "year typed into a cell formatted as a date",
        edit(
            "DOM",
            "returns",
            2018,
            "DOM_returns_2018.xlsx",
            set_cells("Metadatos", B6=year_in_a_date_cell(2018)),
        ),
        ACCEPTED,
        None,
    ),
    Kind(
        "month names instead of numbers in the metadata",
        edit(
            "BLZ",
            "returns",
            2018,
            "BLZ_returns_2018.xlsx",
            set_cells("Metadatos", B7="Enero", B8="DIC."),
        ),
        ACCEPTED,
        None,
    ),
    Kind(
        "sheet name with a trailing space",
        edit(
            "CRI", "returns", 2018, "CRI_returns_2018.xlsx", rename_sheet("POR_PAIS", "POR_PAIS ")
        ),
        ACCEPTED,
        None,
    ),
    Kind(
        "numbers typed as text with no-break-space thousands",
        edit(
            "MEX", "returns", 2018, "MEX_returns_2018.xlsx", numbers_as_text("POR_PAIS", "\u00a0")
        ),
        ACCEPTED,
        None,
    ),
    Kind(
        "'s/d' typed in a cell (not available)",
        edit("SLV", "returns", 2017, "SLV_returns_2017.xlsx", set_cells("POR_MES_SEXO", C9="s/d")),
        WARNED,
        "VAL-004",
        "POR_MES_SEXO",
        "C9",
    ),
    Kind(
        "grand total left blank over numbers",
        edit("NIC", "returns", 2017, "NIC_returns_2017.xlsx", set_cells("POR_MES_SEXO", B18=None)),
        WARNED,
        "ADD-004",
        "POR_MES_SEXO",
        "B18",
    ),
    Kind(
        "formulas without cached values in totals",
        ret("formulas", formulas_for_totals),
        QUARANTINED,
        "VAL-003",
        "POR_MES_SEXO",
        "B6",
    ),
    Kind("#REF! error in a total", ref_error, QUARANTINED, "VAL-003", "POR_MES_SEXO", "B18"),
    Kind(
        "date in a number cell",
        ret("date", set_cells("POR_MES_SEXO", C9=datetime(2023, 4, 1))),
        QUARANTINED,
        "VAL-003",
        "POR_MES_SEXO",
        "C9",
    ),
    Kind(
        "text in a number cell",
        ret("text", set_cells("POR_MES_SEXO", D10="12o")),
        QUARANTINED,
        "VAL-003",
        "POR_MES_SEXO",
        "D10",
    ),
    Kind(
        "negative count",
        ret("negative", set_cells("POR_MES_SEXO", D11=-5)),
        QUARANTINED,
        "VAL-001",
        "POR_MES_SEXO",
        "D11",
    ),
    Kind(
        "fractional count",
        ret("fraction", set_cells("POR_MES_SEXO", D12=10.5)),
        QUARANTINED,
        "VAL-002",
        "POR_MES_SEXO",
        "D12",
    ),
    Kind(
        "1e19 (a pasted 20-digit id)",
        ret("1e19", set_cells("POR_PAIS", C6=10**19)),
        QUARANTINED,
        "VAL-006",
        "POR_PAIS",
        "C6",
    ),
    Kind(
        "1e15 in a cell",
        ret("1e15", set_cells("POR_PAIS", D6=10**15)),
        QUARANTINED,
        "VAL-005",
        "POR_PAIS",
        "D6",
    ),
    Kind(
        "stray value far down (row 30000)",
        ret("stray", set_cells("POR_PAIS", C30000=5)),
        QUARANTINED,
        "STR-009",
        "POR_PAIS",
        "A30000",
    ),
    Kind(
        "total off by 1,000",
        ret("totaloff", set_cells("POR_MES_SEXO", B18=999_999)),
        QUARANTINED,
        "ADD-001",
        "POR_MES_SEXO",
        "B18",
    ),
    Kind(
        "month left blank",
        ret("blankmonth", set_cells("POR_MES_SEXO", B11=None, C11=None, D11=None)),
        QUARANTINED,
        "CMP-001",
        "POR_MES_SEXO",
        "B11",
    ),
    # --- labels and codes
    Kind(
        "duplicate code",
        ret("dup", set_cells("POR_PAIS", A8="México")),
        QUARANTINED,
        "STR-004",
        "POR_PAIS",
        "A8",
    ),
    Kind(
        "unknown code (Wakanda)",
        ret("wakanda", label("Wakanda")),
        QUARANTINED,
        "COD-001",
        "POR_PAIS",
        "A17",
    ),
    Kind(
        "odd Unicode in labels (NBSP, zero-width, decomposed, full-width)",
        edit("HND", "returns", 2020, "HND_returns_2020.xlsx", unicode_labels),
        ACCEPTED,
        None,
    ),
    Kind(
        "control characters in a label",
        ret("rtl", label("\u202eocixéM\t\u200f")),
        QUARANTINED,
        "COD-001",
        "POR_PAIS",
        "A17",
    ),
    Kind(
        "label beginning with =",
        ret("eq", label('=HYPERLINK("http://x.example/","México")')),
        QUARANTINED,
        "COD-001",
        "POR_PAIS",
        "A17",
    ),
    Kind(
        "label beginning with +",
        ret("plus", label("+Wakanda")),
        QUARANTINED,
        "COD-001",
        "POR_PAIS",
        "A17",
    ),
    Kind(
        "label beginning with -",
        ret("minus", label("-2+3+cmd|' /C calc'!A0")),
        QUARANTINED,
        "COD-001",
        "POR_PAIS",
        "A17",
    ),
    Kind(
        "label beginning with @",
        ret("at", label("@SUM(1+1)*cmd|' /C calc'!A0")),
        QUARANTINED,
        "COD-001",
        "POR_PAIS",
        "A17",
    ),
    Kind(
        "HTML in a label",
        ret("html", label('<script>alert("x")</script><img src=x onerror=alert(1)>')),
        QUARANTINED,
        "COD-001",
        "POR_PAIS",
        "A17",
    ),
    Kind(
        "HTML in the file name",
        clean("NIC", "returns", 2020, 'NIC_returns_2020_<b onmouseover="alert(1)">x</b>.xlsx'),
        ACCEPTED,
        None,
    ),
    # --- the second sweep of real tables (each was a false alarm or a misread before); the
    # accepted ones use 2005, a year with no published history within PLA-002's window
    Kind(
        "reporting country written by name in the metadata",
        edit(
            "GTM", "returns", 2005, "GTM_returns_2005.xlsx", set_cells("Metadatos", B3="Guatemala")
        ),
        ACCEPTED,
        None,
    ),
    Kind(
        "reporting country name with a typo",
        ret("countrytypo", set_cells("Metadatos", B3="Guatemla")),
        REJECTED,
        "COD-003",
        "Metadatos",
        "B3",
        words="closest codes: GTM Guatemala",
    ),
    Kind(
        "numbers kept as text by a leading apostrophe",
        edit(
            "HND", "returns", 2005, "HND_returns_2005.xlsx", numbers_as_text("POR_PAIS", "'", "'")
        ),
        ACCEPTED,
        None,
    ),
    # --- metadata and file name
    Kind(
        "wrong metadata country (HND workbook as CRI)",
        edit(
            "HND",
            "entries_exits",
            2023,
            "CRI_entries_exits_2023_hnd.xlsx",
            set_cells("Metadatos", B3="CRI"),
        ),
        QUARANTINED,
        "COD-001",
        "ENTRADAS_PUERTO",
    ),
    Kind(
        "country XYZ",
        edit("CRI", "returns", 2022, "XYZ_returns_2022.xlsx", set_cells("Metadatos", B3="XYZ")),
        QUARANTINED,
        "STR-005",
        "Metadatos",
        "B3",
    ),
    Kind(
        "future year (2031)",
        clean("CRI", "asylum", 2031, "CRI_asylum_2031.xlsx"),
        QUARANTINED,
        "STR-006",
        "Metadatos",
        "B6",
    ),
    Kind(
        "file name names another country",
        edit("GTM", "returns", 2023, "HND_returns_2023_gtm.xlsx", lambda book: None),
        QUARANTINED,
        "STR-002",
        "Metadatos",
        "B3",
    ),
    Kind(
        "file name names another year",
        edit("GTM", "returns", 2023, "GTM_returns_2022_year.xlsx", lambda book: None),
        QUARANTINED,
        "STR-003",
        "Metadatos",
        "B6",
    ),
    Kind(
        "file name names another source",
        edit("GTM", "returns", 2023, "GTM_asylum_2023_source.xlsx", lambda book: None),
        QUARANTINED,
        "STR-007",
        "Metadatos",
        "B5",
    ),
    # --- versions
    Kind("same file twice", same_file_again, DUPLICATE, None),
    Kind("same content under another name", same_content_renamed, DUPLICATE, None),
    Kind("older version received after a newer one", version_pair, SUPERSEDED, None),
    Kind("worse resubmission: everything into Otros", into_others, WARNED, "REV-002", "POR_PAIS"),
    Kind("resubmission revising every number (x2)", revised_up, WARNED, "REV-001"),
]
