"""Default products of a source that ``products.yml`` does not name: one standard table per sheet
of its template, from ``marts.fct_observations``, titled as the layout titles the sheet.

A new source is published as soon as it is loaded and accepted; writing products of its own in
``products.yml`` (with ``sources: [<source>]``) replaces these defaults.
"""

from __future__ import annotations

from migstat.publish.catalogue import Axis, Chart, ProductSpec, Text, Theme
from migstat.specs import SheetLayout, SourceSpec, Specs


def _labels(codelist: str) -> str:
    """A relation ``(code, name_es, name_en, sort_order)`` with the labels of a code list."""
    if codelist == "countries":
        return "(select code, name_es, name_en, 0 as sort_order from codes.countries)"
    if codelist == "ports":
        return (
            "(select port_code as code, name as name_es, name as name_en, 0 as sort_order "
            "from codes.ports)"
        )
    return (
        "(select code, name_es, name_en, sort_order from codes.code_lists "
        f"where codelist = '{codelist}')"
    )


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _code(dimension: str) -> str:
    """The code of a dimension in ``marts.fct_observations`` (months are integers there)."""
    if dimension == "month":
        return "lpad(cast(o.month as varchar), 2, '0')"
    return f"o.{dimension}_code"


def sheet_query(source: SourceSpec, sheet: SheetLayout) -> str:
    """The product query of one template sheet: its row dimension (and first column dimension)
    against the sum of its published detail cells."""
    row = sheet.rows.dimension
    column = sheet.columns.dimensions[0] if sheet.columns.dimensions else None
    select = [
        f"{_code(row)} as row_code",
        f"coalesce(any_value(r.name_es), {_code(row)}) as row_es",
        f"coalesce(any_value(r.name_en), {_code(row)}) as row_en",
    ]
    joins = [f"left join {_labels(source.dimensions[row].codelist)} as r on r.code = {_code(row)}"]
    group = [_code(row)]
    order = ["any_value(r.sort_order) nulls last", _code(row)]
    if column is not None:
        select += [
            f"{_code(column)} as col_code",
            f"coalesce(any_value(c.name_es), {_code(column)}) as col_es",
            f"coalesce(any_value(c.name_en), {_code(column)}) as col_en",
        ]
        codelist = source.dimensions[column].codelist
        joins.append(f"left join {_labels(codelist)} as c on c.code = {_code(column)}")
        group.append(_code(column))
        order += ["any_value(c.sort_order) nulls last", _code(column)]
    select += [
        "sum(o.value) as value",
        "nullif(string_agg(distinct o.obs_flag, '' order by o.obs_flag), '') as obs_flag",
        "any_value(o.counting_unit) as counting_unit",
    ]
    where = [
        "o.reporting_country_code = $country",
        "o.year = $year",
        f"o.source = {_quoted(source.id)}",
        f"o.sheet = {_quoted(sheet.name)}",
    ]
    return (
        f"select {', '.join(select)}\n"
        f"from marts.fct_observations as o\n{chr(10).join(joins)}\n"
        f"where {' and '.join(where)}\n"
        f"group by {', '.join(group)}\n"
        f"order by {', '.join(order)}\n"
    )


def default_products(
    specs: Specs, named: set[str], themes: dict[str, Theme]
) -> tuple[dict[str, Theme], list[ProductSpec]]:
    """Themes and products for every source in ``specs`` that no product in ``named`` covers
    (a template layout sheet whose name is not a regular expression makes one product)."""
    new_themes: dict[str, Theme] = {}
    products: list[ProductSpec] = []
    for source_id in sorted(set(specs.sources) - named):
        source = specs.sources[source_id]
        theme = source_id if source_id not in themes else f"{source_id}-source"
        new_themes[theme] = Theme(title=Text(es=source.title.es, en=source.title.en))
        layout = specs.template_layout(source_id)
        for sheet in layout.sheets:
            if sheet.name_regex:
                continue
            row = source.dimensions[sheet.rows.dimension]
            columns = [source.dimensions[d] for d in sheet.columns.dimensions[:1]]
            products.append(
                ProductSpec(
                    id=f"{source_id}-{sheet.name}".lower().replace("_", "-"),
                    scope="country_source_year",
                    sources=[source_id],
                    theme=theme,
                    title=Text(es=sheet.title.es, en=sheet.title.en),
                    query=sheet_query(source, sheet),
                    rows=Axis(title=Text(es=row.title.es, en=row.title.en)),
                    columns=(
                        Axis(title=Text(es=columns[0].title.es, en=columns[0].title.en))
                        if columns
                        else None
                    ),
                    totals="both" if columns else "rows",
                    chart=Chart(type="stacked_bar" if columns else "bar"),
                )
            )
    return new_themes, products
