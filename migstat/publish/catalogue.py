"""The declarative catalogue of statistical products (``products.yml``), as typed objects.

A *product spec* is a standard table (and its graph) defined once: a SQL query against the
published marts, how its rows and columns are titled, which chart draws it. A *scope* says what
one product is made for (a reporting country, source and year; an indicator and year; an
indicator over all years) and lists, with its own query, the parameter sets that exist in the
warehouse. Every spec of a scope is rendered for every parameter set, so every country gets the
same layout. Adapting to new mart columns means editing ``products.yml``, not code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from migstat.errors import SpecError
from migstat.model import Strict, Text

CATALOGUE_FILE = Path(__file__).with_name("products.yml")

ChartType = Literal["bar", "hbar", "stacked_bar", "stacked_hbar", "line"]
Breakdown = Literal["sex", "age"]


class Theme(Strict):
    title: Text
    keywords: Text = Text(es="", en="")
    """Extra words the catalogue search matches (synonyms users type)."""


class Scope(Strict):
    """What one product is made for, and the query that lists the parameter sets that exist."""

    kind: Literal["country", "regional"]
    query: str
    """Returns one row per parameter set; its columns become ``{placeholders}`` and ``$params``."""
    slug: str
    """Product id prefix, e.g. ``{country}-{year}`` (lower-cased)."""
    title: Text
    """Subtitle of every product of this scope, e.g. ``{country_es}, {year}``."""


class Axis(Strict):
    title: Text
    """Header of the row (or column) labels, e.g. Nacionalidad / Nationality."""


class Chart(Strict):
    type: ChartType
    max_rows: int | None = None
    """Draw only the first rows (e.g. the 15 largest nationalities); the table keeps them all."""
    exclude_rows: list[str] = Field(default_factory=list)
    """Row codes not drawn (e.g. the total ``_T``), still in the table."""
    exclude_columns: list[str] = Field(default_factory=list)


class ProductSpec(Strict):
    id: str
    scope: str
    theme: str
    sources: list[str] = Field(default_factory=list)
    """Restricts a country scope to parameter sets of these sources (``source`` of the scope)."""
    title: Text
    description: Text | None = None
    query: str
    """Named parameters ``$name`` come from the scope row. Result columns: ``row_code, row_es,
    row_en`` [``, col_code, col_es, col_en``], ``value, obs_flag, counting_unit`` [``, unit``].
    Rows and columns appear in the order the query returns them."""
    rows: Axis
    columns: Axis | None = None
    value_title: Text = Text(es="Valor", en="Value")
    """Header of the single value column when the query has no ``col_code``."""
    totals: Literal["none", "columns", "rows", "both"] = "none"
    """Totals the publisher adds as sums of the cells (only where the marts give none)."""
    chart: Chart | None = None
    breakdowns: list[Breakdown] = Field(default_factory=list)
    footnotes: list[Text] = Field(default_factory=list)
    keywords: Text = Text(es="", en="")


class Catalogue(Strict):
    themes: dict[str, Theme]
    sources_query: str
    """Returns ``source, title_es, title_en, description_es, description_en``."""
    countries_query: str
    """Returns ``country, name_es, name_en, institution_es, institution_en``."""
    indicators_query: str
    """Returns ``indicator, name_es, name_en, theme`` for the indicator filter."""
    scopes: dict[str, Scope]
    products: list[ProductSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_check(self) -> Catalogue:
        ids = [p.id for p in self.products]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate product ids: {duplicates}")
        for product in self.products:
            if product.scope not in self.scopes:
                raise ValueError(f"product {product.id}: unknown scope {product.scope}")
            if "{" not in product.theme and product.theme not in self.themes:
                raise ValueError(f"product {product.id}: unknown theme {product.theme}")
        return self


@cache
def load_catalogue(path: Path = CATALOGUE_FILE, *, with_defaults: bool = True) -> Catalogue:
    """Read and validate the product catalogue; with the default products of every source spec
    it does not name (:mod:`migstat.publish.defaults`)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        catalogue = Catalogue.model_validate(data)
    except yaml.YAMLError as exc:
        raise SpecError(f"not valid YAML: {exc}", file=str(path)) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SpecError(f"invalid product catalogue: {problems}", file=str(path)) from exc
    if not with_defaults:
        return catalogue
    from migstat.publish.defaults import default_products
    from migstat.specs import load_specs

    named = {source for product in catalogue.products for source in product.sources}
    themes, products = default_products(load_specs(), named, catalogue.themes)
    if not products:
        return catalogue
    return catalogue.model_copy(
        update={
            "themes": {**catalogue.themes, **themes},
            "products": [*catalogue.products, *products],
        }
    )
