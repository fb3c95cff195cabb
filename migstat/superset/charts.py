"""A chart spec as Superset saves it: its form data (``params``) and its ``query_context``.

The query context is what ``/api/v1/chart/<id>/data/`` runs; without it the chart has no data
through the API. Pure: specs in, dicts out.
"""

from __future__ import annotations

import json
from typing import Any

from migstat.superset.spec import ChartSpec, Project


def filter_operator(value: bool | int | str | list[str]) -> str:
    """The Superset operator of a fixed chart filter: IN for lists, IS TRUE/FALSE for booleans."""
    if isinstance(value, bool):
        return "IS TRUE" if value else "IS FALSE"
    return "IN" if isinstance(value, list) else "=="


def _simple_filter(column: str, value: bool | int | str | list[str]) -> dict[str, Any]:
    return {
        "clause": "WHERE",
        "expressionType": "SIMPLE",
        "subject": column,
        "operator": filter_operator(value),
        "comparator": None if isinstance(value, bool) else value,
        "isExtra": False,
        "isNew": False,
        "filterOptionName": f"filter_{column}",
    }


def query_filters(chart: ChartSpec) -> list[dict[str, Any]]:
    """The chart's fixed filters as a query object's ``filters``."""
    filters: list[dict[str, Any]] = []
    for column, value in chart.where.items():
        item: dict[str, Any] = {"col": column, "op": filter_operator(value)}
        if not isinstance(value, bool):
            item["val"] = value
        filters.append(item)
    return filters


def _number_format(project: Project, chart: ChartSpec) -> str:
    if chart.percent:
        return ".1%"
    metrics = {metric.name: metric for metric in project.datasets[chart.dataset].metrics}
    formats = {metrics[name].format for name in chart.metrics}
    return formats.pop() if len(formats) == 1 else "SMART_NUMBER"


def chart_params(project: Project, chart: ChartSpec, slug: str, key: str) -> dict[str, Any]:
    """The ``params`` (form data) of a chart, as Explore would save them."""
    number_format = _number_format(project, chart)
    params: dict[str, Any] = {
        "datasource": f"{chart.dataset}__table",
        "adhoc_filters": [_simple_filter(col, val) for col, val in chart.where.items()],
        "row_limit": chart.limit,
        "extra_form_data": {},
        "dashboards": [],
    }
    if chart.viz == "big_number":
        params |= {
            "viz_type": "big_number_total",
            "metric": chart.metrics[0],
            "subheader": "",
            "header_font_size": 0.4,
            "subheader_font_size": 0.15,
            "y_axis_format": number_format,
            "time_format": "smart_date",
        }
    elif chart.viz in {"bar", "line"}:
        x = chart.x or ""
        temporal = project.dataset_columns(chart.dataset)[x].temporal
        params |= {
            "viz_type": "echarts_timeseries_bar"
            if chart.viz == "bar"
            else "echarts_timeseries_line",
            "x_axis": x,
            "metrics": chart.metrics,
            "groupby": chart.series,
            "orientation": "horizontal" if chart.horizontal else "vertical",
            "stack": "Stack" if chart.stacked else None,
            "order_desc": True,
            "show_legend": True,
            "legendType": "scroll",
            "legendOrientation": "top",
            "rich_tooltip": True,
            "y_axis_format": number_format,
            "truncate_metric": True,
            "show_value": chart.percent and chart.viz == "bar",
            "zoomable": False,
            "markerEnabled": chart.viz == "line",
            "emitCrossFilters": True,
            "sort_series_type": "sum",
            "sort_series_ascending": False,
            "x_axis_title_margin": 15,
            "y_axis_title_margin": 15,
            "y_axis_title_position": "Left",
        }
        if temporal:
            params["time_grain_sqla"] = "P1M"
            params["x_axis_time_format"] = "%Y-%m"
        if chart.order_by:
            first, ascending = chart.order_by[0]
            params["x_axis_sort"] = first
            # Horizontal bars draw the first category at the bottom: flip, so rank 1 is on top.
            params["x_axis_sort_asc"] = ascending != chart.horizontal
        elif not temporal:
            params["x_axis_sort_asc"] = True
        if not temporal:
            params["xAxisForceCategorical"] = True
    elif chart.viz == "pie":
        params |= {
            "viz_type": "pie",
            "groupby": chart.columns,
            "metric": chart.metrics[0],
            "number_format": number_format,
            "label_type": "key_percent",
            "show_labels": True,
            "show_legend": True,
            "legendType": "scroll",
            "donut": True,
            "sort_by_metric": True,
            "emitCrossFilters": True,
        }
    elif chart.viz == "table":
        params |= {
            "viz_type": "table",
            "query_mode": "aggregate",
            "groupby": chart.columns,
            "metrics": chart.metrics,
            "all_columns": [],
            "percent_metrics": [],
            "order_by_cols": [],
            "timeseries_limit_metric": chart.metrics[0] if chart.metrics else None,
            "order_desc": not (chart.order_by and chart.order_by[0][1]),
            "include_search": True,
            "show_cell_bars": True,
            "table_timestamp_format": "smart_date",
            "server_pagination": False,
            "emitCrossFilters": True,
        }
    else:
        params |= {
            "viz_type": "table",
            "query_mode": "raw",
            "groupby": [],
            "metrics": [],
            "all_columns": chart.columns,
            "percent_metrics": [],
            "order_by_cols": [json.dumps([col, asc]) for col, asc in chart.order_by],
            "include_search": True,
            "table_timestamp_format": "smart_date",
            "server_pagination": False,
            "emitCrossFilters": False,
        }
    params["slice_id"] = None
    params["dashboard_key"] = f"{slug}/{key}"
    return params


def query_object(chart: ChartSpec) -> dict[str, Any]:
    """The one query of a chart's ``query_context``: what ``/api/v1/chart/<id>/data/`` runs."""
    orderby: list[list[Any]] = [[name, ascending] for name, ascending in chart.order_by]
    if not orderby and chart.metrics and chart.viz != "big_number":
        orderby = [[chart.metrics[0], False]]
    query: dict[str, Any] = {
        "filters": query_filters(chart),
        "extras": {"having": "", "where": ""},
        "applied_time_extras": {},
        "columns": chart.dimensions(),
        "metrics": chart.metrics,
        "orderby": orderby,
        "annotation_layers": [],
        "row_limit": chart.limit,
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
        "post_processing": [],
    }
    if chart.viz == "raw_table":
        query["metrics"] = []
    return query


def query_context(params: dict[str, Any], chart: ChartSpec) -> dict[str, Any]:
    return {
        "datasource": {"id": 0, "type": "table"},
        "force": False,
        "queries": [query_object(chart)],
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }
