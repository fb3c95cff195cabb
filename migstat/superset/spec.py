"""The dashboards DSL: readable YAML in ``superset/dashboards/`` as typed, cross-checked specs.

The YAML is written for people: a dataset names its mart, the labels and metrics dashboards use;
a dashboard names its native filters, its rows of charts and, per chart, a viz kind, a dataset,
metrics and dimensions. :mod:`migstat.superset.bundle` expands these specs into the files
Superset imports. Parsing is pure: YAML in, specs out.

Column lists and types come from the enforced marts contract
(``models/marts/<domain>/_<domain>__models.yml``: names, ``data_type`` and descriptions, with the
project's doc blocks resolved), so a dataset never lists a column the warehouse does not have.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator

from migstat.errors import MigstatError
from migstat.home import PROJECT_ROOT
from migstat.model import Strict

DASHBOARDS_DIR = Path(
    os.environ.get("MIGSTAT_SUPERSET_DASHBOARDS", PROJECT_ROOT / "superset" / "dashboards")
)
MARTS_CONTRACT = PROJECT_ROOT / "models" / "marts"
DOC_BLOCKS = PROJECT_ROOT / "models" / "_docs.md"
UUID_NAMESPACE = uuid.UUID("6f1c52a4-6c1e-4d0b-9a39-3f6b0c1b7a11")
#: Contract type names that the DuckDB warehouse spells otherwise.
PORTABLE_TYPES = {"STRING": "VARCHAR"}

Viz = Literal["big_number", "bar", "line", "pie", "table", "raw_table"]


class BundleError(MigstatError):
    """The dashboards YAML is inconsistent (unknown dataset, column or metric)."""


def stable_uuid(kind: str, key: str) -> str:
    """The same object always gets the same UUID, so re-imports update it in place."""
    return str(uuid.uuid5(UUID_NAMESPACE, f"{kind}:{key}"))


class ColumnSpec(Strict):
    name: str
    label: str | None = None
    type: str | None = None
    expression: str | None = None
    temporal: bool = False
    description: str | None = None


class MetricSpec(Strict):
    name: str
    expression: str
    label: str
    format: str = ",d"
    description: str | None = None


class DatasetSpec(Strict):
    table: str
    description: str | None = None
    columns: list[ColumnSpec] = Field(default_factory=list)
    metrics: list[MetricSpec]


class ChartSpec(Strict):
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


class FilterSpec(Strict):
    key: str
    label: str
    column: str
    dataset: str
    multi: bool = True
    exclude: list[str] = Field(
        default_factory=list,
        description="charts the filter must skip although their dataset has the column",
    )


class DashboardSpec(Strict):
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


class DatabaseSpec(Strict):
    key: str
    name: str


class Project(Strict):
    """Everything in ``superset/dashboards/``, cross-checked."""

    database: DatabaseSpec
    datasets: dict[str, DatasetSpec]
    dashboards: list[DashboardSpec]
    contract: dict[str, dict[str, str]]
    """Mart -> column -> description, from the marts contract."""
    contract_types: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Mart -> column -> SQL type, the ``data_type`` of the enforced marts contract."""
    types: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Mart -> column -> SQL type, read from the published warehouse when there is one."""

    def with_types(self, types: dict[str, dict[str, str]]) -> Project:
        return self.model_copy(update={"types": types})

    def column_sql_type(self, table: str, column: ColumnSpec) -> str:
        if column.type:
            return column.type
        if column.temporal:
            return "DATE"
        found = self.types.get(table, {}).get(column.name)
        found = found or self.contract_types.get(table, {}).get(column.name)
        if found is None:
            raise BundleError(f"dataset {table}: column {column.name} has no type in the contract")
        # The contract spells text portably (`string`: DuckDB and Spark both read it); the
        # warehouse Superset queries is DuckDB, whose name for it is VARCHAR.
        return PORTABLE_TYPES.get(found.upper(), found.upper())

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


def _doc_blocks(path: Path = DOC_BLOCKS) -> dict[str, str]:
    """The dbt doc blocks (``{% docs name %}...{% enddocs %}``) as one-line texts."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    found = re.findall(r"\{%\s*docs\s+(\w+)\s*%\}(.*?)\{%\s*enddocs\s*%\}", text, re.DOTALL)
    return {name: " ".join(body.split()) for name, body in found}


def _render_docs(description: str, blocks: dict[str, str]) -> str:
    """A description with every ``{{ doc('name') }}`` replaced by the block's text."""
    pattern = r"\{\{\s*doc\(\s*['\"](\w+)['\"]\s*\)\s*\}\}"
    return re.sub(pattern, lambda match: blocks.get(match.group(1), ""), description).strip()


def read_contract(
    path: Path = MARTS_CONTRACT, key: str = "description"
) -> dict[str, dict[str, str]]:
    """Mart -> column -> description (or another column ``key``: ``data_type``), from the dbt
    marts YAML (a file, or every domain folder's ``_<domain>__models.yml`` under a folder; empty
    when absent)."""
    paths = sorted(path.glob("*/_*__models.yml")) if path.is_dir() else [path]
    contract: dict[str, dict[str, str]] = {}
    blocks = _doc_blocks()
    for file in (file for file in paths if file.exists()):
        document = _read_yaml(file) or {}
        for model in document.get("models", []):
            contract[model["name"]] = {
                column["name"]: _render_docs(str(column.get(key) or ""), blocks)
                for column in model.get("columns", [])
                if key == "description" or column.get(key)
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
        contract_types=read_contract(contract_path, "data_type"),
    )
    return project.check()


def iter_charts(project: Project) -> Iterable[tuple[DashboardSpec, str, ChartSpec]]:
    for dashboard in project.dashboards:
        for row in dashboard.rows:
            for key in row:
                yield dashboard, key, dashboard.charts[key]
