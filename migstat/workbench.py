"""The layout workbench: how a workbook will be read, before anything is loaded.

``migstat layout check FILE [--layout ID|PATH]`` reads a workbook through a layout (the one that
recognises it, or the one named) and reports every row's kind and place in the table's
hierarchy, every column, each label's code (or ``?`` with the closest codes), the period and
flags, and a preview of the rules that would fail, with their cells. ``migstat layout draft
FILE`` proposes a starting layout from the table's shape.

The rule preview runs the values, codes and additivity rules on the parsed cells in Python; the
dbt rule models run by ``migstat build`` remain the authority (plausibility, completeness and
cross-table rules need other submissions or sheets and are not previewed).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from loaders.load import CodeListOracle
from loaders.parse import (
    ROW_KINDS,
    CellRecord,
    ParsedSubmission,
    cell_text,
    detect_layout,
    parse_number,
    parse_period,
    parse_workbook,
)
from loaders.workbook import Workbook
from migstat import codes
from migstat.errors import MigstatError
from migstat.specs import LayoutSpec, Specs, cell_ref, load_layout_file


@dataclass(frozen=True)
class LabelReading:
    """How one label will resolve in its dimension's code list."""

    dimension: str
    label: str
    code: str | None
    method: str
    score: float | None = None
    suggestions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    """A rule that would fail, where."""

    rule: str
    sheet: str
    cell: str
    expected: str | None
    found: str | None
    detail: str = ""


@dataclass
class LayoutCheck:
    file: str
    layout: str
    layout_file: str
    country: str
    source: str
    year: int
    first_month: int
    last_month: int
    flag: str | None
    rows: list[dict[str, object]]
    columns: dict[str, list[tuple[str, tuple[str, ...]]]]
    labels: list[LabelReading]
    findings: list[Finding]
    cell_count: int

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["columns"] = {
            sheet: [{"column": letter, "labels": list(labels)} for letter, labels in columns]
            for sheet, columns in self.columns.items()
        }
        return data


def resolve_layout(specs: Specs, book: Workbook, path: Path, layout: str | None) -> LayoutSpec:
    """The layout named (an id known to the specs, or a YAML file), or the one that detects."""
    if layout is None:
        return detect_layout(book, specs, path.name)
    if layout in specs.layouts:
        return specs.layouts[layout]
    candidate = Path(layout)
    if candidate.suffix in (".yml", ".yaml") and candidate.exists():
        found = load_layout_file(candidate)
        specs.source(found.source)
        return found
    known = ", ".join(sorted(specs.layouts))
    raise MigstatError(f"unknown layout {layout!r}: give a layout id ({known}) or a .yml file")


def check_file(path: Path, specs: Specs, layout: str | None = None) -> LayoutCheck:
    """Read ``path`` through a layout without loading it anywhere."""
    book = Workbook(path)
    spec = resolve_layout(specs, book, path, layout)
    parsed = parse_workbook(book, spec, specs, CodeListOracle(spec), path.name)
    source = specs.source(spec.source)
    codelists = {name: dimension.codelist for name, dimension in source.dimensions.items()}
    labels = _label_readings(parsed, codelists)
    unresolved = {(reading.dimension, reading.label) for reading in labels if reading.code is None}
    findings = _value_findings(parsed, spec, specs)
    approximate = {
        (reading.dimension, reading.label): reading.code
        for reading in labels
        if reading.method == "fuzzy" and reading.code is not None
    }
    findings += _code_findings(parsed, spec, unresolved, approximate)
    findings += additivity_findings(parsed, spec, codelists)
    layout_file = specs.files.get(f"layouts/{spec.id}")
    return LayoutCheck(
        file=str(path),
        layout=spec.id,
        layout_file=str(layout_file or layout or ""),
        country=parsed.country_code,
        source=parsed.source,
        year=parsed.reference_year,
        first_month=parsed.first_month,
        last_month=parsed.last_month,
        flag=parsed.obs_flag,
        rows=[asdict(row) for row in parsed.rows],
        columns=parsed.columns,
        labels=labels,
        findings=findings,
        cell_count=len(parsed.cells),
    )


def _label_readings(parsed: ParsedSubmission, codelists: dict[str, str]) -> list[LabelReading]:
    seen: dict[tuple[str, str], LabelReading] = {}
    resolver = codes.user_resolver()
    for cell in parsed.cells:
        for dimension, label in cell.labels.items():
            if label is None or (dimension, label) in seen or dimension not in codelists:
                continue
            if cell.cell_role == "subtotal" and dimension == _row_dimension(parsed, cell):
                seen[(dimension, label)] = LabelReading(dimension, label, "(aggregate)", "layout")
                continue
            match = resolver.match(codelists[dimension], label, scope=parsed.country_code)
            seen[(dimension, label)] = LabelReading(
                dimension,
                label,
                match.code,
                match.method,
                None if match.score is None else round(match.score, 1),
                [f"{code} {name} {score:.0f}" for code, name, score in match.suggestions],
            )
    return list(seen.values())


def _row_dimension(parsed: ParsedSubmission, cell: CellRecord) -> str | None:
    for sheet in parsed.sheets:
        if sheet.sheet == cell.sheet:
            return sheet.row_dimension
    return None


def _value_findings(parsed: ParsedSubmission, layout: LayoutSpec, specs: Specs) -> list[Finding]:
    measures = specs.source(parsed.source).measures
    findings = []
    for cell in parsed.cells:
        if cell.value_status == "text":
            findings.append(Finding("VAL-003", cell.sheet, cell.cell, None, cell.raw_text))
        elif cell.value is not None and cell.value < 0:
            findings.append(Finding("VAL-001", cell.sheet, cell.cell, None, cell.raw_text))
        elif (
            cell.value is not None
            and cell.value != round(cell.value)
            and not measures[cell.measure].allow_decimals
            and parsed.obs_flag != "e"
        ):
            findings.append(
                Finding("VAL-002", cell.sheet, cell.cell, str(round(cell.value)), cell.raw_text)
            )
    return findings


def _code_findings(
    parsed: ParsedSubmission,
    layout: LayoutSpec,
    unresolved: set[tuple[str, str]],
    approximate: dict[tuple[str, str], str] | None = None,
) -> list[Finding]:
    """COD-001 for labels that resolve to nothing; COD-002 (warn) for those resolved by
    approximate match, with the code they get as expected."""
    findings = []
    approximate = approximate or {}
    reported: set[tuple[str, str, str]] = set()
    for cell in parsed.cells:
        for dimension, label in cell.labels.items():
            key = (cell.sheet, dimension, label or "")
            if label is None or key in reported:
                continue
            if (dimension, label) in unresolved:
                findings.append(Finding("COD-001", cell.sheet, cell.cell, None, label, dimension))
            elif (dimension, label) in approximate:
                code = approximate[(dimension, label)]
                findings.append(Finding("COD-002", cell.sheet, cell.cell, code, label, dimension))
            else:
                continue
            reported.add(key)
    return findings


def _key(codelist: str, label: str | None) -> str:
    if label is None:
        return "_T"
    return codes.resolve(codelist, label) or f"?{codes.normalize(label)}"


def additivity_findings(
    parsed: ParsedSubmission, layout: LayoutSpec, codelists: dict[str, str]
) -> list[Finding]:
    """ADD-001 / ADD-002 on the parsed cells, as the dbt model computes them: each total
    against the cells that differ from it along one coordinate, and each row against the rows
    the table places under it."""
    tolerance = layout.reading.tolerance
    absolute = max(0.5, tolerance.absolute if tolerance else 0.0)
    relative = tolerance.relative if tolerance else 0.0
    row_dimensions = {sheet.sheet: sheet.row_dimension for sheet in parsed.sheets}
    by_position = {(c.sheet, c.row_number, c.column_number): c for c in parsed.cells}
    edges: dict[tuple[str, str, str], list[CellRecord]] = defaultdict(list)
    totals: dict[tuple[str, str, str], CellRecord] = {}
    groups: dict[tuple[str, str, str], dict[str, list[CellRecord]]] = defaultdict(
        lambda: {"totals": [], "parts": []}
    )
    for cell in parsed.cells:
        row_dimension = row_dimensions.get(cell.sheet)
        keys = {dim: _key(codelists[dim], label) for dim, label in cell.labels.items()}
        identity = {**keys, row_dimension or "": f"={cell.row_key}"}
        for dimension in keys:
            if dimension == row_dimension:
                continue
            rest = "|".join(f"{d}={identity[d]}" for d in sorted(identity) if d != dimension)
            role = "totals" if keys[dimension] == "_T" else "parts"
            groups[(cell.sheet, dimension, rest)][role].append(cell)
        if cell.parent_row is not None:
            total = by_position.get((cell.sheet, cell.parent_row, cell.column_number))
            if total is not None:
                rule = "ADD-002" if total.cell_role == "subtotal" else "ADD-001"
                edges[(cell.sheet, total.cell, rule)].append(cell)
                totals[(cell.sheet, total.cell, rule)] = total
    for (sheet, dimension, _), members in groups.items():
        for total in members["totals"]:
            edges[(sheet, total.cell, f"ADD-001 {dimension}")] += members["parts"]
            totals[(sheet, total.cell, f"ADD-001 {dimension}")] = total
    findings = []
    blank_totals: set[tuple[str, str]] = set()
    for key, parts in edges.items():
        total = totals[key]
        if not parts or total.value_status in ("text", "missing_marker"):
            continue
        if any(part.value_status in ("text", "missing_marker") for part in parts):
            continue
        detail_sum = sum(part.value or 0.0 for part in parts)
        if total.value is None:
            # ADD-004 (a warning): a blank total over numbers, once per cell
            if abs(detail_sum) > absolute and (key[0], key[1]) not in blank_totals:
                blank_totals.add((key[0], key[1]))
                dimension = key[2].partition(" ")[2]
                findings.append(
                    Finding("ADD-004", key[0], key[1], _number(detail_sum), None, dimension)
                )
            continue
        if abs(total.value - detail_sum) > max(absolute, relative * abs(total.value)):
            rule, _, dimension = key[2].partition(" ")
            findings.append(
                Finding(rule, key[0], key[1], _number(detail_sum), _number(total.value), dimension)
            )
    return sorted(findings, key=lambda f: (f.sheet, f.rule, len(f.cell), f.cell))


def _number(value: float) -> str:
    return str(round(value)) if abs(value - round(value)) < 1e-9 else f"{value:.4g}"


def render_check(check: LayoutCheck, console: Console) -> None:
    """The workbench's terminal report: rows, columns, labels, rules."""
    months = f"months {check.first_month}-{check.last_month}"
    console.print(
        f"[bold]{check.file}[/] read with layout [bold]{check.layout}[/] ({check.layout_file})\n"
        f"country {check.country}, source {check.source}, year {check.year}, {months}, "
        f"flag {check.flag or '-'}; {check.cell_count:,} cells would be loaded"
    )
    codes_by_label = {(reading.dimension, reading.label): reading for reading in check.labels}
    rows = Table(title="rows", show_lines=False)
    for header in ("row", "kind", "parent", "block", "label", "code"):
        rows.add_column(header, overflow="fold")
    styles = {"header": "dim", "note": "dim", "ignored": "yellow", "block": "cyan"}
    for row in check.rows:
        label = str(row["label"] or "")
        reading = next((r for (_, text), r in codes_by_label.items() if text == row["label"]), None)
        code = "" if reading is None else (reading.code or "[red]?[/]")
        kind = str(row["kind"])
        style = styles.get(kind, "")
        rows.add_row(
            f"{row['sheet']}!{row['row_number']}",
            f"[{style}]{kind}[/]" if style else kind,
            str(row["parent_row"] or ""),
            str(row["block"] or ""),
            label,
            code,
        )
    console.print(rows)
    for kind in sorted({str(row["kind"]) for row in check.rows}):
        console.print(f"  [bold]{kind}[/]: {ROW_KINDS.get(kind, '')}")
    columns = Table(title="columns")
    columns.add_column("sheet")
    columns.add_column("column")
    columns.add_column("labels")
    for sheet, found in check.columns.items():
        for letter, labels in found:
            columns.add_row(sheet, letter, " / ".join(labels))
    console.print(columns)
    unresolved = [reading for reading in check.labels if reading.code is None]
    if unresolved:
        table = Table(title="labels that do not resolve")
        for header in ("dimension", "label", "closest codes"):
            table.add_column(header, overflow="fold")
        for reading in unresolved:
            table.add_row(reading.dimension, reading.label, "; ".join(reading.suggestions))
        console.print(table)
    approximate = [r for r in check.labels if r.method not in ("alias", "layout", "none")]
    for reading in approximate:
        console.print(
            f"[yellow]{reading.dimension} {reading.label!r} -> {reading.code} "
            f"({reading.method}, score {reading.score})[/]"
        )
    if not check.findings:
        console.print("[green]no rule would fail[/]")
        return
    findings = Table(title=f"{len(check.findings)} rule(s) would fail")
    for header in ("rule", "sheet", "cell", "expected", "found", "detail"):
        findings.add_column(header, overflow="fold")
    for finding in check.findings:
        findings.add_row(
            finding.rule,
            finding.sheet,
            finding.cell,
            finding.expected or "",
            finding.found or "",
            finding.detail,
        )
    console.print(findings)


# ---------------------------------------------------------------------------------- draft


@dataclass
class _Shape:
    sheet: str
    header_row: int
    label_column: int
    first_column: int
    column_dimension: str
    first_row: int


def draft_layout(path: Path, specs: Specs, layout_id: str | None = None) -> str:
    """A starting layout for a published table, from its shape: the header row (the first row
    most of whose cells are months, sexes or totals), the label column, the first data row, the
    title and period lines above, the aggregates the code lists know (regions), stacked blocks
    (the first label repeated), and the reporting country named in the title."""
    book = Workbook(path)
    shape = None
    for sheet in book.sheet_names:
        shape = _shape(book.grid(sheet), sheet)
        if shape is not None:
            break
    if shape is None:
        raise MigstatError(
            "no header row of months, sexes or totals found in the first 30 rows of any sheet; "
            "write the layout by hand (docs/layouts.md)",
            file=path.name,
            rule="STR-HEADER",
        )
    grid = book.grid(shape.sheet)
    title_lines = [
        text.strip()
        for row in grid[: shape.header_row - 1]
        for text in (cell_text(value) for value in row[:3])
        if text and text.strip()
    ]
    title = title_lines[0] if title_lines else path.stem
    period_row = next(
        (
            number
            for number, row in enumerate(grid[: shape.header_row - 1], start=1)
            if parse_period(" ".join(cell_text(v) or "" for v in row[:3])) is not None
        ),
        None,
    )
    labels = [
        cell_text(row[shape.label_column])
        for row in grid[shape.first_row - 1 :]
        if shape.label_column < len(row)
    ]
    present = [label.strip() for label in labels if label and label.strip()]
    country = _country_in(title_lines, specs)
    column = _letter(shape.label_column)
    rows: dict[str, object] = {
        "dimension": "nationality",
        "label_column": column,
        "first_row": shape.first_row,
    }
    levels = _indented_levels([label for label in labels if label and label.strip()])
    if levels:
        rows["levels"] = levels
    elif any(codes.resolve("regions", label) not in (None, "_T") for label in present):
        rows["levels"] = [{"aggregates": {"codelist": "regions"}}]
    first = present[0] if present else None
    if first is not None and present.count(first) > 1:
        rows["blocks"] = {
            "dimension": "port",
            "heading": {"regex": "^(total nacional|puesto|aeropuerto|aerop)"},
        }
    layout_name = layout_id or re.sub(r"[^a-z0-9]+", "_", path.stem.lower()).strip("_")
    words = re.findall(r"\w+", title)[:6]
    draft: dict[str, object] = {
        "id": layout_name,
        "source": "entries_exits",
        "kind": "published",
        "title": {"es": title, "en": title},
        "detect": {
            "sheet": shape.sheet,
            "cell": f"{column}1" if title_lines else "A1",
            "pattern": r"\W+".join(re.escape(word) for word in words),
        },
        "defaults": {"country": country or "XXX", "source": "entries_exits"},
        "sheets": [
            {
                "name": shape.sheet,
                "title": {"es": title, "en": title},
                "measure": "movements",
                "fixed": {"flow": "ENT"},
                "rows": rows,
                "columns": {
                    "dimensions": [shape.column_dimension],
                    "header_rows": [shape.header_row],
                    "first_column": _letter(shape.first_column),
                },
            }
        ],
    }
    if period_row is not None:
        draft["period"] = f"{shape.sheet}!A{period_row}"
    numbers = [
        value
        for row in grid[shape.first_row - 1 :]
        for value in row[shape.first_column :]
        if isinstance(value, float)
    ]
    if any(not value.is_integer() for value in numbers):
        draft["reading"] = {"estimates": True, "tolerance": {"absolute": 0.5, "relative": 0.001}}
    header = [
        f"# Draft layout for {path.name}, proposed by `migstat layout draft` from the table's",
        "# shape. Check every line (source, measure, flow, country, levels), then preview it with",
        f"# `migstat layout check {path.name} --layout THIS_FILE.yml`. Format: docs/layouts.md.",
    ]
    if country is None:
        header.append("# The reporting country was not found in the title: set defaults.country.")
    body = yaml.safe_dump(draft, allow_unicode=True, sort_keys=False, width=100)
    return "\n".join(header) + "\n" + body


def _indented_levels(labels: list[str]) -> list[dict[str, object]]:
    """Levels read off indentation: a label followed by a more indented one groups the rows
    under it; one level per indentation depth, outermost first (totals left out)."""
    depths = [len(label) - len(label.lstrip()) for label in labels]
    found: dict[int, list[str]] = defaultdict(list)
    for position, label in enumerate(labels[:-1]):
        name = label.strip()
        known = found[depths[position]]
        deeper = depths[position + 1] > depths[position]
        if deeper and codes.resolve("countries", name) != "_T" and name not in known:
            known.append(name)
    return [{"aggregates": found[depth]} for depth in sorted(found)]


def _letter(index: int) -> str:
    return cell_ref(0, index).rstrip("1")


def _shape(grid: Sequence[Sequence[object]], sheet: str) -> _Shape | None:
    for row_index, row in enumerate(grid[:30]):
        kinds: dict[str, int] = defaultdict(int)
        first_column = None
        for column_index, value in enumerate(row):
            text = cell_text(value)
            if not text or not text.strip():
                continue
            for codelist in ("months", "sex", "ports"):
                code = codes.resolve(codelist, text)
                if code is not None:
                    kinds[codelist if code != "_T" else "_T"] += 1
                    if code != "_T" and first_column is None:
                        first_column = column_index
                    break
        best = max(("months", "sex", "ports"), key=lambda name: kinds[name])
        if kinds[best] >= 2 and first_column is not None:
            before = cell_text(row[first_column - 1]) if first_column > 0 else None
            total_first = before is not None and codes.resolve("months", before) == "_T"
            label_column = next(
                (
                    index
                    for index, value in enumerate(row[:first_column])
                    if cell_text(value) and codes.resolve("months", cell_text(value) or "") != "_T"
                ),
                0,
            )
            data_first = row_index + 1
            while data_first < len(grid) and not _has_number(grid[data_first]):
                data_first += 1
            dimension = {"months": "month", "sex": "sex", "ports": "port"}[best]
            return _Shape(
                sheet,
                row_index + 1,
                label_column,
                first_column - 1 if total_first else first_column,
                dimension,
                data_first + 1,
            )
    return None


def _has_number(row: Sequence[object]) -> bool:
    return any(parse_number(value, {"-"}, set())[1] == "number" for value in row[1:])


def _country_in(lines: list[str], specs: Specs) -> str | None:
    text = codes.normalize(" ".join(lines))
    for code, country in specs.countries.items():
        for name in (country.name.es, country.name.en, country.institution.es):
            if codes.normalize(name) and re.search(rf"\b{codes.normalize(name)}\b", text):
                return code
    return None
