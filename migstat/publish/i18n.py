"""Words and number formats of the published pages, Spanish first."""

from __future__ import annotations

import unicodedata

from migstat import units
from migstat.flags import flag_names

LANGS = ("es", "en")

UI: dict[str, dict[str, str]] = {
    "es": {
        "site_title": "Estadísticas de migración: productos estadísticos",
        "site_subtitle": (
            "Cuadros y gráficos estándar por país y fuente, y comparaciones regionales"
        ),
        "skip": "Saltar al contenido",
        "catalogue": "Catálogo de productos",
        "search": "Buscar",
        "search_hint": "Palabras en español o inglés; sin importar tildes ni mayúsculas",
        "filters": "Filtros",
        "country": "País",
        "source": "Fuente",
        "theme": "Tema",
        "indicator": "Indicador",
        "year": "Año",
        "breakdown": "Desagregación",
        "all": "Todos",
        "clear_filters": "Borrar filtros",
        "results": "productos",
        "no_results": "Ningún producto coincide con la búsqueda y los filtros.",
        "share_view": (
            "La dirección de esta página guarda la búsqueda y los "
            "filtros: cópiela para compartir esta vista."
        ),
        "regional": "Comparación regional",
        "by_sex": "Por sexo",
        "by_age": "Por grupo de edad",
        "other_lang": "English",
        "other_lang_name": "Read this page in English",
        "table": "Cuadro",
        "data_sheet": "Datos",
        "graph": "Gráfico",
        "graph_of": "Gráfico",
        "data_table": "Datos del gráfico",
        "downloads": "Descargas",
        "download_csv": "Cuadro en CSV",
        "download_xlsx": "Cuadro en Excel (XLSX, español e inglés)",
        "download_svg": "Gráfico en SVG",
        "download_jsonstat": "Datos en JSON-stat",
        "nav_builder": "Constructor de tablas",
        "nav_api": "Datos abiertos y API",
        "counting_unit": "Unidad de conteo",
        "unit": "Unidad",
        "flags": "Marcas de observación",
        "flags_in_product": "Marcas en este producto",
        "no_flags": "ninguna: todas las cifras son definitivas",
        "notes": "Notas",
        "source_label": "Fuente",
        "extracted": "Fecha de extracción",
        "back": "Volver al catálogo",
        "product": "Producto",
        "definitive": "definitiva",
        "computed_total": "Los totales son sumas calculadas de las cifras del cuadro.",
        "percent_note": (
            "Valores en porcentaje; los archivos descargables dan la proporción (0-1) del almacén."
        ),
        "chart_top": "El gráfico muestra las {n} primeras filas; el cuadro las muestra todas.",
        "products_count": "{n} productos",
        "generated": "Generado el",
        "warehouse": "almacén publicado de migstat",
        "value": "Valor",
        "code": "código",
        "flag": "Marca",
    },
    "en": {
        "site_title": "Migration statistics: statistical products",
        "site_subtitle": (
            "Standard tables and graphs by country and source, and regional comparisons"
        ),
        "skip": "Skip to content",
        "catalogue": "Product catalogue",
        "search": "Search",
        "search_hint": "Words in Spanish or English; accents and case do not matter",
        "filters": "Filters",
        "country": "Country",
        "source": "Source",
        "theme": "Theme",
        "indicator": "Indicator",
        "year": "Year",
        "breakdown": "Breakdown",
        "all": "All",
        "clear_filters": "Clear filters",
        "results": "products",
        "no_results": "No product matches the search and filters.",
        "share_view": (
            "This page's address keeps the search and filters: copy it to share this view."
        ),
        "regional": "Regional comparison",
        "by_sex": "By sex",
        "by_age": "By age group",
        "other_lang": "Español",
        "other_lang_name": "Leer esta página en español",
        "table": "Table",
        "data_sheet": "Data",
        "graph": "Graph",
        "graph_of": "Graph",
        "data_table": "Data of the graph",
        "downloads": "Downloads",
        "download_csv": "Table as CSV",
        "download_xlsx": "Table as Excel (XLSX, Spanish and English)",
        "download_svg": "Graph as SVG",
        "download_jsonstat": "Data as JSON-stat",
        "nav_builder": "Table builder",
        "nav_api": "Open data and API",
        "counting_unit": "Counting unit",
        "unit": "Unit",
        "flags": "Observation flags",
        "flags_in_product": "Flags in this product",
        "no_flags": "none: all figures are definitive",
        "notes": "Notes",
        "source_label": "Source",
        "extracted": "Date of extraction",
        "back": "Back to the catalogue",
        "product": "Product",
        "definitive": "definitive",
        "computed_total": "Totals are sums computed from the figures of the table.",
        "percent_note": (
            "Values in percent; the downloadable files give the warehouse's proportion (0-1)."
        ),
        "chart_top": "The graph shows the first {n} rows; the table shows them all.",
        "products_count": "{n} products",
        "generated": "Generated on",
        "warehouse": "migstat published warehouse",
        "value": "Value",
        "code": "code",
        "flag": "Flag",
    },
}

FLAGS: dict[str, tuple[str, str]] = {
    code: (name.es.lower(), name.en.lower()) for code, name in flag_names().items()
}
"""The observation flags' names (declared once: :mod:`migstat.flags`)."""

COUNTING_UNITS: dict[str, tuple[str, str]] = {
    code: (f"{name.es} (no personas)", f"{name.en} (not persons)")
    if code in units.NOT_PERSONS
    else (name.es, name.en)
    for code, name in units.COUNTING_UNITS.items()
}

UNITS: dict[str, tuple[str, str]] = {
    "count": ("número", "number"),
    "share": (
        "porcentaje (proporción 0-1 en las descargas)",
        "percent (proportion 0-1 in downloads)",
    ),
    "rate": ("tasa en porcentaje (0-1 en las descargas)", "rate in percent (0-1 in downloads)"),
    "change": (
        "variación en porcentaje (0,1 = +10 % en las descargas)",
        "change in percent (0.1 = +10 % in downloads)",
    ),
}


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "es" else pair[1]


def flag_label(letter: str, lang: str) -> str:
    return pick(FLAGS.get(letter, (letter, letter)), lang)


def counting_unit_label(code: str, lang: str) -> str:
    return pick(COUNTING_UNITS.get(code, (code, code)), lang)


def unit_label(code: str, lang: str) -> str:
    return pick(UNITS.get(code, (code, code)), lang)


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
