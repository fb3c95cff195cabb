"""``migstat report``: what a country office receives about one submission, Spanish, English,
then any language with a catalogue (:mod:`migstat.translations`).

Read from the published warehouse's quality marts: the verdict, then every problem with sheet,
cell, rule, expected and found values and the catalogue's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from migstat.errors import MigstatError
from migstat.readonly import connect_read_only
from migstat.safe_cells import xlsx_cell, xlsx_row
from migstat.translations import N_, languages, translations

STATUS_TEXT = {
    "accepted": N_("Accepted and published"),
    "quarantined": N_(
        "Quarantined: not published; the previously accepted version stays published"
    ),
    "quarantined_first": N_(
        "Quarantined: not published; there is no previously accepted version of this country, "
        "source and period"
    ),
    "rejected": N_("Rejected: the file could not be read"),
    "superseded": N_("Superseded by a newer accepted version"),
    "withdrawn": N_(
        "Withdrawn: not published; the previously accepted version, if any, is published again"
    ),
}
SEVERITY_TEXT = {"error": N_("error"), "warn": N_("warning")}
HEADERS = [N_("Severity"), N_("Rule"), N_("Sheet"), N_("Cell"), N_("Expected"), N_("Found"),
           N_("Message")]  # fmt: skip
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Problem:
    severity: str
    rule_id: str
    sheet: str | None
    cell: str | None
    expected: str | None
    found: str | None
    message_es: str
    message_en: str


@dataclass(frozen=True)
class Report:
    submission_id: int
    file_name: str
    country_code: str | None
    source: str | None
    period: str | None
    status: str
    has_warnings: bool
    has_published_version: bool
    """Whether another version of the same country, source and period is published."""
    problems: list[Problem]

    def rows(self, lang: str) -> list[list[str]]:
        _ = translations(lang).gettext
        return [
            [
                _(SEVERITY_TEXT.get(p.severity, p.severity)),
                p.rule_id,
                p.sheet or "",
                p.cell or "",
                p.expected or "",
                p.found or "",
                p.message_es if lang == "es" else p.message_en,  # data: es, else English
            ]
            for p in self.problems
        ]

    def status_text(self, lang: str) -> str:
        _ = translations(lang).gettext
        status = self.status
        if status == "quarantined" and not self.has_published_version:
            status = "quarantined_first"
        text = _(STATUS_TEXT.get(status, status))
        if self.status == "accepted" and self.has_warnings:
            text += " " + _("(with warnings)")
        return text


def read_report(warehouse: Path, submission_id: int) -> Report:
    if not warehouse.exists():
        raise MigstatError(f"no published warehouse at {warehouse}: run `migstat build` first")
    with connect_read_only(warehouse) as con:
        row = con.execute(
            "select this.submission_id, this.file_name, this.country_code, this.source, "
            "this.period, this.status, this.has_warnings, coalesce(bool_or("
            "others.is_published and others.submission_id <> this.submission_id), false) "
            "from marts.quality_submissions as this "
            "left join marts.quality_submissions as others "
            "on others.country_code = this.country_code and others.source = this.source "
            "and others.period = this.period "
            "where this.submission_id = ? group by all",
            [submission_id],
        ).fetchone()
        if row is None:
            raise MigstatError(f"submission {submission_id} is not in {warehouse}")
        problems = [
            Problem(*item)
            for item in con.execute(
                "select severity, rule_id, sheet, cell, expected, found, message_es, message_en "
                "from marts.quality_rule_failures where submission_id = ? "
                "order by severity, rule_id, sheet, length(cell), cell",
                [submission_id],
            ).fetchall()
        ]
    (sid, file_name, country, source, period, status, has_warnings, has_published) = row
    return Report(
        sid, file_name, country, source, period, status, has_warnings, has_published, problems
    )


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
    )


def write_html(report: Report, path: Path) -> Path:
    """One section per language (:func:`migstat.translations.languages`), Spanish first."""
    env = _environment()
    sections = []
    for lang in languages():
        catalogue = translations(lang)
        env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
        html = env.get_template("report_section.html").render(
            lang=lang,
            r=report,
            verdict=report.status_text(lang),
            headers=[catalogue.gettext(header) for header in HEADERS],
            rows=list(zip(report.problems, report.rows(lang), strict=True)),
        )
        sections.append({"lang": lang, "html": Markup(html)})
    page = env.get_template("report.html").render(r=report, sections=sections)
    path.write_text(page, encoding="utf-8")
    return path


def write_xlsx(report: Report, path: Path) -> Path:
    """Both languages, one sheet each; every text cell through :mod:`migstat.safe_cells`, so a
    label such as ``=HYPERLINK(...)`` from a workbook is shown as text, never evaluated."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    for default in list(book.worksheets):
        book.remove(default)
    bold = Font(bold=True)
    for lang in languages():
        _ = translations(lang).gettext
        sheet = book.create_sheet(_("Report"))
        sheet.append([xlsx_cell(sheet, _("Validation report"), font=Font(bold=True, size=14))])
        for label, value in (
            (_("File"), report.file_name),
            (_("Submission"), report.submission_id),
            (_("Country"), report.country_code),
            (_("Source"), report.source),
            (_("Period"), report.period),
            (_("Verdict"), report.status_text(lang)),
        ):
            sheet.append(xlsx_row(sheet, [label, value]))
        sheet.append([])
        sheet.append([xlsx_cell(sheet, _(header), font=bold) for header in HEADERS])
        rows = report.rows(lang)
        for row in rows:
            sheet.append(xlsx_row(sheet, row))
        if not rows:
            sheet.append(xlsx_row(sheet, [_("No problems found.")]))
        for column, width in zip("ABCDEFG", (12, 10, 20, 8, 14, 14, 100), strict=True):
            sheet.column_dimensions[column].width = width
    book.save(path)
    return path


def write_report(report: Report, path: Path) -> Path:
    suffix = path.suffix.lower()
    if suffix == ".html":
        return write_html(report, path)
    if suffix == ".xlsx":
        return write_xlsx(report, path)
    raise MigstatError(f"unknown report format {suffix!r}: use .xlsx or .html", file=str(path))
