"""SVG charts written by hand: bars, horizontal bars, stacked bars and lines.

Every chart is a standalone ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (a text
alternative that names the largest and smallest values), a ``<title>`` on every mark for
tooltips, system fonts only and a palette that stays readable for colour-blind readers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from html import escape

from migstat.publish.catalogue import ChartType

PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#8C6D1F",
    "#000000",
    "#882255",
    "#44AA99",
    "#999933",
    "#777777",
)
DASHES = ("", "6 3", "2 3")
"""Line styles: series beyond the palette's length also differ by dash pattern."""
WIDTH = 760
FONT = 12


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]


Formatter = Callable[[float], str]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (low <= 0 <= high for bars)."""
    if high == low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks: list[float] = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _legend(series: Sequence[Series], x: float, y: float) -> tuple[list[str], float]:
    """Legend entries wrapped over as many lines as needed; returns marks and its height."""
    parts: list[str] = []
    if len(series) < 2:
        return parts, 0.0
    cursor, line = x, 0
    for index, item in enumerate(series):
        width = 16 + 7.2 * len(item.name) + 18
        if cursor + width > WIDTH - 10 and cursor > x:
            cursor, line = x, line + 1
        top = y + line * 18
        color = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{cursor:.1f}" y="{top - 10:.1f}" width="12" height="12" fill="{color}"/>'
            f'<text x="{cursor + 16:.1f}" y="{top:.1f}">{escape(item.name)}</text>'
        )
        cursor += width
    return parts, (line + 1) * 18.0


def _describe(
    categories: Sequence[str], series: Sequence[Series], fmt: Formatter, lang: str
) -> str:
    points = [
        (value, category, item.name)
        for item in series
        for category, value in zip(categories, item.values, strict=True)
        if value is not None
    ]
    if not points:
        return "Sin datos." if lang == "es" else "No data."
    high = max(points)
    low = min(points)

    def name(point: tuple[float, str, str]) -> str:
        return f"{point[1]} ({point[2]})" if len(series) > 1 else point[1]

    if lang == "es":
        return (
            f"{len(categories)} categorías, {len(series)} series. Valor más alto: {name(high)}, "
            f"{fmt(high[0])}. Valor más bajo: {name(low)}, {fmt(low[0])}. "
            "Los datos completos están en el cuadro junto al gráfico."
        )
    return (
        f"{len(categories)} categories, {len(series)} series. Highest value: {name(high)}, "
        f"{fmt(high[0])}. Lowest value: {name(low)}, {fmt(low[0])}. "
        "The full data are in the table beside the graph."
    )


def render_chart(
    kind: ChartType,  # stacked kinds draw grouped bars when a value is negative
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str,
    fmt: Formatter,
    lang: str,
) -> str:
    """An accessible SVG chart of the series over the categories."""
    desc = _describe(categories, series, fmt, lang)
    if any(v is not None and v < 0 for s in series for v in s.values):
        unstacked: dict[ChartType, ChartType] = {"stacked_bar": "bar", "stacked_hbar": "hbar"}
        kind = unstacked.get(kind, kind)
    if kind in ("hbar", "stacked_hbar"):
        body, height = _horizontal(categories, series, fmt, stacked=kind == "stacked_hbar")
    elif kind == "line":
        body, height = _line(categories, series, fmt)
    else:
        body, height = _vertical(categories, series, fmt, stacked=kind == "stacked_bar")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" '
        f'font-size="{FONT}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
        f'<rect width="100%" height="100%" fill="#fff"/>{"".join(body)}</svg>'
    )


def _extent(series: Sequence[Series], stacked: bool) -> tuple[float, float]:
    if stacked:
        count = len(series[0].values) if series else 0
        totals = [sum(max(s.values[i] or 0, 0) for s in series) for i in range(count)]
        return 0.0, max(totals, default=0.0)
    values = [v for s in series for v in s.values if v is not None]
    return min(0.0, *values) if values else 0.0, max(0.0, *values) if values else 0.0


def _bars(
    i: int, category: str, series: Sequence[Series], fmt: Formatter, *, stacked: bool
) -> Iterator[tuple[int, float, float, str, str]]:
    """The bars of category number i: slot in the band (0 when stacked), start and end on the
    value axis, colour and tooltip; a missing value has no bar."""
    base = 0.0
    for j, item in enumerate(series):
        value = item.values[i]
        if value is None:
            continue
        if stacked:
            start, end = base, base + max(value, 0)
            base = end
            slot = 0
        else:
            start, end = min(value, 0), max(value, 0)
            slot = j
        tip = f"{category}{' — ' + item.name if len(series) > 1 else ''}: {fmt(value)}"
        yield slot, start, end, PALETTE[j % len(PALETTE)], tip


def _vertical(
    categories: Sequence[str], series: Sequence[Series], fmt: Formatter, *, stacked: bool
) -> tuple[list[str], int]:
    rotate = len(categories) > 8 or max((len(c) for c in categories), default=0) > 12
    parts, legend_h = _legend(series, 80, 20)
    left, right, top = 80, 20, 22 + legend_h
    bottom = 110 if rotate else 40
    height = int(top + 300 + bottom)
    plot_h = height - top - bottom
    plot_w = WIDTH - left - right
    low, high = _extent(series, stacked)
    ticks = nice_ticks(low, high)
    lo, hi = ticks[0], ticks[-1]

    def y(value: float) -> float:
        return top + plot_h * (hi - value) / (hi - lo)

    for tick in ticks:
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(tick))}</text>"
        )
    band = plot_w / max(len(categories), 1)
    groups = 1 if stacked else max(len(series), 1)
    bar_w = band * 0.8 / groups
    for i, category in enumerate(categories):
        x0 = left + i * band + band * 0.1
        for slot, start, end, color, tip in _bars(i, category, series, fmt, stacked=stacked):
            y_top, y_bottom = y(end), y(start)
            x = x0 + slot * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}" '
                f'height="{max(y_bottom - y_top, 0.5):.1f}" fill="{color}">'
                f"<title>{escape(tip)}</title></rect>"
            )
        cx = left + i * band + band / 2
        label = escape(_short(category, 18))
        if rotate:
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 12}" text-anchor="end" '
                f'transform="rotate(-45 {cx:.1f} {top + plot_h + 12})">{label}</text>'
            )
        else:
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{label}</text>'
            )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#333"/>'
    )
    return parts, height


def _horizontal(
    categories: Sequence[str], series: Sequence[Series], fmt: Formatter, *, stacked: bool
) -> tuple[list[str], float]:
    parts, legend_h = _legend(series, 190, 20)
    left, right, top, bottom = 190, 50, 26 + legend_h, 30
    groups = 1 if stacked else max(len(series), 1)
    band = max(22, 12 * groups + 8)
    plot_h = band * max(len(categories), 1)
    height = top + plot_h + bottom
    plot_w = WIDTH - left - right
    low, high = _extent(series, stacked)
    ticks = nice_ticks(low, high)
    lo, hi = ticks[0], ticks[-1]

    def x(value: float) -> float:
        return left + plot_w * (value - lo) / (hi - lo)

    for tick in ticks:
        parts.append(
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{top + plot_h}" '
            f'stroke="#ddd"/><text x="{x(tick):.1f}" y="{top + plot_h + 16}" '
            f'text-anchor="middle">{escape(fmt(tick))}</text>'
        )
    bar_h = (band - 6) / groups
    for i, category in enumerate(categories):
        y0 = top + i * band + 3
        for slot, start, end, color, tip in _bars(i, category, series, fmt, stacked=stacked):
            x_left, x_right = x(start), x(end)
            yy = y0 + slot * bar_h
            parts.append(
                f'<rect x="{x_left:.1f}" y="{yy:.1f}" width="{max(x_right - x_left, 0.5):.1f}" '
                f'height="{bar_h:.1f}" fill="{color}"><title>{escape(tip)}</title></rect>'
            )
        parts.append(
            f'<text x="{left - 6}" y="{top + i * band + band / 2 + 4:.1f}" text-anchor="end">'
            f"{escape(_short(category, 28))}</text>"
        )
    parts.append(
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top}" y2="{top + plot_h}" stroke="#333"/>'
    )
    return parts, height


def _line(
    categories: Sequence[str], series: Sequence[Series], fmt: Formatter
) -> tuple[list[str], int]:
    parts, legend_h = _legend(series, 80, 20)
    left, right, top, bottom = 80, 30, 22 + legend_h, 70
    height = int(top + 250 + bottom)
    plot_h = height - top - bottom
    plot_w = WIDTH - left - right
    values = [v for s in series for v in s.values if v is not None]
    low = min([0.0, *values])
    high = max([0.0, *values])
    ticks = nice_ticks(low, high)
    lo, hi = ticks[0], ticks[-1]
    step = plot_w / max(len(categories) - 1, 1)

    def px(i: int) -> float:
        return left + (i * step if len(categories) > 1 else plot_w / 2)

    def py(value: float) -> float:
        return top + plot_h * (hi - value) / (hi - lo)

    for tick in ticks:
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{py(tick) + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(tick))}</text>"
        )
    for i, category in enumerate(categories):
        parts.append(
            f'<text x="{px(i):.1f}" y="{top + plot_h + 16}" text-anchor="end" '
            f'transform="rotate(-35 {px(i):.1f} {top + plot_h + 16})">'
            f"{escape(_short(category, 14))}</text>"
        )
    for j, item in enumerate(series):
        color = PALETTE[j % len(PALETTE)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, value in enumerate(item.values):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{px(i):.1f},{py(value):.1f}")
        if segment:
            segments.append(segment)
        for points in segments:
            dash = DASHES[(j // len(PALETTE)) % len(DASHES)]
            pattern = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{color}" '
                f'stroke-width="2.5"{pattern}/>'
            )
        for i, value in enumerate(item.values):
            if value is None:
                continue
            tip = f"{categories[i]}{' — ' + item.name if len(series) > 1 else ''}: {fmt(value)}"
            parts.append(
                f'<circle cx="{px(i):.1f}" cy="{py(value):.1f}" r="3.5" fill="{color}">'
                f"<title>{escape(tip)}</title></circle>"
            )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{py(0):.1f}" y2="{py(0):.1f}" stroke="#333"/>'
    )
    return parts, height
