"""Hostile workbooks for the loader's limits, built byte by byte by the tests (nothing shipped).

Minimal .xlsx files are written by hand (zipfile + XML strings) so that a test controls exactly
what the zip directory, the sheet's ``<dimension>`` and the cell references say.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

from migstat.specs import load_specs
from migstat.workbooks.template import sheet_grid, write_template

SPECS = load_specs()
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)


def sheet_xml(rows: str, dimension: str = "A1") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<worksheet xmlns="{MAIN_NS}"><dimension ref="{dimension}"/>'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )


def minimal_xlsx(
    path: Path,
    sheet: str | Iterable[bytes],
    shared_strings: str | Iterable[bytes] | None = None,
    sheet_name: str = "Metadatos",
) -> Path:
    """A one-sheet .xlsx; a part given as an iterable of chunks is streamed in. The sheet is
    called Metadatos by default: the loader reads that sheet of every file to detect its layout.
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK.replace("{name}", sheet_name))
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        parts = {"xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": shared_strings}
        for name, content in parts.items():
            if content is None:
                content = f'<sst xmlns="{MAIN_NS}" count="0" uniqueCount="0"/>'
            if isinstance(content, str):
                archive.writestr(name, content)
                continue
            with archive.open(name, "w", force_zip64=True) as stream:
                for chunk in content:
                    stream.write(chunk)
    return path


def filled_template(folder: Path, name: str = "GTM_returns_2023.xlsx", year: int = 2023) -> Path:
    """A valid returns workbook of Guatemala, every data cell 7."""
    folder.mkdir(parents=True, exist_ok=True)
    source = SPECS.source("returns")
    country = SPECS.country("GTM")
    values = {}
    for sheet in SPECS.template_layout("returns").sheets:
        grid = sheet_grid(sheet, source, country)
        values[sheet.name] = {(row, *column): 7 for row in grid.rows for column in grid.columns}
    return write_template("returns", "GTM", year, folder / name, values)


def decompression_bomb(path: Path, megabytes: int = 300) -> Path:
    """A sheet of ``megabytes`` MB of zeros inside one cell: about 0.3 MB zipped."""
    block = b"0" * (1 << 20)

    def chunks() -> Iterable[bytes]:
        yield (
            f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><dimension ref="A1"/>'
            '<sheetData><row r="1"><c r="A1"><v>'
        ).encode()
        for _ in range(megabytes):
            yield block
        yield b"</v></c></row></sheetData></worksheet>"

    return minimal_xlsx(path, chunks())


def shared_strings_bomb(path: Path, megabytes: int = 100) -> Path:
    """One shared string of ``megabytes`` MB, shown by a cell: about 0.1 MB zipped."""
    block = b"A" * (1 << 20)

    def chunks() -> Iterable[bytes]:
        yield f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>'.encode()
        for _ in range(megabytes):
            yield block
        yield b"</t></si></sst>"

    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    return minimal_xlsx(path, sheet_xml(rows), chunks())


def long_shared_string(path: Path, characters: int = 40_000) -> Path:
    """A shared string just over Excel's 32,767 characters, shown in cell C7."""
    strings = (
        f'<sst xmlns="{MAIN_NS}" count="2" uniqueCount="2"><si><t>Nota</t></si>'
        f"<si><t>{'x' * characters}</t></si></sst>"
    )
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        '<row r="7"><c r="B7"><v>1</v></c><c r="C7" t="s"><v>1</v></c></row>'
    )
    return minimal_xlsx(path, sheet_xml(rows, "A1:C7"), strings)


def far_cell(path: Path, dimension: str = "A1:B2") -> Path:
    """Two cells, A1 and XFD1048576 (the last cell of a sheet), under a small dimension."""
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>'
    )
    return minimal_xlsx(path, sheet_xml(rows, dimension))


def rewrite_part(path: Path, member: str, old: bytes, new: bytes) -> Path:
    """Replace ``old`` by ``new`` (once) in one part of a zip, keeping every other part."""
    with zipfile.ZipFile(path) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts:
            if info.filename == member:
                assert old in data, (member, old)
                data = data.replace(old, new, 1)
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return path


def giant_text_cell(folder: Path, name: str, characters: int = 40_000) -> Path:
    """A valid template whose label cell A8 of sheet POR_MES_SEXO (the month "Marzo", written
    inline in the sheet) holds a text over Excel's limit (openpyxl would cut it: written by hand).
    """
    path = filled_template(folder, name, 2021)
    return rewrite_part(
        path,
        "xl/worksheets/sheet4.xml",
        b"<t>Marzo</t>",
        b"<t>Marzo " + b"z" * characters + b"</t>",
    )


def truncated_zip(folder: Path, name: str) -> Path:
    """A valid template cut in half (a broken upload)."""
    whole = filled_template(folder, f"whole_{name}", 2020)
    data = whole.read_bytes()
    whole.unlink()
    path = folder / name
    path.write_bytes(data[: len(data) // 2])
    return path


def oversized_file(path: Path, megabytes: int = 51) -> Path:
    """A file over the default 50 MB size limit (its content is never read)."""
    with path.open("wb") as handle:
        handle.truncate(megabytes << 20)
    return path


ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Metadatos">'
    '<table:table-row table:number-rows-repeated="{rows}">'
    '<table:table-cell table:number-columns-repeated="{columns}" office:value-type="float" '
    'office:value="1"/></table:table-row></table:table></office:spreadsheet></office:body>'
    "</office:document-content>"
)
ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def repeated_cells_ods(path: Path, rows: int = 9_000, columns: int = 11_000) -> Path:
    """An .ods of under 1 KB whose one cell is repeated ``rows`` x ``columns`` times (99 million
    cells: just under python-calamine's own cap, gigabytes once expanded)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST, zipfile.ZIP_DEFLATED)
        archive.writestr(
            "content.xml",
            ODS_CONTENT.replace("{rows}", str(rows)).replace("{columns}", str(columns)),
            zipfile.ZIP_DEFLATED,
        )
    return path
