"""Dashboards as code: readable YAML in ``superset/dashboards/`` -> Superset's v1 import bundle.

The YAML is written for people: a dataset names its mart, the labels and metrics dashboards use;
a dashboard names its native filters, its rows of charts and, per chart, a viz kind, a dataset,
metrics and dimensions. This module expands that into the verbose files Superset imports
(``metadata.yaml``, ``databases/``, ``datasets/``, ``charts/`` with their ``query_context``,
``dashboards/`` with ``position`` and native filters), with deterministic UUIDs so that a
re-import updates the same objects. Parsing is pure: YAML in, files out.

Column lists come from the marts contract (``models/marts/<domain>/_<domain>__models.yml``:
names and descriptions), so a dataset never lists a column the warehouse does not have.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from migstat.errors import MigstatError
from migstat.home import PROJECT_ROOT

DASHBOARDS_DIR = Path(
    os.environ.get("MIGSTAT_SUPERSET_DASHBOARDS", PROJECT_ROOT / "superset" / "dashboards")
)
MARTS_CONTRACT = PROJECT_ROOT / "models" / "marts"
UUID_NAMESPACE = uuid.UUID("6f1c52a4-6c1e-4d0b-9a39-3f6b0c1b7a11")
BUNDLE_ROOT = "migstat_dashboards"
# Fixed, so that the same YAML always gives the same bytes (and the same hash).
BUNDLE_TIMESTAMP = "2026-01-01T00:00:00+00:00"
ZIP_DATE = (2026, 1, 1, 0, 0, 0)
SCHEMA = "marts"

Viz = Literal["big_number", "bar", "line", "pie", "table", "raw_table"]


class BundleError(MigstatError):
    """The dashboards YAML is inconsistent (unknown dataset, column or metric)."""


def stable_uuid(kind: str, key: str) -> str:
    """The same object always gets the same UUID, so re-imports update it in place."""
    return str(uuid.uuid5(UUID_NAMESPACE, f"{kind}:{key}"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    name: str
    label: str | None = None
    type: str | None = None
    expression: str | None = None
    temporal: bool = False
    description: str | None = None


class MetricSpec(_Strict):
    name: str
    expression: str
    label: str
    format: str = ",d"
    description: str | None = None


class DatasetSpec(_Strict):
    table: str
    description: str | None = None
    columns: list[ColumnSpec] = Field(default_factory=list)
    metrics: list[MetricSpec]


class ChartSpec(_Strict):
    title: str
    viz: Viz
    dataset: str
    metrics: list[str] = Field(default_factory=list)
    x: str | None = None
    series: list[str] = Field(default_factory=list)
    columns: list[str] = Field(default_factory=list)
    where: dict[str, bool | int | str | list[str]] = Field(default_factory=dict)
    order_by: list[tuple[str, bool]] = Field(
        default_factory=list, description="(column or metric, ascending) pairs"
    )
    horizontal: bool = False
    stacked: bool = False
    percent: bool = False
    limit: int = 1000
    width: int = 6
    height: int = 50
    description: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> ChartSpec:
        if self.viz in {"big_number", "pie"} and len(self.metrics) != 1:
            raise ValueError(f"{self.viz} takes exactly one metric")
        if self.viz in {"bar", "line"} and not self.x:
            raise ValueError(f"{self.viz} needs x")
        if self.viz == "pie" and len(self.columns) != 1:
            raise ValueError("pie takes exactly one column")
        if self.viz == "raw_table" and (self.metrics or not self.columns):
            raise ValueError("raw_table takes columns and no metrics")
        return self

    def dimensions(self) -> list[str]:
        """The group-by columns of the query, in order."""
        if self.viz in {"bar", "line"}:
            return [self.x or "", *self.series]
        if self.viz == "big_number":
            return []
        return list(self.columns)


class FilterSpec(_Strict):
    key: str
    label: str
    column: str
    dataset: str
    multi: bool = True
    exclude: list[str] = Field(
        default_factory=list,
        description="charts the filter must skip although their dataset has the column",
    )


class DashboardSpec(_Strict):
    slug: str
    title: str
    description: str | None = None
    note: str | None = None
    filters: list[FilterSpec] = Field(default_factory=list)
    rows: list[list[str]]
    charts: dict[str, ChartSpec]

    @model_validator(mode="after")
    def _layout(self) -> DashboardSpec:
        placed = [key for row in self.rows for key in row]
        missing = sorted(set(placed) - set(self.charts))
        unplaced = sorted(set(self.charts) - set(placed))
        if missing or unplaced or len(placed) != len(set(placed)):
            raise ValueError(f"rows and charts disagree: missing {missing}, unplaced {unplaced}")
        for row in self.rows:
            width = sum(self.charts[key].width for key in row)
            if width > 12:
                raise ValueError(f"row {row} is {width} columns wide (at most 12)")
        return self


class DatabaseSpec(_Strict):
    key: str
    name: str


class Project(_Strict):
    """Everything in ``superset/dashboards/``, cross-checked."""

    database: DatabaseSpec
    datasets: dict[str, DatasetSpec]
    dashboards: list[DashboardSpec]
    contract: dict[str, dict[str, str]]
    """Mart -> column -> description, from the marts contract."""
    types: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Mart -> column -> SQL type, read from the published warehouse when there is one."""

    def with_types(self, types: dict[str, dict[str, str]]) -> Project:
        return self.model_copy(update={"types": types})

    def column_sql_type(self, table: str, column: ColumnSpec) -> str:
        if column.type:
            return column.type
        if column.temporal:
            return "DATE"
        return self.types.get(table, {}).get(column.name) or column_type(column.name)

    def dataset_columns(self, table: str) -> dict[str, ColumnSpec]:
        """Every column of a dataset: the contract's, completed by the dataset YAML."""
        dataset = self.datasets[table]
        columns = {
            name: ColumnSpec(name=name, description=description)
            for name, description in self.contract.get(table, {}).items()
        }
        for column in dataset.columns:
            base = columns.get(column.name)
            merged = column.model_dump(exclude_none=True)
            if base is not None:
                merged = {**base.model_dump(exclude_none=True), **merged}
            columns[column.name] = ColumnSpec(**merged)
        return columns

    def check(self) -> Project:
        for table, dataset in self.datasets.items():
            if table not in self.contract and not dataset.columns:
                raise BundleError(f"dataset {table}: not in the marts contract and no columns")
            for column in dataset.columns:
                if (
                    table in self.contract
                    and column.expression is None
                    and column.name not in self.contract[table]
                ):
                    raise BundleError(f"dataset {table}: column {column.name} is not in the mart")
        for dashboard in self.dashboards:
            for key, chart in dashboard.charts.items():
                where = f"dashboard {dashboard.slug}, chart {key}"
                if chart.dataset not in self.datasets:
                    raise BundleError(f"{where}: unknown dataset {chart.dataset}")
                columns = self.dataset_columns(chart.dataset)
                metrics = {metric.name for metric in self.datasets[chart.dataset].metrics}
                for name in [*chart.dimensions(), *chart.where]:
                    if name not in columns:
                        raise BundleError(f"{where}: {chart.dataset} has no column {name}")
                for name in chart.metrics:
                    if name not in metrics:
                        raise BundleError(f"{where}: {chart.dataset} has no metric {name}")
                for name, _ in chart.order_by:
                    if name not in columns and name not in metrics:
                        raise BundleError(f"{where}: cannot order by {name}")
            for spec in dashboard.filters:
                if spec.dataset not in self.datasets:
                    raise BundleError(f"dashboard {dashboard.slug}: unknown dataset {spec.dataset}")
                unknown = sorted(set(spec.exclude) - set(dashboard.charts))
                if unknown:
                    raise BundleError(
                        f"dashboard {dashboard.slug}, filter {spec.key}: unknown charts {unknown}"
                    )
                if spec.column not in self.dataset_columns(spec.dataset):
                    raise BundleError(
                        f"dashboard {dashboard.slug}, filter {spec.key}: "
                        f"{spec.dataset} has no column {spec.column}"
                    )
        return self


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise BundleError(f"invalid YAML: {error}", file=str(path)) from error


def read_contract(path: Path = MARTS_CONTRACT) -> dict[str, dict[str, str]]:
    """Mart -> column -> description, from the dbt marts YAML (a file, or every domain folder's
    ``_<domain>__models.yml`` under a folder; empty when absent)."""
    paths = sorted(path.glob("*/_*__models.yml")) if path.is_dir() else [path]
    contract: dict[str, dict[str, str]] = {}
    for file in (file for file in paths if file.exists()):
        document = _read_yaml(file) or {}
        for model in document.get("models", []):
            contract[model["name"]] = {
                column["name"]: str(column.get("description") or "").strip()
                for column in model.get("columns", [])
            }
    return contract


def load_project(folder: Path = DASHBOARDS_DIR, contract_path: Path = MARTS_CONTRACT) -> Project:
    """Read and cross-check the dashboards YAML."""
    try:
        database = DatabaseSpec(**_read_yaml(folder / "database.yml"))
        datasets = {}
        for path in sorted((folder / "datasets").glob("*.yml")):
            dataset = DatasetSpec(**_read_yaml(path))
            datasets[dataset.table] = dataset
        dashboards = [
            DashboardSpec(**_read_yaml(path))
            for path in sorted((folder / "dashboards").glob("*.yml"))
        ]
    except (TypeError, ValueError) as error:
        raise BundleError(f"invalid dashboards YAML: {error}", file=str(folder)) from error
    project = Project(
        database=database,
        datasets=datasets,
        dashboards=dashboards,
        contract=read_contract(contract_path),
    )
    return project.check()


# ---------------------------------------------------------------------- types

_INTEGER_NAMES = {"year", "month", "quarter", "submission_id", "superseded_by_submission_id"}
_INTEGER_SUFFIXES = ("_count", "_rank", "rank_among_foreigners", "sort_order", "age_from", "age_to")
_DOUBLE_NAMES = {
    "value",
    "movements",
    "year_movements",
    "permits",
    "applications",
    "returnees",
    "presentations",
    "share",
}
_DOUBLE_PREFIXES = ("entries_", "exits_", "net_balance", "decisions_")
_DOUBLE_SUFFIXES = ("_share", "_rate", "_change", "share_of_total", "share_of_foreigners")


def column_type(name: str) -> str:
    """The SQL type a mart column has, by the naming conventions of the marts."""
    if name.startswith(("is_", "has_")):
        return "BOOLEAN"
    if name.endswith("_at"):
        return "TIMESTAMP"
    if name.endswith("_date"):
        return "DATE"
    if name in _INTEGER_NAMES or name.endswith(_INTEGER_SUFFIXES):
        return "BIGINT"
    if (
        name in _DOUBLE_NAMES
        or name.endswith(_DOUBLE_SUFFIXES)
        or name.startswith("share_of")
        or (name.startswith(_DOUBLE_PREFIXES) and not name.endswith("counting_unit"))
    ):
        return "DOUBLE"
    return "VARCHAR"


# ---------------------------------------------------------------------- Superset files


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


def database_file(project: Project, sqlalchemy_uri: str, sql_lab: bool = False) -> dict[str, Any]:
    """The warehouse database: read-only and locked (no file access, settings locked); hidden
    from SQL Lab unless ``sql_lab`` (``migstat superset up --sql-lab``)."""
    from migstat.readonly import duckdb_engine_connect_args

    return {
        "database_name": project.database.name,
        "sqlalchemy_uri": sqlalchemy_uri,
        "cache_timeout": None,
        "expose_in_sqllab": sql_lab,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        "extra": {
            "engine_params": {"connect_args": duckdb_engine_connect_args()},
            "metadata_params": {},
            "schemas_allowed_for_file_upload": [],
        },
        "impersonate_user": False,
        "uuid": stable_uuid("database", project.database.key),
        "version": "1.0.0",
    }


def dataset_file(project: Project, table: str) -> dict[str, Any]:
    dataset = project.datasets[table]
    columns = []
    for column in project.dataset_columns(table).values():
        columns.append(
            {
                "column_name": column.name,
                "verbose_name": column.label,
                "is_dttm": column.temporal,
                "is_active": True,
                "type": project.column_sql_type(table, column),
                "advanced_data_type": None,
                "groupby": True,
                "filterable": True,
                "expression": column.expression,
                "description": column.description or None,
                "python_date_format": None,
                "extra": {},
            }
        )
    metrics = [
        {
            "metric_name": metric.name,
            "verbose_name": metric.label,
            "metric_type": None,
            "expression": metric.expression,
            "description": metric.description,
            "d3format": metric.format,
            "currency": None,
            "extra": {},
            "warning_text": None,
        }
        for metric in dataset.metrics
    ]
    temporal = [column["column_name"] for column in columns if column["is_dttm"]]
    return {
        "table_name": table,
        "main_dttm_col": temporal[0] if temporal else None,
        "description": dataset.description,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "catalog": None,
        "schema": SCHEMA,
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": stable_uuid("dataset", table),
        "metrics": metrics,
        "columns": columns,
        "version": "1.0.0",
        "database_uuid": stable_uuid("database", project.database.key),
    }


def chart_uuid(slug: str, key: str) -> str:
    return stable_uuid("chart", f"{slug}/{key}")


def chart_file(project: Project, slug: str, key: str, chart: ChartSpec) -> dict[str, Any]:
    params = chart_params(project, chart, slug, key)
    return {
        "slice_name": chart.title,
        "description": chart.description,
        "certified_by": None,
        "certification_details": None,
        "viz_type": params["viz_type"],
        "params": params,
        "query_context": json.dumps(query_context(params, chart), sort_keys=True),
        "cache_timeout": None,
        "uuid": chart_uuid(slug, key),
        "version": "1.0.0",
        "dataset_uuid": stable_uuid("dataset", chart.dataset),
    }


def _chart_ids(project: Project) -> dict[tuple[str, str], int]:
    """Bundle-local chart ids (the importer maps them to real ones through ``position``)."""
    ids: dict[tuple[str, str], int] = {}
    for dashboard in project.dashboards:
        for key in (key for row in dashboard.rows for key in row):
            ids[(dashboard.slug, key)] = len(ids) + 1
    return ids


def _excluded(
    project: Project,
    dashboard: DashboardSpec,
    column: str,
    ids: dict[tuple[str, str], int],
    source_key: str | None = None,
) -> list[int]:
    """Charts a filter on ``column`` must skip: their dataset has no such column."""
    return sorted(
        ids[(dashboard.slug, key)]
        for key, chart in dashboard.charts.items()
        if key == source_key or column not in project.dataset_columns(chart.dataset)
    )


def native_filter(
    project: Project, dashboard: DashboardSpec, spec: FilterSpec, ids: dict[tuple[str, str], int]
) -> dict[str, Any]:
    return {
        "id": f"NATIVE_FILTER-{dashboard.slug}-{spec.key}",
        "name": spec.label,
        "filterType": "filter_select",
        "type": "NATIVE_FILTER",
        "description": "",
        "targets": [
            {"column": {"name": spec.column}, "datasetUuid": stable_uuid("dataset", spec.dataset)}
        ],
        "controlValues": {
            "enableEmptyFilter": False,
            "defaultToFirstItem": False,
            "multiSelect": spec.multi,
            "searchAllOptions": False,
            "inverseSelection": False,
        },
        "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
        "cascadeParentIds": [],
        "scope": {
            "rootPath": ["ROOT_ID"],
            "excluded": sorted(
                {
                    *_excluded(project, dashboard, spec.column, ids),
                    *(ids[(dashboard.slug, key)] for key in spec.exclude),
                }
            ),
        },
        "tabsInScope": [],
    }


def _cross_filter_column(chart: ChartSpec) -> str | None:
    if chart.viz in {"bar", "line"}:
        return chart.x
    if chart.viz in {"pie", "table"} and chart.columns:
        return chart.columns[0]
    return None


def dashboard_file(
    project: Project, dashboard: DashboardSpec, ids: dict[tuple[str, str], int]
) -> dict[str, Any]:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": dashboard.title}},
    }
    grid = position["GRID_ID"]["children"]
    if dashboard.note:
        grid.append("ROW-note")
        position["ROW-note"] = {
            "type": "ROW",
            "id": "ROW-note",
            "children": ["MARKDOWN-note"],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        position["MARKDOWN-note"] = {
            "type": "MARKDOWN",
            "id": "MARKDOWN-note",
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID", "ROW-note"],
            "meta": {"width": 12, "height": 12, "code": dashboard.note},
        }
    for number, row in enumerate(dashboard.rows, 1):
        row_id = f"ROW-{number}"
        grid.append(row_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [f"CHART-{key}" for key in row],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for key in row:
            chart = dashboard.charts[key]
            position[f"CHART-{key}"] = {
                "type": "CHART",
                "id": f"CHART-{key}",
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {
                    "chartId": ids[(dashboard.slug, key)],
                    "width": chart.width,
                    "height": chart.height,
                    "uuid": chart_uuid(dashboard.slug, key),
                    "sliceName": chart.title,
                },
            }
    chart_configuration = {}
    for key, chart in dashboard.charts.items():
        column = _cross_filter_column(chart)
        if column is None:
            continue
        chart_id = ids[(dashboard.slug, key)]
        chart_configuration[str(chart_id)] = {
            "id": chart_id,
            "crossFilters": {
                "scope": {
                    "rootPath": ["ROOT_ID"],
                    "excluded": _excluded(project, dashboard, column, ids, source_key=key),
                }
            },
        }
    return {
        "dashboard_title": dashboard.title,
        "description": dashboard.description,
        "css": "",
        "slug": dashboard.slug,
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": stable_uuid("dashboard", dashboard.slug),
        "position": position,
        "metadata": {
            "native_filter_configuration": [
                native_filter(project, dashboard, spec, ids) for spec in dashboard.filters
            ],
            "cross_filters_enabled": True,
            "chart_configuration": chart_configuration,
            "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []}},
            "color_scheme": "supersetColors",
            "refresh_frequency": 0,
            "expanded_slices": {},
            "label_colors": {},
            "shared_label_colors": [],
            "color_scheme_domain": [],
            "timed_refresh_immune_slices": [],
            "default_filters": "{}",
            "filter_scopes": {},
        },
        "version": "1.0.0",
    }


def bundle_files(
    project: Project, sqlalchemy_uri: str, sql_lab: bool = False
) -> dict[str, dict[str, Any]]:
    """Every file of the v1 bundle (path inside the root folder -> YAML content)."""
    files: dict[str, dict[str, Any]] = {
        "metadata.yaml": {"version": "1.0.0", "type": "Dashboard", "timestamp": BUNDLE_TIMESTAMP},
        f"databases/{project.database.key}.yaml": database_file(project, sqlalchemy_uri, sql_lab),
    }
    for table in project.datasets:
        files[f"datasets/{project.database.key}/{table}.yaml"] = dataset_file(project, table)
    ids = _chart_ids(project)
    for dashboard in project.dashboards:
        for key, chart in dashboard.charts.items():
            files[f"charts/{dashboard.slug}__{key}.yaml"] = chart_file(
                project, dashboard.slug, key, chart
            )
        files[f"dashboards/{dashboard.slug}.yaml"] = dashboard_file(project, dashboard, ids)
    return files


def _dump(content: dict[str, Any]) -> bytes:
    return yaml.safe_dump(content, sort_keys=False, allow_unicode=True).encode("utf-8")


def write_bundle(files: dict[str, dict[str, Any]], target: Path) -> str:
    """Write the zip deterministically; return the sha256 of its bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{BUNDLE_ROOT}/{name}", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _dump(files[name]))
    data = buffer.getvalue()
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(target)
    return hashlib.sha256(data).hexdigest()


def warehouse_types(path: Path) -> dict[str, dict[str, str]]:
    """Mart -> column -> DuckDB type, read from a warehouse file (opened read-only)."""
    from migstat.readonly import connect_read_only

    with connect_read_only(path) as con:
        rows = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = ? order by table_name, ordinal_position",
            [SCHEMA],
        ).fetchall()
    types: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        types.setdefault(str(table), {})[str(column)] = str(data_type)
    return types


def duckdb_uri(path: Path) -> str:
    """SQLAlchemy URI of a DuckDB file (absolute path: four slashes)."""
    return f"duckdb:///{path.resolve()}"


def managed_uuids(files: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """UUIDs of the objects the bundle owns, by kind (to remove what the YAML dropped)."""
    kinds: dict[str, list[str]] = {"databases": [], "datasets": [], "charts": [], "dashboards": []}
    for name, content in files.items():
        kind = name.split("/", 1)[0]
        if kind in kinds:
            kinds[kind].append(content["uuid"])
    return {kind: sorted(values) for kind, values in kinds.items()}


def iter_charts(project: Project) -> Iterable[tuple[DashboardSpec, str, ChartSpec]]:
    for dashboard in project.dashboards:
        for row in dashboard.rows:
            for key in row:
                yield dashboard, key, dashboard.charts[key]
