"""Build the views of a product that pages and downloads show: table cells, chart, metadata,
catalogue entries and filter options (pure functions of a product and its lookups)."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from migstat.publish.catalogue import Catalogue
from migstat.publish.charts import Series, render_chart
from migstat.publish.data import TOTAL
from migstat.publish.downloads import Metadata
from migstat.publish.i18n import (
    FLAGS,
    UI,
    counting_unit_label,
    flag_label,
    fold,
    format_value,
    pick,
    unit_label,
)
from migstat.publish.products import REGIONAL, Lookups, Product


@cache
def environment() -> Environment:
    """The site's template environment, made once per process: each template is compiled once
    (forked render workers inherit what the parent compiled)."""
    env = Environment(
        loader=PackageLoader("migstat.publish", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def chart_svg(product: Product, lang: str) -> str | None:
    chart = product.spec.chart
    if chart is None:
        return None
    table = product.table
    rows = [r for r in table.rows if r.code != TOTAL and r.code not in chart.exclude_rows]
    if chart.max_rows:
        rows = rows[: chart.max_rows]
    columns = [c for c in table.columns if c.code != TOTAL and c.code not in chart.exclude_columns]
    series = [
        Series(c.label(lang), [table.cell(r.code, c.code).value for r in rows]) for c in columns
    ]

    def fmt(value: float) -> str:
        return format_value(value, lang, percent=table.is_percent, decimals=product.decimals)

    return render_chart(
        chart.type,
        [r.label(lang) for r in rows],
        series,
        chart_id=f"chart-{product.id}",
        title=f"{product.title.get(lang)}. {product.subtitle.get(lang)}",
        fmt=fmt,
        lang=lang,
    )


def metadata(product: Product, lang: str, extracted: str) -> Metadata:
    t = UI[lang]
    table = product.table
    flags = table.flags()
    return Metadata(
        lang=lang,
        title=product.title.get(lang),
        subtitle=product.subtitle.get(lang),
        row_title=product.spec.rows.title.get(lang),
        column_title=(product.spec.columns.title.get(lang) if product.spec.columns else t["value"]),
        counting_unit="; ".join(counting_unit_label(u, lang) for u in table.counting_units) or "-",
        unit=unit_label(table.unit or "count", lang),
        flags_legend="; ".join(f"{k} = {pick(v, lang)}" for k, v in FLAGS.items()),
        flags_present=(
            "; ".join(f"{k} = {flag_label(k, lang)}" for k in flags) if flags else t["no_flags"]
        ),
        footnotes=[n.get(lang) for n in product.footnotes],
        source=product.source_text.get(lang),
        extracted=extracted,
        product_id=product.id,
    )


def _words(*texts: str) -> str:
    return " ".join(sorted(set(fold(" ".join(texts)).split())))


def search_fields(product: Product, lookups: Lookups, catalogue: Catalogue) -> dict[str, str]:
    """Folded words of a product by where they come from, for a search that ranks matches in
    the country and the title before the theme before the content (the table's rows)."""
    theme = catalogue.themes[product.theme]
    country = lookups.country_name(product.country)
    source = lookups.source_title(product.source)
    fields = {
        "country": _words(country.es, country.en, product.subtitle.es, product.subtitle.en),
        "title": _words(product.title.es, product.title.en, product.year),
        "theme": _words(
            theme.title.es,
            theme.title.en,
            theme.keywords.es,
            theme.keywords.en,
            product.spec.keywords.es,
            product.spec.keywords.en,
            source.es,
            source.en,
        ),
    }
    rows = [text for member in product.table.rows for text in (member.es, member.en)]
    fields["content"] = _words(*fields.values(), *rows)
    return fields


def catalogue_entry(
    product: Product, lang: str, lookups: Lookups, catalogue: Catalogue
) -> dict[str, object]:
    breakdowns = " ".join(product.spec.breakdowns)
    return {
        "id": product.id,
        "title": product.title.get(lang),
        "subtitle": product.subtitle.get(lang),
        "href": f"products/{product.id}.html",
        "country": product.country,
        "country_name": lookups.country_name(product.country).get(lang),
        "source": product.source,
        "source_name": lookups.source_title(product.source).get(lang) if product.source else "",
        "theme": product.theme,
        "theme_name": catalogue.themes[product.theme].title.get(lang),
        "indicator": product.indicator,
        "year": product.year,
        "breakdown": breakdowns,
        "flags": product.table.flags(),
        "units": [counting_unit_label(u, lang) for u in product.table.counting_units],
        "has_chart": product.spec.chart is not None,
        "search": search_fields(product, lookups, catalogue),
    }


def options(
    entries: list[dict[str, object]], lang: str, lookups: Lookups, catalogue: Catalogue
) -> dict[str, list[tuple[str, str]]]:
    """The catalogue page's filters, from its products' entries (:func:`catalogue_entry`)."""
    t = UI[lang]
    countries = {str(e["country"]) for e in entries}
    sources = {str(e["source"]) for e in entries if e["source"]}
    themes = {str(e["theme"]) for e in entries}
    indicators = {str(e["indicator"]) for e in entries if e["indicator"]}
    years = {str(e["year"]) for e in entries if e["year"]}
    country_options = sorted(
        ((c, lookups.country_name(c).get(lang)) for c in countries if c != REGIONAL),
        key=lambda o: fold(o[1]),
    )
    if REGIONAL in countries:
        country_options.append((REGIONAL, t["regional"]))

    def indicator_name(code: str) -> str:
        rec = lookups.indicators.get(code)
        return str(rec[f"name_{lang}"]) if rec else code

    return {
        "country": country_options,
        "source": sorted(
            ((s, lookups.source_title(s).get(lang)) for s in sources), key=lambda o: fold(o[1])
        ),
        "theme": [(k, v.title.get(lang)) for k, v in catalogue.themes.items() if k in themes],
        "indicator": sorted(((i, indicator_name(i)) for i in indicators), key=lambda o: fold(o[1])),
        "year": sorted(((y, y) for y in years), reverse=True),
        "breakdown": [("sex", t["by_sex"]), ("age", t["by_age"])],
    }


def table_view(product: Product, lang: str) -> dict[str, object]:
    table = product.table
    body = []
    for row in table.rows:
        cells = []
        for column in table.columns:
            cell = table.cell(row.code, column.code)
            text = (
                "…"
                if cell.value is None
                else format_value(
                    cell.value, lang, percent=table.is_percent, decimals=product.decimals
                )
            )
            cells.append(
                {
                    "text": text,
                    "flag": cell.flag or "",
                    "flag_title": ", ".join(flag_label(f, lang) for f in (cell.flag or "")),
                    "is_total": column.code == TOTAL,
                }
            )
        body.append({"label": row.label(lang), "is_total": row.code == TOTAL, "cells": cells})
    return {"columns": [c.label(lang) for c in table.columns], "rows": body}
