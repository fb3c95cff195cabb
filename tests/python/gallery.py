"""A gallery of published tables, generated: each imitates how an institution of the region lays
out a table it publishes (title block, hierarchy of aggregates, pages, blocks, notes, footnote
markers, periods), written as ``.xls`` or ``.xlsx``, with its layout file in
``tests/gallery_layouts/``.

A table is a tree of rows. Leaves get deterministic random numbers per data column; every
aggregate is the exact sum of its children (or, for estimates, each figure is rounded on its
own, as a central bank publishes them). The generator remembers where every row was written,
so a test can compare what migstat publishes with the table's own totals at every level.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import xlwt

LAYOUTS_DIR = Path(__file__).resolve().parent.parent / "gallery_layouts"

MONTHS_ES = ["Enero", "Febrero", "Marzo", "Abril", "Mayo", "Junio", "Julio", "Agosto"]
MONTHS_ES += ["Septiembre", "Octubre", "Noviembre", "Diciembre"]
MONTHS_SHORT = ["Ene.", "Feb.", "Mar.", "Abr.", "May.", "Jun.", "Jul.", "Ago.", "Sep."]
MONTHS_SHORT += ["Oct.", "Nov.", "Dic."]
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass
class Row:
    """One row of a published table: a leaf (``code`` is what it must publish as) or an
    aggregate of its children."""

    label: str
    code: str | None = None
    children: list[Row] = field(default_factory=list)
    weight: float = 1.0
    values: list[float] = field(default_factory=list)
    block_values: list[list[float]] = field(default_factory=list)
    """Per stacked block, the row's numbers in that block (the first block is the whole)."""
    written_at: list[int] = field(default_factory=list)
    """Sheet row numbers (1-based) where the row was written (one per block)."""

    def leaves(self) -> Iterator[Row]:
        if not self.children:
            yield self
        for child in self.children:
            yield from child.leaves()

    def walk(self) -> Iterator[Row]:
        yield self
        for child in self.children:
            yield from child.walk()


def leaf(label: str, code: str, weight: float = 1.0) -> Row:
    return Row(label, code, weight=weight)


def group(label: str, *children: Row) -> Row:
    return Row(label, None, list(children))


@dataclass
class Table:
    """How one publication lays out its table, and the table itself."""

    name: str
    file_name: str
    layout_id: str
    country: str
    source: str
    year: int
    months: tuple[int, int]
    sheet: str
    title: list[str]
    header_rows: list[list[str]]
    """Header rows written above the data; the first cell is the label column's header."""
    columns: int
    """Data columns without the total column."""
    root: Row
    total_column: str | None = "first"
    indent: int = 0
    page_rows: int | None = None
    """Print pages of this many rows: title (continuación) and headers repeat, notes at the end
    of each page."""
    continuation: str = " (continuación)"
    page_notes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blocks: list[tuple[str, float]] = field(default_factory=list)
    """Stacked blocks: (heading, share of the national block); the national block first."""
    national_heading: str = ""
    decimals: int = 0
    zero_marker: str | None = "-"
    scale: float = 1.0
    magnitude: float = 100_000
    seed: int = 1
    footnotes: dict[str, str] = field(default_factory=dict)
    """Label -> label as written with its footnote marker."""
    totals_last: bool = False
    """Every aggregate written below the rows it adds up, as "Total <label>"."""

    @property
    def suffix(self) -> str:
        return Path(self.file_name).suffix

    def fill(self) -> None:
        """Deterministic numbers: leaves random, aggregates the sum of their children."""
        rng = random.Random(self.seed)
        for row in self.root.leaves():
            size = self.magnitude * row.weight * rng.uniform(0.2, 1.0)
            row.values = [
                0.0 if rng.random() < 0.06 else round(size * rng.uniform(0.5, 1.5) / self.columns)
                for _ in range(self.columns)
            ]
            if self.decimals:
                row.values = [
                    value * rng.uniform(0.9, 1.1) / 10**self.decimals for value in row.values
                ]
            row.block_values = [row.values]
            if self.blocks:
                row.block_values += self._split(row.values, rng)
        self._sum(self.root)

    def _split(self, values: list[float], rng: random.Random) -> list[list[float]]:
        """A whole split over the blocks after the first, in whole numbers that add up."""
        shares = [share for _, share in self.blocks[1:]]
        parts: list[list[float]] = [[] for _ in shares]
        for value in values:
            left = value
            for number, share in enumerate(shares):
                part = (
                    left
                    if number == len(shares) - 1
                    else round(value * share * rng.uniform(0.8, 1.2))
                )
                part = min(part, left)
                parts[number].append(part)
                left -= part
        return parts

    def _sum(self, row: Row) -> None:
        if not row.children:
            return
        for child in row.children:
            self._sum(child)
        blocks = len(row.children[0].block_values)
        row.block_values = [
            [sum(column) for column in zip(*(c.block_values[b] for c in row.children), strict=True)]
            for b in range(blocks)
        ]
        row.values = row.block_values[0]

    def rows(self, block: int = 0) -> list[tuple[Row, list[object]]]:
        """The data rows of one block, in print order, as (row, cells)."""
        out: list[tuple[Row, list[object]]] = []

        def visit(row: Row, depth: int) -> None:
            values = row.block_values[block]
            written = [self._written(value) for value in values]
            total = self._written(sum(values))
            if self.total_column == "first":
                cells: list[object] = [total, *written]
            elif self.total_column == "last":
                cells = [*written, total]
            else:
                cells = written
            label = self.footnotes.get(row.label, row.label)
            if self.totals_last and row.children and row is not self.root:
                label = f"Total {label}"
            line = (row, [" " * (self.indent * depth) + label, *cells])
            if not self.totals_last:
                out.append(line)
            for child in row.children:
                visit(child, depth + 1 if row is not self.root else depth)
            if self.totals_last:
                out.append(line)

        visit(self.root, 0)
        return out

    def _written(self, value: float) -> object:
        if self.decimals:
            return round(value, self.decimals)
        value = round(value)
        if value == 0 and self.zero_marker:
            return self.zero_marker
        return value

    def grid(self) -> list[list[object]]:
        """Every row of the sheet as printed."""
        self.fill()
        grid: list[list[object]] = [[line] for line in self.title]
        grid.append([])
        grid += [list(row) for row in self.header_rows]
        blocks = self.blocks or [("", 1.0)]
        for row in self.root.walk():
            row.written_at = []
        for number, (heading, _) in enumerate(blocks):
            if heading:
                if number:
                    grid.append([])
                grid.append([heading])
            lines_on_page = 0
            for row, cells in self.rows(number):
                if self.page_rows and lines_on_page >= self.page_rows:
                    grid += [[note] for note in self.page_notes]
                    grid.append([])
                    grid.append([self.title[0] + self.continuation])
                    grid += [list(header) for header in self.header_rows]
                    lines_on_page = 0
                grid.append(cells)
                row.written_at.append(len(grid))
                lines_on_page += 1
        grid.append([])
        grid += [[note] for note in self.notes]
        return grid

    def write(
        self, folder: Path, change: Callable[[list[list[object]]], None] | None = None
    ) -> Path:
        grid = self.grid()
        if change is not None:
            change(grid)
        path = folder / self.file_name
        if self.suffix == ".xls":
            book = xlwt.Workbook(encoding="utf-8")
            sheet = book.add_sheet(self.sheet)
            for r, row in enumerate(grid):
                for c, value in enumerate(row):
                    if value is not None and value != "":
                        sheet.write(r, c, value)
            book.save(str(path))
        else:
            workbook = openpyxl.Workbook()
            worksheet = workbook.active
            worksheet.title = self.sheet
            for row in grid:
                worksheet.append(row)
            workbook.save(path)
        return path

    def data_row_numbers(self) -> dict[int, Row]:
        return {number: row for row in self.root.walk() for number in row.written_at}

    def table_total(self) -> float:
        """The grand total the table prints (all blocks: the national block only)."""
        return sum(self.root.values)


def americas_europe_asia(others: bool = True, indent_regions: bool = True) -> list[Row]:
    """Regions as UN M49 names them, each with its countries and, optionally, its "Otros"."""
    regions = [
        group(
            "América del Norte",
            leaf("Estados Unidos", "USA", 8),
            leaf("Canadá", "CAN", 2),
        ),
        group(
            "Centroamérica",
            leaf("Guatemala", "GTM", 1.2),
            leaf("Belice", "BLZ", 0.2),
            leaf("El Salvador", "SLV", 0.8),
            leaf("Honduras", "HND", 0.7),
            leaf("Nicaragua", "NIC", 0.3),
            leaf("Costa Rica", "CRI", 0.4),
            leaf("Panamá", "PAN", 0.3),
        ),
        group(
            "El Caribe",
            leaf("Cuba", "CUB", 0.6),
            leaf("Dominicana, Rep.", "DOM", 0.3),
            leaf("Haití", "HTI", 0.2),
        ),
        group(
            "América del Sur",
            leaf("Colombia", "COL", 1.5),
            leaf("Venezuela", "VEN", 0.9),
            leaf("Argentina", "ARG", 0.8),
            leaf("Brasil", "BRA", 0.8),
            leaf("Perú", "PER", 0.6),
        ),
        group(
            "Europa",
            leaf("España", "ESP", 1.0),
            leaf("Alemania", "DEU", 0.6),
            leaf("Francia", "FRA", 0.6),
            leaf("Reino Unido", "GBR", 0.5),
            leaf("Italia", "ITA", 0.4),
        ),
        group(
            "Asia",
            leaf("China", "CHN", 0.4),
            leaf("Japón", "JPN", 0.3),
            leaf("Corea, República de", "KOR", 0.3),
            leaf("India", "IND", 0.2),
        ),
    ]
    if others:
        codes = {"Centroamérica": "OTH_013", "El Caribe": "OTH_029"}
        codes |= {"América del Sur": "OTH_005", "Europa": "OTH_150", "Asia": "OTH_142"}
        for region in regions[1:]:
            region.children.append(leaf("Otros", codes[region.label], 0.2))
    return regions


def mexico_ytd() -> Table:
    """Mexico's migration policy unit: air entries of foreigners, year to date, printed over
    pages, regions with their "Otros", footnote markers glued to labels, "-" for zero."""
    root = group(
        "Total",
        *americas_europe_asia(),
        leaf("Apátridas", "XXA", 0.05),
        leaf("No especificado", "XXX", 0.1),
    )
    return Table(
        name="mexico_ytd",
        file_name="upm_cuadro_3_1_2_2024.xls",
        layout_id="gallery_mex_upm_air_entries_ytd",
        country="MEX",
        source="entries_exits",
        year=2024,
        months=(1, 4),
        sheet="Cuadro 3.1.2",
        title=[
            "Cuadro 3.1.2 Entradas aéreas de extranjeros por región y país de nacionalidad",
            "Enero-abril 2024",
            "(Cifras preliminares)",
        ],
        header_rows=[["Región y país de nacionalidad", "Total", *MONTHS_ES[:4]]],
        columns=4,
        root=root,
        total_column="first",
        indent=2,
        page_rows=22,
        page_notes=["Fuente: Unidad de Política Migratoria, con base en registros del INM."],
        notes=[
            "Fuente: Unidad de Política Migratoria, con base en registros del INM.",
            "1 Incluye Puerto Rico.",
            "2 Cifras sujetas a rectificación.",
        ],
        footnotes={"Estados Unidos": "Estados Unidos1", "Canadá": "Canadá 2"},
        magnitude=600_000,
        seed=11,
    )


def costa_rica_nationals_foreigners() -> Table:
    """Costa Rica's migration directorate: Total general = Costarricenses + Extranjeros; the
    foreigners by the publisher's own regions ("Centroamérica y Caribe", "Resto del mundo"),
    constituent countries beside their state, no indentation at all."""
    foreigners = group(
        "Extranjeros",
        group(
            "América del Norte",
            leaf("Estados Unidos", "USA", 6),
            leaf("Canadá", "CAN", 1.5),
            leaf("México", "MEX", 1),
        ),
        group(
            "Centroamérica y Caribe",
            leaf("Nicaragua", "NIC", 4),
            leaf("Panamá", "PAN", 1),
            leaf("Cuba", "CUB", 0.5),
            leaf("Rep. Dominicana", "DOM", 0.3),
        ),
        group(
            "Europa",
            leaf("España", "ESP", 1),
            leaf("Reino Unido", "GBR", 0.6),
            leaf("Gales", "GBR", 0.1),
            leaf("Escocia", "GBR", 0.1),
            leaf("Alemania", "DEU", 0.7),
        ),
        group(
            "Resto del mundo",
            leaf("China", "CHN", 0.4),
            leaf("Australia", "AUS", 0.2),
            leaf("Otros países", "OTH", 0.3),
        ),
        leaf("Apátridas", "XXA", 0.02),
        leaf("No especificado", "XXX", 0.05),
    )
    root = group("Total general", leaf("Costarricenses", "CRI", 8), foreigners)
    return Table(
        name="costa_rica",
        file_name="dgme_entradas_nacionalidad_2023.xlsx",
        layout_id="gallery_cri_dgme_entries",
        country="CRI",
        source="entries_exits",
        year=2023,
        months=(1, 12),
        sheet="Entradas",
        title=[
            "Costa Rica. Entradas al país por nacionalidad, según mes. 2023",
            "Dirección General de Migración y Extranjería",
        ],
        header_rows=[["Nacionalidad", *MONTHS_SHORT, "Total"]],
        columns=12,
        root=root,
        total_column="last",
        notes=["Fuente: DGME, Unidad de Estadística.", "Nota: información preliminar."],
        magnitude=300_000,
        seed=12,
    )


def dominican_residence() -> Table:
    """The Dominican central bank: air passengers by residence, then nationals and foreigners,
    then regions and countries (residence is a dimension the hierarchy gives its rows)."""
    non_residents = group(
        "No residentes",
        group(
            "Extranjeros",
            group(
                "América del Norte",
                leaf("Estados Unidos", "USA", 8),
                leaf("Canadá", "CAN", 3),
            ),
            group("Europa", leaf("España", "ESP", 1), leaf("Francia", "FRA", 1)),
            group("América del Sur", leaf("Colombia", "COL", 1), leaf("Venezuela", "VEN", 1)),
            leaf("Otros países", "OTH", 0.5),
        ),
        leaf("Dominicanos", "DOM", 3),
    )
    residents = group(
        "Residentes",
        leaf("Extranjeros", "XXX", 0.3),
        leaf("Dominicanos", "DOM", 2),
    )
    return Table(
        name="dominican_residence",
        file_name="bcrd_llegada_pasajeros_2023.xls",
        layout_id="gallery_dom_bcrd_air_arrivals",
        country="DOM",
        source="entries_exits",
        year=2023,
        months=(1, 12),
        sheet="Llegadas",
        title=[
            "República Dominicana: llegada de pasajeros por vía aérea, según residencia y "
            "nacionalidad",
            "Año 2023",
        ],
        header_rows=[["Residencia y nacionalidad", *MONTHS_ES, "Total"]],
        columns=12,
        root=group("Total", non_residents, residents),
        total_column="last",
        indent=3,
        notes=["Fuente: Banco Central de la República Dominicana, con datos de la DGM."],
        magnitude=400_000,
        seed=13,
    )


def guatemala_ports_blocks() -> Table:
    """Guatemala's migration institute: the national block, then the same rows for each port
    of entry, one block under the other, each under its heading."""
    root = group(
        "Total",
        leaf("Guatemaltecos", "GTM", 4),
        group(
            "Extranjeros",
            leaf("El Salvador", "SLV", 3),
            leaf("Honduras", "HND", 2),
            leaf("México", "MEX", 2),
            leaf("Estados Unidos", "USA", 3),
            leaf("Otros países", "OTH", 1),
        ),
    )
    return Table(
        name="guatemala_blocks",
        file_name="igm_entradas_por_puesto_2022.xlsx",
        layout_id="gallery_gtm_igm_ports",
        country="GTM",
        source="entries_exits",
        year=2022,
        months=(1, 12),
        sheet="Entradas",
        title=["Guatemala: entradas por nacionalidad, puesto fronterizo y mes, año 2022"],
        header_rows=[["Nacionalidad", "Total", *MONTHS_SHORT]],
        columns=12,
        root=root,
        total_column="first",
        indent=2,
        blocks=[
            ("Total nacional", 1.0),
            ("Puesto: Aeropuerto Internacional La Aurora", 0.5),
            ("Puesto: Tecún Umán", 0.3),
            ("Puesto: Pedro de Alvarado", 0.2),
        ],
        notes=["Fuente: Instituto Guatemalteco de Migración."],
        magnitude=200_000,
        seed=14,
    )


def panama_sex_year_sheet() -> Table:
    """Panama's migration service: foreigners by nationality and sex, one sheet per year named
    after it, regions as subtotal rows."""
    root = group("Total", *americas_europe_asia(others=False)[:5])
    return Table(
        name="panama_sex",
        file_name="snm_entradas_sexo_2023.xlsx",
        layout_id="gallery_pan_snm_sex",
        country="PAN",
        source="entries_exits",
        year=2023,
        months=(1, 12),
        sheet="2023",
        title=["Panamá: entrada de extranjeros por nacionalidad y sexo. Año 2023"],
        header_rows=[["Nacionalidad", "Total", "Hombres", "Mujeres"]],
        columns=2,
        root=root,
        total_column="first",
        indent=1,
        notes=["Fuente: Servicio Nacional de Migración, Departamento de Estadística."],
        magnitude=150_000,
        seed=15,
    )


def el_salvador_estimates() -> Table:
    """El Salvador's central bank: international visitors in thousands, estimates with one
    decimal, each figure rounded on its own."""
    root = group(
        "Total",
        group(
            "Centroamérica",
            leaf("Guatemala", "GTM", 5),
            leaf("Honduras", "HND", 3),
            leaf("Nicaragua", "NIC", 1),
        ),
        group("América del Norte", leaf("Estados Unidos", "USA", 6), leaf("Canadá", "CAN", 0.5)),
        leaf("Resto del mundo", "OTH", 1),
    )
    return Table(
        name="el_salvador_estimates",
        file_name="bcr_visitantes_2024.xls",
        layout_id="gallery_slv_bcr_visitors",
        country="SLV",
        source="entries_exits",
        year=2024,
        months=(1, 12),
        sheet="Visitantes",
        title=[
            "El Salvador: llegada de visitantes internacionales por país de residencia, 2024",
            "(Miles de visitantes, estimaciones)",
        ],
        header_rows=[["País", *MONTHS_SHORT, "Total"]],
        columns=12,
        root=root,
        total_column="last",
        indent=2,
        decimals=1,
        zero_marker=None,
        scale=1000,
        notes=["Fuente: Banco Central de Reserva de El Salvador. Cifras estimadas."],
        magnitude=2_000,
        seed=16,
    )


def belize_english_pages() -> Table:
    """Belize, in English: arrivals by nationality and month, printed over pages with
    "(continued)", inverted names."""
    root = group(
        "Total",
        group("North America", leaf("United States", "USA", 10), leaf("Canada", "CAN", 2)),
        group(
            "Central America",
            leaf("Guatemala", "GTM", 2),
            leaf("Mexico", "MEX", 1.5),
            leaf("Honduras", "HND", 0.5),
            leaf("El Salvador", "SLV", 0.5),
        ),
        group(
            "Caribbean",
            leaf("Jamaica", "JAM", 0.5),
            leaf("Bahamas, The", "BHS", 0.2),
            leaf("Trinidad and Tobago", "TTO", 0.2),
        ),
        group(
            "Europe",
            leaf("United Kingdom", "GBR", 1),
            leaf("Germany", "DEU", 0.5),
            leaf("Netherlands", "NLD", 0.3),
        ),
        group("Asia", leaf("Korea, Republic of", "KOR", 0.2), leaf("China", "CHN", 0.3)),
        leaf("Other countries", "OTH", 0.4),
    )
    return Table(
        name="belize_english",
        file_name="bz_arrivals_nationality_2022.xlsx",
        layout_id="gallery_blz_arrivals_english",
        country="BLZ",
        source="entries_exits",
        year=2022,
        months=(1, 12),
        sheet="Table 5",
        title=["Table 5: Arrivals of non-nationals by nationality and month, 2022"],
        header_rows=[["Nationality", *MONTHS_EN, "Total"]],
        columns=12,
        root=root,
        total_column="last",
        indent=4,
        page_rows=12,
        continuation=" (continued)",
        page_notes=["Source: Immigration and Nationality Department."],
        notes=["Source: Immigration and Nationality Department.", "Note: provisional figures."],
        magnitude=60_000,
        seed=17,
    )


def honduras_returns_semester() -> Table:
    """Honduras: returned nationals by country returned from and sex, first semester."""
    root = group(
        "Total",
        leaf("Estados Unidos", "USA", 5),
        leaf("México", "MEX", 4),
        leaf("Guatemala", "GTM", 0.5),
        leaf("Otros países", "OTH", 0.2),
    )
    return Table(
        name="honduras_returns",
        file_name="hnd_retornados_2024_s1.xls",
        layout_id="gallery_hnd_returns_semester",
        country="HND",
        source="returns",
        year=2024,
        months=(1, 6),
        sheet="Retornados",
        title=[
            "Honduras: hondureños retornados por país de procedencia y sexo",
            "Primer semestre de 2024",
        ],
        header_rows=[["País de procedencia", "Total", "Hombres", "Mujeres"]],
        columns=2,
        root=root,
        total_column="first",
        notes=["Fuente: Centro Nacional de Información del Sector Social (CENISS)."],
        magnitude=20_000,
        seed=18,
    )


def nicaragua_totals_below() -> Table:
    """Nicaragua's migration directorate: each region's total written below its countries,
    the grand total on the last line."""
    root = group("TOTAL", *americas_europe_asia(others=False)[1:5])
    return Table(
        name="nicaragua_totals_below",
        file_name="dgme_nic_entradas_extranjeros_2023.xls",
        layout_id="gallery_nic_dgme_totals_below",
        country="NIC",
        source="entries_exits",
        year=2023,
        months=(1, 12),
        sheet="Hoja1",
        title=["NICARAGUA: ENTRADAS DE EXTRANJEROS SEGÚN NACIONALIDAD Y MES, AÑO 2023"],
        header_rows=[["NACIONALIDAD", *[m.upper() for m in MONTHS_ES], "TOTAL"]],
        columns=12,
        root=root,
        total_column="last",
        totals_last=True,
        notes=["FUENTE: Dirección General de Migración y Extranjería."],
        magnitude=80_000,
        seed=19,
    )


GALLERY: list[Callable[[], Table]] = [
    mexico_ytd,
    costa_rica_nationals_foreigners,
    dominican_residence,
    guatemala_ports_blocks,
    panama_sex_year_sheet,
    el_salvador_estimates,
    belize_english_pages,
    honduras_returns_semester,
    nicaragua_totals_below,
]
