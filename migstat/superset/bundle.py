"""Superset's v1 import bundle from the dashboards specs, written as a deterministic zip.

:func:`bundle_files` expands a :class:`~migstat.superset.spec.Project` into the files Superset
imports (``metadata.yaml`` of type ``assets``, ``databases/``, ``datasets/``, ``charts/`` with
their ``query_context``, ``dashboards/`` with ``position`` and native filters), with UUIDs derived
from names so that a re-import updates the same objects. :func:`write_bundle` zips them with fixed
dates, so the same YAML always gives the same bytes and the same hash.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import yaml

from migstat.superset.charts import chart_params, query_context
from migstat.superset.spec import (
    ChartSpec,
    DashboardSpec,
    FilterSpec,
    Project,
    stable_uuid,
)
from migstat.superset.warehouse import SCHEMA

BUNDLE_ROOT = "migstat_dashboards"
#: Superset's ImportAssetsCommand imports bundles of this type (everything, with overwrite).
BUNDLE_TYPE = "assets"
# Fixed, so that the same YAML always gives the same bytes (and the same hash).
BUNDLE_TIMESTAMP = "2026-01-01T00:00:00+00:00"
ZIP_DATE = (2026, 1, 1, 0, 0, 0)


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
    columns: list[dict[str, Any]] = []
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
    metrics: list[dict[str, Any]] = [
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
        "metadata.yaml": {"version": "1.0.0", "type": BUNDLE_TYPE, "timestamp": BUNDLE_TIMESTAMP},
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


def managed_uuids(files: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """UUIDs of the objects the bundle owns, by kind (to remove what the YAML dropped)."""
    kinds: dict[str, list[str]] = {"databases": [], "datasets": [], "charts": [], "dashboards": []}
    for name, content in files.items():
        kind = name.split("/", 1)[0]
        if kind in kinds:
            kinds[kind].append(content["uuid"])
    return {kind: sorted(values) for kind, values in kinds.items()}
