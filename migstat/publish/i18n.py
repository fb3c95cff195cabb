"""Words and number formats of the published pages, Spanish first.

The words are gettext messages (:mod:`migstat.translations`, ``docs/i18n.md``): English msgids
here, their Spanish in ``migstat/locale/es/LC_MESSAGES/migstat.po``, and any other language a
catalogue of its own. ``UI[lang]`` gives a page's words in ``lang``; names that are data (the
observation flags, counting units) keep their own bilingual declaration.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator, Mapping

from migstat import units
from migstat.flags import flag_names
from migstat.translations import N_, translations

LANGS = ("es", "en")


MESSAGES: dict[str, str] = {
    "site_title": N_("Migration statistics: statistical products"),
    "site_subtitle": N_(
        "Standard tables and graphs by country and source, and regional comparisons"
    ),
    "skip": N_("Skip to content"),
    "catalogue": N_("Product catalogue"),
    "search": N_("Search"),
    "search_hint": N_("Words in Spanish or English; accents and case do not matter"),
    "filters": N_("Filters"),
    "country": N_("Country"),
    "source": N_("Source"),
    "theme": N_("Theme"),
    "indicator": N_("Indicator"),
    "year": N_("Year"),
    "breakdown": N_("Breakdown"),
    "all": N_("All"),
    "clear_filters": N_("Clear filters"),
    "results": N_("products"),
    "no_results": N_("No product matches the search and filters."),
    "share_view": N_(
        "This page's address keeps the search and filters: copy it to share this view."
    ),
    "regional": N_("Regional comparison"),
    "by_sex": N_("By sex"),
    "by_age": N_("By age group"),
    "other_lang": N_("Español"),
    "other_lang_name": N_("Leer esta página en español"),
    "table": N_("Table"),
    "data_sheet": N_("Data"),
    "graph": N_("Graph"),
    "graph_of": N_("Graph"),
    "data_table": N_("Data of the graph"),
    "downloads": N_("Downloads"),
    "download_csv": N_("Table as CSV"),
    "download_xlsx": N_("Table as Excel (XLSX, Spanish and English)"),
    "download_svg": N_("Graph as SVG"),
    "download_jsonstat": N_("Data as JSON-stat"),
    "nav_builder": N_("Table builder"),
    "nav_api": N_("Open data and API"),
    "counting_unit": N_("Counting unit"),
    "unit": N_("Unit"),
    "flags": N_("Observation flags"),
    "flags_in_product": N_("Flags in this product"),
    "no_flags": N_("none: all figures are definitive"),
    "notes": N_("Notes"),
    "source_label": N_("Source"),
    "extracted": N_("Date of extraction"),
    "back": N_("Back to the catalogue"),
    "product": N_("Product"),
    "definitive": N_("definitive"),
    "computed_total": N_("Totals are sums computed from the figures of the table."),
    "percent_note": N_(
        "Values in percent; the downloadable files give the warehouse's proportion (0-1)."
    ),
    "chart_top": N_("The graph shows the first {n} rows; the table shows them all."),
    "products_count": N_("{n} products"),
    "generated": N_("Generated on"),
    "warehouse": N_("migstat published warehouse"),
    "value": N_("Value"),
    "code": N_("code"),
    "flag": N_("Flag"),
}
"""The site's words by key (templates read them as ``t.<key>``), in English: the msgids."""


class _Words(Mapping[str, dict[str, str]]):
    """``UI[lang]``: the site's words translated into ``lang`` by its catalogue (English when a
    text has no translation)."""

    def __init__(self) -> None:
        self._words: dict[tuple[str, str | None], dict[str, str]] = {}

    def __getitem__(self, lang: str) -> dict[str, str]:
        # Kept per language and home (the user's catalogues live in $MIGSTAT_HOME/locale): the
        # pages and downloads of a publish ask for them tens of thousands of times.
        key = (lang, os.environ.get("MIGSTAT_HOME"))
        words = self._words.get(key)
        if words is None:
            catalogue = translations(lang)
            words = self._words[key] = {k: catalogue.gettext(t) for k, t in MESSAGES.items()}
        return dict(words)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGS)

    def __len__(self) -> int:
        return len(LANGS)


UI: Mapping[str, dict[str, str]] = _Words()


FLAGS: dict[str, tuple[str, str]] = {
    code: (name.es.lower(), name.en.lower()) for code, name in flag_names().items()
}
"""The observation flags' names (declared once: :mod:`migstat.flags`)."""

UNITS: dict[str, str] = {
    "count": N_("number"),
    "share": N_("percent (proportion 0-1 in downloads)"),
    "rate": N_("rate in percent (0-1 in downloads)"),
    "change": N_("change in percent (in downloads, 0.1 = +10 %)"),
}
"""The units of an indicator's value (English msgids)."""

NOT_PERSONS = N_("{unit} (not persons)")
"""Said after the name of a counting unit a reader could take for persons."""


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "es" else pair[1]


def flag_label(letter: str, lang: str) -> str:
    return pick(FLAGS.get(letter, (letter, letter)), lang)


def counting_unit_label(code: str, lang: str) -> str:
    """The counting unit's name (declared in :mod:`migstat.units`), noting "not persons" where a
    reader could take it for persons."""
    name = units.COUNTING_UNITS.get(code)
    if name is None:
        return code
    text = name.get(lang) if lang in LANGS else name.en
    if code in units.NOT_PERSONS:
        return translations(lang).gettext(NOT_PERSONS).format(unit=text)
    return text


def unit_label(code: str, lang: str) -> str:
    return translations(lang).gettext(UNITS[code]) if code in UNITS else code


def fold(text: str) -> str:
    """Lower case without accents, as the catalogue search compares words (same as the JS)."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def format_number(value: float, lang: str, decimals: int = 0) -> str:
    """``1 234 567`` and ``12,5`` in Spanish; ``1,234,567`` and ``12.5`` in English."""
    text = f"{value:,.{decimals}f}"
    if lang == "es":
        return text.replace(",", "\u202f").replace(".", ",")
    return text


def format_value(value: float, lang: str, *, percent: bool, decimals: int) -> str:
    if percent:
        return format_number(value * 100, lang, 1) + "\u00a0%"
    return format_number(value, lang, decimals)
