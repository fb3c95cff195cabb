"""The standardized workbook of a source, written exactly as its layout spec describes it.

A template has an ``Instrucciones`` sheet (Spanish, then English), a ``Metadatos`` sheet whose
value cells are the layout's ``metadata.cells`` (cell ``B9`` names the layout: that is how the
loader recognises the workbook), one data sheet per ``sheets`` entry of the layout, and a hidden
``Listas`` sheet holding the country names offered by the dropdowns.

Data sheets: a title block in rows 1-3 (title es, title en, counting unit), the column headers on
``columns.header_rows``, the row labels in ``rows.label_column`` from ``rows.first_row`` on: the
row members, ``rows.extra_rows`` blank rows where the office can add a nationality, and a last
``Total`` row. With one column dimension the columns are ``Total`` then each member; with two, one
group per member of the first dimension plus a final ``Total`` group, each group being
``Total`` then the members of the second dimension. Totals are typed values, never formulas.

``values`` fills data cells. It maps a sheet name to ``{key: value}`` where ``key`` is
``(row, column)`` for one column dimension or ``(row, column_1, column_2)`` for two; each part is
a code of that dimension (``"_T"`` for the Total row, column or group). A row key that is not one
of the sheet's row members goes to the next blank extra row and is written there literally as its
label (so ``"Wakanda"`` or ``"Alemania"`` can be added). A value is a number, a text written as
is (``"-"``, ``"n.d."``, ``"12o"``), or ``None`` for an explicitly blank cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from migstat.codes import default_resolver, display_label
from migstat.errors import SpecError
from migstat.flags import flag_letters
from migstat.specs import (
    CountrySpec,
    LayoutSpec,
    SheetLayout,
    SourceSpec,
    Specs,
    column_letter_to_index,
    load_specs,
)
from migstat.units import COUNTING_UNITS

TOTAL = "_T"
TOTAL_LABEL = "Total"
INSTRUCTIONS_SHEET = "Instrucciones"
LISTS_SHEET = "Listas"
OBSERVATION_FLAGS = flag_letters()
NUMBER_FORMAT = "#,##0"
MONTHS_SHORT_ES = (
    "Ene",
    "Feb",
    "Mar",
    "Abr",
    "May",
    "Jun",
    "Jul",
    "Ago",
    "Sep",
    "Oct",
    "Nov",
    "Dic",
)

CellKey = tuple[str, ...]
CellValue = int | float | str | None
SheetValues = Mapping[CellKey, CellValue]
Values = Mapping[str, SheetValues]

METADATA_LABELS: dict[str, tuple[str, str]] = {
    "country": ("País que informa (código ISO3)", "Reporting country (ISO3 code)"),
    "institution": ("Institución", "Institution"),
    "source": ("Fuente (registro)", "Source (register)"),
    "year": ("Año de referencia", "Reference year"),
    "first_month": ("Primer mes cubierto (1-12)", "First month covered (1-12)"),
    "last_month": ("Último mes cubierto (1-12)", "Last month covered (1-12)"),
    "template": ("Plantilla (no modificar)", "Template (do not change)"),
    "contact": ("Persona de contacto y correo", "Contact person and e-mail"),
    "submitted_on": ("Fecha de envío (AAAA-MM-DD)", "Submission date (YYYY-MM-DD)"),
    "flag": (
        "Marca de observación (vacío = definitivo; p, e, b, r)",
        "Observation flag (empty = definitive; p, e, b, r)",
    ),
    "version": ("Versión del envío (1, 2, ...)", "Submission version (1, 2, ...)"),
    "notes": ("Notas metodológicas", "Methodological notes"),
}

INSTRUCTIONS_ES = [
    "Instrucciones",
    "1. Complete la hoja Metadatos: país, institución, año, meses cubiertos, contacto, fecha de "
    "envío, marca de observación y versión.",
    "2. En cada hoja de datos escriba las cifras en las celdas en blanco de la tabla, una por "
    "combinación de fila y columna.",
    "3. Las filas y columnas «Total» se escriben a mano con el total que registra la institución: "
    "no use fórmulas. migstat comprueba que cada total sea igual a la suma de sus partes y que "
    "las hojas concuerden entre sí.",
    "4. Un guion «-» significa cero. Una celda en blanco significa dato no disponible.",
    "5. No cambie los títulos, las etiquetas de filas y columnas ni el nombre de las hojas. Para "
    "añadir una nacionalidad que no figura, use las filas en blanco sobre «Total» y elija el país "
    "en la lista desplegable.",
    "6. Escriba solo números enteros, sin separadores de texto ni notas dentro de las celdas; "
    "las aclaraciones van en Metadatos, en «Notas metodológicas».",
    "7. Para corregir un envío ya hecho, envíe el archivo completo otra vez con la versión "
    "aumentada en uno y la nueva fecha de envío.",
]
INSTRUCTIONS_EN = [
    "Instructions",
    "1. Fill in the Metadatos sheet: country, institution, year, months covered, contact, "
    "submission date, observation flag and version.",
    "2. In each data sheet, type the figures in the blank cells of the table, one per combination "
    "of row and column.",
    "3. The 'Total' rows and columns are typed by hand with the total the institution records: do "
    "not use formulas. migstat checks that every total equals the sum of its parts and that the "
    "sheets agree with each other.",
    "4. A dash '-' means zero. A blank cell means not available.",
    "5. Do not change the titles, the row and column labels or the sheet names. To add a "
    "nationality that is not listed, use the blank rows above 'Total' and pick the country from "
    "the dropdown list.",
    "6. Type whole numbers only, with no text or notes inside the cells; explanations go in "
    "Metadatos, under 'Methodological notes'.",
    "7. To correct a submission already sent, send the whole file again with the version raised "
    "by one and the new submission date.",
]

_TITLE_FONT = Font(bold=True, size=13)
_SUBTITLE_FONT = Font(italic=True, color="555555")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_INPUT_FILL = PatternFill("solid", fgColor="FFFFFF")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_UNLOCKED = Protection(locked=False)


@dataclass(frozen=True)
class SheetGrid:
    """Where every row and column of a data sheet sits (1-based row and column numbers)."""

    rows: dict[str, int]
    """Row member code -> row number (``_T`` is the Total row)."""
    extra_rows: list[int]
    columns: dict[tuple[str, ...], int]
    """Column code tuple (one code per column dimension) -> column number."""


def resolve_members(
    reference: str | None,
    codelist: str,
    source: SourceSpec,
    country: CountrySpec,
) -> list[str]:
    """The codes a template lists for one axis: a member list, a code list, or the ports."""
    if reference is None:
        return _codelist_members(codelist)
    if reference.startswith("codelist:"):
        return _codelist_members(reference.removeprefix("codelist:"))
    if reference == "ports":
        return [port.code for port in country.ports]
    try:
        return list(source.member_lists[reference])
    except KeyError:
        raise KeyError(f"source {source.id} has no member list {reference!r}") from None


def _codelist_members(codelist: str) -> list[str]:
    members = default_resolver().list(codelist)
    if not members:
        raise KeyError(f"code list {codelist!r} has no members (are the seeds built?)")
    return [member.code for member in members if member.code not in (TOTAL, "_U")]


def header_label(codelist: str, code: str) -> str:
    """A column header: ``Total``, a short month name (``Ene``) or the Spanish display name."""
    if code == TOTAL:
        return TOTAL_LABEL
    if codelist == "months":
        return MONTHS_SHORT_ES[int(code) - 1]
    return display_label(codelist, code, "es")


def row_members(sheet: SheetLayout, source: SourceSpec, country: CountrySpec) -> list[str]:
    codelist = source.dimensions[sheet.rows.dimension].codelist
    return resolve_members(sheet.rows.members, codelist, source, country)


def column_members(sheet: SheetLayout, source: SourceSpec, country: CountrySpec) -> list[list[str]]:
    """The members of each column dimension, in order (without the Total)."""
    references = sheet.columns.members or [None] * len(sheet.columns.dimensions)
    return [
        resolve_members(reference, source.dimensions[dimension].codelist, source, country)
        for dimension, reference in zip(sheet.columns.dimensions, references, strict=True)
    ]


def column_keys(sheet: SheetLayout, source: SourceSpec, country: CountrySpec) -> list[CellKey]:
    """Column code tuples in sheet order, the Total column(s) included."""
    members = column_members(sheet, source, country)
    if len(members) == 1:
        return [(TOTAL,), *((code,) for code in members[0])]
    inner = [TOTAL, *members[1]]
    return [(outer, code) for outer in [*members[0], TOTAL] for code in inner]


def sheet_grid(sheet: SheetLayout, source: SourceSpec, country: CountrySpec) -> SheetGrid:
    first_row = sheet.rows.first_row
    members = row_members(sheet, source, country)
    rows = {code: first_row + index for index, code in enumerate(members)}
    extra_start = first_row + len(members)
    extra = list(range(extra_start, extra_start + sheet.rows.extra_rows))
    rows[TOTAL] = extra_start + sheet.rows.extra_rows
    first_column = column_letter_to_index(sheet.columns.first_column) + 1
    columns = {
        key: first_column + index for index, key in enumerate(column_keys(sheet, source, country))
    }
    return SheetGrid(rows=rows, extra_rows=extra, columns=columns)


def build_template(
    source_id: str,
    country_code: str,
    year: int,
    values: Values | None = None,
    *,
    flag: str | None = None,
    version: int = 1,
    submitted_on: date | None = None,
    contact: str = "",
    notes: str = "",
    specs: Specs | None = None,
) -> Workbook:
    """The template workbook in memory (see the module docstring for ``values``)."""
    specs = specs or load_specs()
    source = specs.source(source_id)
    country = specs.country(country_code)
    layout = specs.template_layout(source_id)
    if flag is not None and flag not in OBSERVATION_FLAGS:
        raise ValueError(f"observation flag {flag!r} is not one of {', '.join(OBSERVATION_FLAGS)}")
    for name, dimension in source.dimensions.items():
        if dimension.codelist != "ports" and not default_resolver().list(dimension.codelist):
            raise SpecError(
                f"dimension {name} names code list {dimension.codelist!r}, which has no codes: "
                "add it to specs/codes/code_lists.yml and run scripts/build_seeds.py (without it "
                "the template would show codes instead of labels)",
                file=str(specs.files.get(f"sources/{source_id}", "")),
            )
    values = values or {}
    unknown = set(values) - {sheet.name for sheet in layout.sheets}
    if unknown:
        raise ValueError(f"layout {layout.id} has no sheet(s) {sorted(unknown)}")

    book = Workbook()
    instructions = book.active
    assert isinstance(instructions, Worksheet), "a new workbook has one worksheet"
    _write_instructions(instructions, layout)
    country_names = _write_lists(book.create_sheet(LISTS_SHEET))
    _write_metadata(
        book.create_sheet(layout.metadata.sheet if layout.metadata else "Metadatos"),
        layout,
        specs,
        {
            "country": country.code,
            "institution": country.institution.es,
            "source": source.id,
            "year": year,
            "first_month": 1,
            "last_month": 12,
            "template": layout.id,
            "contact": contact,
            "submitted_on": submitted_on.isoformat() if submitted_on else "",
            "flag": flag or "",
            "version": version,
            "notes": notes,
        },
    )
    for sheet in layout.sheets:
        _write_data_sheet(
            book.create_sheet(sheet.name),
            sheet,
            source,
            country,
            values.get(sheet.name, {}),
            country_names,
        )
    book.move_sheet(LISTS_SHEET, offset=len(book.sheetnames) - 1)
    return book


def write_template(
    source_id: str,
    country_code: str,
    year: int,
    path: Path | str,
    values: Values | None = None,
    *,
    flag: str | None = None,
    version: int = 1,
    submitted_on: date | None = None,
    contact: str = "",
    notes: str = "",
    specs: Specs | None = None,
) -> Path:
    """Write the standardized workbook of ``source_id`` for ``country_code`` and ``year``."""
    book = build_template(
        source_id,
        country_code,
        year,
        values,
        flag=flag,
        version=version,
        submitted_on=submitted_on,
        contact=contact,
        notes=notes,
        specs=specs,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _write_instructions(ws: Worksheet, layout: LayoutSpec) -> None:
    ws.title = INSTRUCTIONS_SHEET
    ws["A1"] = f"{layout.title.es} / {layout.title.en}"
    ws["A1"].font = _TITLE_FONT
    row = 3
    for block in (INSTRUCTIONS_ES, INSTRUCTIONS_EN):
        ws.cell(row=row, column=1, value=block[0]).font = _HEADER_FONT
        for line in block[1:]:
            row += 1
            ws.cell(row=row, column=1, value=line).alignment = Alignment(wrap_text=True)
        row += 2
    ws.column_dimensions["A"].width = 110
    ws.protection.sheet = True


def _write_lists(ws: Worksheet) -> str:
    """Country names for the extra-row dropdowns; returns the range formula."""
    ws["A1"] = "País / Country"
    names = sorted(
        {display_label("countries", code, "es") for code in _codelist_members("countries")}
    )
    for index, name in enumerate(names, start=2):
        ws.cell(row=index, column=1, value=name)
    ws.sheet_state = "hidden"
    ws.protection.sheet = True
    return f"{LISTS_SHEET}!$A$2:$A${len(names) + 1}"


def _write_metadata(
    ws: Worksheet, layout: LayoutSpec, specs: Specs, fields: dict[str, str | int]
) -> None:
    if layout.metadata is None:
        raise ValueError(f"layout {layout.id} has no metadata sheet: it is not a template")
    ws["A1"] = "Metadatos del envío / Submission metadata"
    ws["A1"].font = _TITLE_FONT
    ws["A2"] = "Campo / Field"
    ws["B2"] = "Valor / Value"
    for cell in (ws["A2"], ws["B2"]):
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    dropdowns = {
        "country": ",".join(sorted(specs.countries)),
        "source": ",".join(sorted(specs.sources)),
        "first_month": ",".join(str(month) for month in range(1, 13)),
        "last_month": ",".join(str(month) for month in range(1, 13)),
        "flag": ",".join(OBSERVATION_FLAGS),
    }
    for field, ref in layout.metadata.cells.items():
        target = ws[ref]
        label_es, label_en = METADATA_LABELS.get(field, (field, field))
        label = ws.cell(row=target.row, column=target.column - 1, value=f"{label_es} / {label_en}")
        label.font = _HEADER_FONT
        target.value = fields.get(field, "")
        target.border = _BORDER
        if field != "template":
            target.protection = _UNLOCKED
        if field in dropdowns:
            validation = DataValidation(
                type="list", formula1=f'"{dropdowns[field]}"', allow_blank=True
            )
            validation.error = "Elija un valor de la lista / Pick a value from the list"
            validation.add(target)
            ws.add_data_validation(validation)
    ws.column_dimensions["A"].width = 58
    ws.column_dimensions["B"].width = 48
    ws.protection.sheet = True


def _write_data_sheet(
    ws: Worksheet,
    sheet: SheetLayout,
    source: SourceSpec,
    country: CountrySpec,
    values: SheetValues,
    country_names: str,
) -> None:
    measure = source.measures[sheet.measure]
    ws["A1"] = sheet.title.es
    ws["A1"].font = _TITLE_FONT
    ws["A2"] = sheet.title.en
    ws["A2"].font = _SUBTITLE_FONT
    ws["A3"] = (
        f"Unidad de cuenta: {COUNTING_UNITS[measure.unit].es} ({measure.title.es.lower()}) / "
        f"Counting unit: {measure.unit} ({measure.title.en.lower()})"
    )
    ws["A3"].font = _SUBTITLE_FONT

    grid = sheet_grid(sheet, source, country)
    label_column = column_letter_to_index(sheet.rows.label_column) + 1
    header_rows = sheet.columns.header_rows
    row_codelist = source.dimensions[sheet.rows.dimension].codelist
    column_codelists = [source.dimensions[d].codelist for d in sheet.columns.dimensions]

    corner = ws.cell(
        row=header_rows[-1],
        column=label_column,
        value=source.dimensions[sheet.rows.dimension].title.es,
    )
    _style_header(corner)
    if len(header_rows) == 2:
        _style_header(
            ws.cell(
                row=header_rows[0],
                column=label_column,
                value=source.dimensions[sheet.columns.dimensions[0]].title.es,
            )
        )
    _write_headers(ws, grid, header_rows, column_codelists)

    labels = {code: display_label(row_codelist, code, "es") for code in grid.rows if code != TOTAL}
    labels[TOTAL] = TOTAL_LABEL
    for code, row in grid.rows.items():
        cell: Cell | MergedCell = ws.cell(row=row, column=label_column, value=labels[code])
        cell.border = _BORDER
        if code == TOTAL:
            cell.font = _HEADER_FONT
            cell.fill = _TOTAL_FILL
    for row in grid.extra_rows:
        cell = ws.cell(row=row, column=label_column)
        cell.border = _BORDER
        cell.protection = _UNLOCKED
    if grid.extra_rows:
        dropdown = DataValidation(
            type="list", formula1=f"={country_names}", allow_blank=True, errorStyle="warning"
        )
        dropdown.error = "Elija un país de la lista / Pick a country from the list"
        first_extra, last_extra = grid.extra_rows[0], grid.extra_rows[-1]
        letter = get_column_letter(label_column)
        dropdown.add(f"{letter}{first_extra}:{letter}{last_extra}")
        ws.add_data_validation(dropdown)

    data_rows = [*grid.rows.values(), *grid.extra_rows]
    for row in data_rows:
        for key, column in grid.columns.items():
            cell = ws.cell(row=row, column=column)
            cell.number_format = NUMBER_FORMAT
            cell.protection = _UNLOCKED
            cell.border = _BORDER
            if row == grid.rows[TOTAL] or TOTAL in key:
                cell.fill = _TOTAL_FILL
    _fill_values(ws, sheet, grid, values, label_column)

    ws.freeze_panes = f"{get_column_letter(label_column + 1)}{sheet.rows.first_row}"
    ws.column_dimensions[get_column_letter(label_column)].width = 40
    width = 9 if len(header_rows) == 2 else 12
    for column in grid.columns.values():
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.protection.sheet = True


def _write_headers(
    ws: Worksheet, grid: SheetGrid, header_rows: list[int], codelists: list[str]
) -> None:
    if len(header_rows) == 1:
        for (code,), column in grid.columns.items():
            _style_header(
                ws.cell(row=header_rows[0], column=column, value=header_label(codelists[0], code))
            )
        return
    groups: dict[str, list[int]] = {}
    for (outer, inner), column in grid.columns.items():
        groups.setdefault(outer, []).append(column)
        _style_header(
            ws.cell(row=header_rows[1], column=column, value=header_label(codelists[1], inner))
        )
    for outer, columns in groups.items():
        _style_header(
            ws.cell(row=header_rows[0], column=columns[0], value=header_label(codelists[0], outer))
        )
        for column in columns[1:]:
            _style_header(ws.cell(row=header_rows[0], column=column))
        ws.merge_cells(
            start_row=header_rows[0],
            start_column=columns[0],
            end_row=header_rows[0],
            end_column=columns[-1],
        )


def _style_header(cell: Cell | MergedCell) -> None:
    cell.font = _HEADER_FONT
    cell.fill = _HEADER_FILL
    cell.alignment = _CENTER
    cell.border = _BORDER


def _fill_values(
    ws: Worksheet, sheet: SheetLayout, grid: SheetGrid, values: SheetValues, label_column: int
) -> None:
    width = len(sheet.columns.dimensions) + 1
    free_rows = iter(grid.extra_rows)
    added: dict[str, int] = {}
    for key, value in values.items():
        if len(key) != width:
            raise ValueError(f"sheet {sheet.name}: cell key {key!r} needs {width} codes")
        row_code, column_key = key[0], tuple(key[1:])
        row = grid.rows.get(row_code) or added.get(row_code)
        if row is None:
            row = next(free_rows, None)
            if row is None:
                raise ValueError(f"sheet {sheet.name}: no blank row left for {row_code!r}")
            added[row_code] = row
            ws.cell(row=row, column=label_column, value=row_code)
        column = grid.columns.get(column_key)
        if column is None:
            raise ValueError(f"sheet {sheet.name}: no column {column_key!r}")
        ws.cell(row=row, column=column, value=value)
