"""Mexico's own published table ("Cuadro 3.1"), written from the entries sample of one year and
read through ``specs/layouts/mex_published_entries_nationality.yml`` (whose sheet name it uses)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from migstat.codes import display_label
from migstat.workbooks.samples.drawing import MONTHS, Table, aggregate
from migstat.workbooks.samples.sources import ZERO, SampleMaker
from migstat.workbooks.template import MONTHS_SHORT_ES, TOTAL

PUBLISHED_FILE = "MEX_entries_exits_2021_publicado.xlsx"
PUBLISHED_LAYOUT = "mex_published_entries_nationality"
PUBLISHED_YEAR = 2021
PUBLISHED_REGIONS: list[tuple[str, list[str]]] = [
    ("América del Norte", ["USA", "CAN"]),
    ("Centroamérica", ["GTM", "BLZ", "SLV", "HND", "NIC", "CRI", "PAN"]),
    ("Caribe", ["CUB", "DOM", "HTI", "JAM", "PRI"]),
    ("América del Sur", ["COL", "VEN", "ECU", "PER", "BRA", "ARG", "CHL", "BOL"]),
    ("Europa", ["ESP", "FRA", "DEU", "ITA", "GBR", "NLD", "RUS"]),
    ("Asia", ["CHN", "IND", "JPN", "KOR"]),
    ("Oceanía", ["AUS"]),
]
"""Region headings (UN M49 names as the office writes them) and their countries, in order."""
PUBLISHED_OUTSIDE_REGIONS = ["OTH", "XXA", "XXX"]
PUBLISHED_LABELS = {
    "USA": "Estados Unidos1",
    "CAN": "Canadá 2",
    "DOM": "Dominicana, Rep.",
    "KOR": "Corea, República de",
    "GBR": "Reino Unido3",
    "VEN": "VENEZUELA",
    "XXX": "Nacionalidad no especificada",
}
"""Labels as Mexico's table writes them: footnote markers glued on, inversions, capitals."""
PUBLISHED_NOTES = [
    "Fuente: Unidad de Política Migratoria, Registro e Identidad de Personas (SEGOB), con base en "
    "los registros del Instituto Nacional de Migración.",
    "Nota: Información preliminar. Cifras sujetas a rectificación.",
    "1 Incluye a los residentes en Estados Unidos que ingresan por vía aérea y marítima.",
    "2 Incluye a los trabajadores agrícolas temporales.",
    "3 Incluye Inglaterra, Escocia, Gales e Irlanda del Norte.",
    "- Cero.",
]


def write_published_mexico(maker: SampleMaker, path: Path) -> Path:
    """Mexico's own "Cuadro 3.1" for one year: region subtotals between country rows, spacer
    rows, footnote markers glued to labels, "-" for zero, notes below, no metadata sheet."""
    sheet = maker.specs.layouts[PUBLISHED_LAYOUT].sheets[0]
    micro = next(t for t in maker.tables("entries_exits", "MEX", PUBLISHED_YEAR) if t.draws(sheet))
    foreigners = Table(
        micro.dimensions, {key: n for key, n in micro.cells.items() if key[0] != "MEX"}, micro.fixed
    )
    counts = aggregate(foreigners, ["nationality", "month"])

    def numbers(codes: Sequence[str]) -> list[int | str]:
        return [
            sum(counts.get((code, month), 0) for code in codes) or ZERO
            for month in [TOTAL, *MONTHS]
        ]

    book = Workbook()
    ws = book.active
    assert isinstance(ws, Worksheet), "a new workbook has one worksheet"
    ws.title = sheet.name
    ws["A1"] = "Cuadro 3.1 Entradas de extranjeros por región y país de nacionalidad"
    ws["A1"].font = Font(bold=True, size=12)
    ws["A2"] = f"Enero-diciembre de {PUBLISHED_YEAR}"
    ws["A3"] = "(Número de entradas)"
    ws.append([])
    ws.append(["Región y país de nacionalidad", "Total", *MONTHS_SHORT_ES])
    for cell in ws[5]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    ws.append([])
    all_codes = [code for _, codes in PUBLISHED_REGIONS for code in codes]
    ws.append(["Total", *numbers([*all_codes, *PUBLISHED_OUTSIDE_REGIONS])])
    for region, codes in PUBLISHED_REGIONS:
        ws.append([])
        ws.append([region, *numbers(codes)])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        for code in codes:
            label = PUBLISHED_LABELS.get(code) or display_label("countries", code, "es")
            ws.append([f"  {label}", *numbers([code])])
    ws.append([])
    for code in PUBLISHED_OUTSIDE_REGIONS:
        label = PUBLISHED_LABELS.get(code) or display_label("countries", code, "es")
        ws.append([label, *numbers([code])])
    ws.append([])
    for note in PUBLISHED_NOTES:
        ws.append([note])
    for row in ws.iter_rows(min_row=7, min_col=2):
        for cell in row:
            cell.number_format = "#,##0"
    ws.column_dimensions["A"].width = 36
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path
