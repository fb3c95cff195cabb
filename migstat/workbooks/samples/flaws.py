"""Deliberately flawed sample files: each one a rule family must catch.

Each flawed file *replaces* the clean file of its (country, source, year), except the
resubmission pair, where the flawed first version is followed by a corrected ``_v2``. A flaw
names its sheet by position in the source's template layout (``sheet=None``: the metadata
sheet), so renaming a sheet in a layout renames it here too. ``FLAWS`` is the list:

* ``GTM_entries_exits_2024.xlsx``, first sheet (ENTRADAS_NAC), B50: Total row, January total,
  1,000 more than the sum of the nationalities -> additivity.
* ``HND_returns_2023.xlsx``, first sheet (POR_PAIS), H6: June blank in every sheet, the typed
  totals leave June out -> completeness.
* ``SLV_irregular_foreigners_2023.xlsx``, first sheet (POR_NACIONALIDAD), A31: an extra row
  "Wakanda" (in every sheet by nationality), counted in every total -> codes.
* ``CRI_asylum_2022.xlsx``, first sheet (SOLICITUDES_NAC), C8: Nicaraguan men typed as text,
  last digit a letter o ("1578o") -> values.
* ``DOM_work_permits_2022.xlsx``: the metadata sheet is deleted, no layout is detected ->
  structure (rejected).
* ``BLZ_residence_permits_2023.xlsx``, first sheet (POR_NACIONALIDAD), B5: header rows 5-6
  wiped -> structure (rejected).
* ``PAN_residence_permits_2024.xlsx``, second sheet (POR_MES), C9: March, temporary permits, men
  250 above the detail of the first sheet, every total of the sheet adjusted (additive within
  the sheet) -> cross-table; ``PAN_residence_permits_2024_v2.xlsx`` (version 2, submitted two
  months later, flag ``r``) corrects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import product

from openpyxl import Workbook

from migstat.specs import load_specs
from migstat.workbooks.samples.sources import SampleMaker
from migstat.workbooks.samples.submissions import Submission, clean_submission, parse_name
from migstat.workbooks.template import TOTAL


@dataclass(frozen=True)
class Flaw:
    """A deliberate flaw in one sample file, and the rule family that must catch it."""

    file: str
    kind: str
    sheet_position: int | None
    """Position of the sheet in the source's template layout (None: the metadata sheet)."""
    cell: str | None
    description: str
    rule_family: str

    @property
    def source(self) -> str:
        return parse_name(self.file)[1]

    @property
    def sheet(self) -> str:
        """The sheet's name, as the template layout of the (shipped) source names it."""
        layout = load_specs().template_layout(self.source)
        if self.sheet_position is None:
            return layout.metadata.sheet if layout.metadata else layout.detect.sheet
        return layout.sheets[self.sheet_position].name

    def describe(self) -> str:
        """The description with ``{sheet}`` filled in."""
        return self.description.format(sheet=self.sheet)


FLAWS: list[Flaw] = [
    Flaw(
        "GTM_entries_exits_2024.xlsx", "total_off", 0, "B50",
        "Total row, January total column: 1,000 more than the sum of the nationalities",
        "additivity",
    ),
    Flaw(
        "HND_returns_2023.xlsx", "missing_month", 0, "H6",
        "June left blank in every sheet ({sheet} column H and the June row or column of the "
        "others); the totals "
        "the office typed leave June out",
        "completeness",
    ),
    Flaw(
        "SLV_irregular_foreigners_2023.xlsx", "unknown_label", 0, "A31",
        "an extra row labelled 'Wakanda' ({sheet}!A31 and every sheet by nationality), counted in "
        "the totals",
        "codes",
    ),
    Flaw(
        "CRI_asylum_2022.xlsx", "text_in_number", 0, "C8",
        "Nicaraguan men typed as text with a letter o for the last digit (e.g. '1234' -> '123o')",
        "values",
    ),
    Flaw(
        "DOM_work_permits_2022.xlsx", "metadata_deleted", None, None,
        "the {sheet} sheet is deleted: the layout cannot be detected, the file is rejected",
        "structure",
    ),
    Flaw(
        "BLZ_residence_permits_2023.xlsx", "header_wiped", 0, "B5",
        "header rows 5 and 6 of a required sheet wiped: the file is rejected",
        "structure",
    ),
    Flaw(
        "PAN_residence_permits_2024.xlsx", "cross_table", 1, "C9",
        "March, temporary permits, men: 250 more than the detail of the first sheet, with every "
        "{sheet} total adjusted (additive within the sheet, disagrees across sheets); corrected "
        "by PAN_residence_permits_2024_v2.xlsx (version 2, submitted later, flag r)",
        "cross-table",
    ),
]  # fmt: skip

RESUBMISSION = "PAN_residence_permits_2024_v2.xlsx"
PUBLISHED_FILE = "MEX_entries_exits_2021_publicado.xlsx"


def flawed_submission(maker: SampleMaker, flaw: Flaw, last_year: int) -> Submission:
    """The submission of ``flaw.file``: the clean one with the flaw of ``flaw.kind``."""
    country, source, year = parse_name(flaw.file)
    submission = clean_submission(maker, source, country, year, last_year)
    if flaw.kind == "missing_month":
        submission.values = maker.values(source, country, year, drop_month="06")
    elif flaw.kind == "unknown_label":
        submission.values = maker.values(source, country, year, extra_rows={"Wakanda": 0.004})
    elif flaw.kind == "cross_table":
        cells = submission.values[flaw.sheet]
        for key in product(["03", TOTAL], ["TMP", TOTAL], ["M", TOTAL]):
            current = cells[key]
            cells[key] = (current if isinstance(current, int) else 0) + 250
    else:
        submission.post.append(lambda book: _damage(book, flaw))
    return submission


def _damage(book: Workbook, flaw: Flaw) -> None:
    """Flaws written into the built workbook: a cell changed, a sheet or header removed."""
    if flaw.kind == "metadata_deleted":
        del book[flaw.sheet]
        return
    ws = book[flaw.sheet]
    cell = ws[flaw.cell or "A1"]
    if flaw.kind == "total_off":
        cell.value += 1000
    elif flaw.kind == "text_in_number":
        cell.value = f"{cell.value}"[:-1] + "o"
    elif flaw.kind == "header_wiped":
        for merged in list(ws.merged_cells.ranges):
            ws.unmerge_cells(str(merged))
        assert ws.freeze_panes is not None, "templates freeze their header rows"
        first_data_row = ws[ws.freeze_panes].row
        for row in ws.iter_rows(min_row=cell.row, max_row=first_data_row - 1):
            for each in row:
                each.value = None
    else:
        raise ValueError(f"unknown flaw kind {flaw.kind!r}")


def resubmission(maker: SampleMaker, last_year: int) -> Submission:
    """The corrected second version of the cross-table flaw's file."""
    flaw = next(f for f in FLAWS if f.kind == "cross_table")
    country, source, year = parse_name(flaw.file)
    corrected = clean_submission(maker, source, country, year, last_year)
    first = corrected.submitted_on
    corrected.submitted_on = date(first.year, first.month + 2, first.day)
    corrected.version = 2
    corrected.flag = "r"
    corrected.notes = (
        f"Corrige el envío del {first.isoformat()}: permisos temporales de marzo en {flaw.sheet}. "
        f"/ Corrects the submission of {first.isoformat()}: March temporary permits in "
        f"{flaw.sheet}."
    )
    return corrected
