"""``migstat report``: what a country office receives about one submission, Spanish then English.

Read from the published warehouse's quality marts: the verdict, then every problem with sheet,
cell, rule, expected and found values and the catalogue's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, select_autoescape

from migstat.errors import MigstatError
from migstat.readonly import connect_read_only
from migstat.safe_cells import xlsx_cell, xlsx_row

STATUS_TEXT = {
    "accepted": ("Aceptado y publicado", "Accepted and published"),
    "quarantined": (
        "En cuarentena: no se publica; la versión aceptada anterior sigue publicada",
        "Quarantined: not published; the previously accepted version stays published",
    ),
    "quarantined_first": (
        "En cuarentena: no se publica; no hay una versión aceptada anterior de este país, "
        "fuente y período",
        "Quarantined: not published; there is no previously accepted version of this country, "
        "source and period",
    ),
    "rejected": ("Rechazado: el archivo no se pudo leer", "Rejected: the file could not be read"),
    "superseded": (
        "Reemplazado por una versión aceptada más reciente",
        "Superseded by a newer accepted version",
    ),
    "withdrawn": (
        "Retirado: no se publica; la versión aceptada anterior, si la hay, vuelve a publicarse",
        "Withdrawn: not published; the previously accepted version, if any, is published again",
    ),
}
SEVERITY_TEXT = {"error": ("error", "error"), "warn": ("advertencia", "warning")}
HEADERS = {
    "es": ["Gravedad", "Regla", "Hoja", "Celda", "Esperado", "Encontrado", "Mensaje"],
    "en": ["Severity", "Rule", "Sheet", "Cell", "Expected", "Found", "Message"],
}


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
        index = 0 if lang == "es" else 1
        return [
            [
                SEVERITY_TEXT.get(p.severity, (p.severity, p.severity))[index],
                p.rule_id,
                p.sheet or "",
                p.cell or "",
                p.expected or "",
                p.found or "",
                p.message_es if lang == "es" else p.message_en,
            ]
            for p in self.problems
        ]

    def status_text(self, lang: str) -> str:
        index = 0 if lang == "es" else 1
        status = self.status
        if status == "quarantined" and not self.has_published_version:
            status = "quarantined_first"
        text = STATUS_TEXT.get(status, (status, status))[index]
        if self.status == "accepted" and self.has_warnings:
            text += " (con advertencias)" if lang == "es" else " (with warnings)"
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
    return Report(*row, problems=problems)


HTML = """<!doctype html>
<html lang="es"><head><meta charset="utf-8">
<title>migstat: {{ r.file_name }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:75rem}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.error{color:#a40000}.warn{color:#8a5a00}
</style></head><body>
{% for lang, title, labels in sections %}
<section lang="{{ lang }}">
<h1>{{ title }}</h1>
<p><strong>{{ labels.file }}:</strong> {{ r.file_name }} &middot;
<strong>{{ labels.submission }}:</strong> {{ r.submission_id }} &middot;
<strong>{{ labels.country }}:</strong> {{ r.country_code or "-" }} &middot;
<strong>{{ labels.source }}:</strong> {{ r.source or "-" }} &middot;
<strong>{{ labels.period }}:</strong> {{ r.period or "-" }}</p>
<p><strong>{{ labels.verdict }}:</strong> {{ r.status_text(lang) }}</p>
{% if r.problems %}
<table><thead><tr>{% for h in headers[lang] %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for p, row in zip(r.problems, r.rows(lang)) %}
<tr class="{{ p.severity }}">{% for value in row %}<td>{{ value }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{% else %}<p>{{ labels.none }}</p>{% endif %}
</section>
{% endfor %}
</body></html>
"""
LABELS = {
    "es": {
        "file": "Archivo",
        "submission": "Envío",
        "country": "País",
        "source": "Fuente",
        "period": "Período",
        "verdict": "Resultado",
        "none": "No se encontraron problemas.",
    },
    "en": {
        "file": "File",
        "submission": "Submission",
        "country": "Country",
        "source": "Source",
        "period": "Period",
        "verdict": "Verdict",
        "none": "No problems found.",
    },
}
TITLES = {"es": "Informe de validación", "en": "Validation report"}


def write_html(report: Report, path: Path) -> Path:
    env = Environment(autoescape=select_autoescape(default=True))
    html = env.from_string(HTML).render(
        r=report,
        headers=HEADERS,
        sections=[(lang, TITLES[lang], LABELS[lang]) for lang in ("es", "en")],
        zip=zip,
    )
    path.write_text(html, encoding="utf-8")
    return path


def write_xlsx(report: Report, path: Path) -> Path:
    """Both languages, one sheet each; every text cell through :mod:`migstat.safe_cells`, so a
    label such as ``=HYPERLINK(...)`` from a workbook is shown as text, never evaluated."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for lang, sheet_name in (("es", "Informe"), ("en", "Report")):
        sheet = book.create_sheet(sheet_name)
        labels = LABELS[lang]
        sheet.append([xlsx_cell(sheet, TITLES[lang], font=Font(bold=True, size=14))])
        for key, value in (
            ("file", report.file_name),
            ("submission", report.submission_id),
            ("country", report.country_code),
            ("source", report.source),
            ("period", report.period),
            ("verdict", report.status_text(lang)),
        ):
            sheet.append(xlsx_row(sheet, [labels[key], value]))
        sheet.append([])
        sheet.append([xlsx_cell(sheet, header, font=bold) for header in HEADERS[lang]])
        rows = report.rows(lang)
        for row in rows:
            sheet.append(xlsx_row(sheet, row))
        if not rows:
            sheet.append(xlsx_row(sheet, [labels["none"]]))
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
