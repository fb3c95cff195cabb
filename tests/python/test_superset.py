"""Superset as code, against a real Superset process over a real warehouse.

One Superset (``migstat superset up``) is provisioned into a temporary MIGSTAT_HOME for the whole
module, over the sample warehouse (``migstat sample`` -> ``load`` -> ``build``). Then:

* every chart of every dashboard returns data through the REST API, and its numbers agree with
  the same query run directly on DuckDB;
* a native filter (women only; one country) changes chart results as the direct query says;
* a real headless Chromium logs in, opens each dashboard, waits for every chart, finds no error
  panel and saves screenshots in ``test-artifacts/``;
* a warehouse swapped in while charts are queried breaks no query, and the new data shows;
* chart data is cached per version of the warehouse (a swapped-in file misses the cache), no
  event is logged per chart query, and each worker keeps one warehouse open, not every version;
* ``up`` twice is safe and a changed YAML is re-imported;
* SQL Lab is refused on the warehouse, chart queries run on a locked DuckDB connection, and
  gunicorn refuses oversized request lines and headers.

``MIGSTAT_TEST_WAREHOUSE=/path/migstat.duckdb`` reuses a built warehouse (quicker when iterating).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from fixtures.cli import run as run_migstat
from fixtures.superset_api import SupersetApiError, SupersetClient

from migstat.home import REPO_ROOT, Home
from migstat.specs import load_specs
from migstat.superset.bundle import bundle_files, write_bundle
from migstat.superset.charts import filter_operator
from migstat.superset.spec import DASHBOARDS_DIR, ChartSpec, Project, iter_charts, load_project
from migstat.superset.warehouse import warehouse_types
from migstat.workbooks.samples import SampleMaker, clean_submission, write_submission

pytestmark = pytest.mark.slow

ARTIFACTS = REPO_ROOT / "test-artifacts" / "superset"
PASSWORD = "migstat-test-admin"
ERROR_TEXTS = (
    "error inesperado",
    "unexpected error",
    "se ha producido un error",
    "an error occurred",
    "sin resultados",
    "no results",
    "no se obtuvieron resultados",
    "error en la red",
    "network error",
)


def _free_port() -> int:
    """``MIGSTAT_TEST_SUPERSET_PORT`` when set (a port range of one's own), else a free one."""
    if given := os.environ.get("MIGSTAT_TEST_SUPERSET_PORT"):
        return int(given)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def migstat(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_migstat(env, *args, timeout=1800)


def _build_warehouse(env: dict[str, str], home: Home) -> None:
    given = os.environ.get("MIGSTAT_TEST_WAREHOUSE")
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    if given:
        shutil.copyfile(given, home.published_db)
        return
    for args in (("sample", "-o", str(home.inbox)), ("load", str(home.inbox)), ("build",)):
        done = migstat(env, *args)
        # `load` exits 1 when it rejected a file: the samples include unreadable ones on purpose.
        ok = (0, 1) if args[0] == "load" else (0,)
        assert done.returncode in ok, f"migstat {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    assert home.published_db.exists()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("superset-home")
    env = {**os.environ, "MIGSTAT_HOME": str(root), "SUPERSET_ADMIN_PASSWORD": PASSWORD}
    env.pop("MIGSTAT_SUPERSET_DASHBOARDS", None)
    home = Home(root.resolve())
    _build_warehouse(env, home)
    port = _free_port()
    started = time.monotonic()
    done = migstat(env, "superset", "up", "--port", str(port))
    assert done.returncode == 0, f"superset up failed:\n{done.stdout}\n{done.stderr}"
    url = f"http://127.0.0.1:{port}"
    assert url in done.stdout and "admin" in done.stdout
    info = {
        "url": url,
        "port": port,
        "env": env,
        "home": home,
        "up_seconds": time.monotonic() - started,
        "up_output": done.stdout,
    }
    try:
        yield info
    finally:
        migstat(env, "superset", "down")


@pytest.fixture(scope="module")
def client(server: dict[str, Any]) -> SupersetClient:
    return SupersetClient.login(server["url"], "admin", PASSWORD)


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project()


# ---------------------------------------------------------------------- direct DuckDB queries


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _condition(column_sql: str, value: Any) -> str:
    operator = filter_operator(value)
    if operator in {"IS TRUE", "IS FALSE"}:
        return f"{column_sql} {operator}"
    if operator == "IN":
        return f"{column_sql} IN ({', '.join(_literal(item) for item in value)})"
    return f"{column_sql} = {_literal(value)}"


def direct_sql(
    project: Project, chart: ChartSpec, extra: dict[str, Any] | None = None, limit: bool = True
) -> str:
    """The chart's query written by hand for DuckDB, from the same YAML."""
    columns = project.dataset_columns(chart.dataset)
    metrics = {metric.name: metric for metric in project.datasets[chart.dataset].metrics}

    def column_sql(name: str) -> str:
        expression = columns[name].expression
        return f"({expression})" if expression else _quote(name)

    dims = chart.dimensions()
    select = [f"{column_sql(name)} AS {_quote(name)}" for name in dims]
    if chart.viz != "raw_table":
        select += [f"{metrics[name].expression} AS {_quote(name)}" for name in chart.metrics]
    conditions = [_condition(column_sql(col), val) for col, val in chart.where.items()]
    conditions += [_condition(column_sql(col), val) for col, val in (extra or {}).items()]
    sql = f"SELECT {', '.join(select)} FROM marts.{_quote(chart.dataset)}"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    if chart.viz != "raw_table" and dims:
        sql += " GROUP BY " + ", ".join(str(i) for i in range(1, len(dims) + 1))
    order = chart.order_by or ([(chart.metrics[0], False)] if chart.metrics else [])
    if order:
        sql += " ORDER BY " + ", ".join(
            f"{_quote(name)} {'ASC' if asc else 'DESC'} NULLS LAST" for name, asc in order
        )
    if limit:
        sql += f" LIMIT {chart.limit}"
    return sql


def direct_rows(
    warehouse: Path, project: Project, chart: ChartSpec, extra: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], int]:
    """(rows within the chart's limit, number of rows without the limit)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        relation = con.sql(direct_sql(project, chart, extra, limit=False))
        names = relation.columns
        every = [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
    return every[: chart.limit], len(every)


def _normal(value: Any, temporal: bool = False) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if temporal and isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).date().isoformat()
    if temporal and isinstance(value, str):
        return value[:10]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(f"{float(value):.6g}") if not math.isnan(value) else None
    return str(value)


def normal_rows(
    rows: list[dict[str, Any]], keys: list[str], temporal: set[str]
) -> list[tuple[Any, ...]]:
    return [tuple(_normal(row.get(key), key in temporal) for key in keys) for row in rows]


def assert_same_rows(
    got: list[dict[str, Any]],
    expected: list[dict[str, Any]],
    total: int,
    project: Project,
    chart: ChartSpec,
    where: str,
) -> None:
    keys = [*chart.dimensions(), *([] if chart.viz == "raw_table" else chart.metrics)]
    columns = project.dataset_columns(chart.dataset)
    temporal = {name for name in keys if name in columns and columns[name].temporal}
    got_rows = normal_rows(got, keys, temporal)
    expected_rows = normal_rows(expected, keys, temporal)
    assert len(got_rows) == len(expected_rows), (
        f"{where}: {len(got_rows)} rows, DuckDB says {len(expected_rows)}"
    )
    if total <= chart.limit:
        assert Counter(got_rows) == Counter(expected_rows), f"{where}: rows differ from DuckDB"
    else:
        # Truncated at the limit: ties at the edge may pick other rows, the ranked values may not.
        order = chart.order_by or [(chart.metrics[0], False)]
        position = keys.index(order[0][0])
        assert sorted(map(str, (row[position] for row in got_rows))) == sorted(
            map(str, (row[position] for row in expected_rows))
        ), f"{where}: top {chart.limit} differ from DuckDB"


# ---------------------------------------------------------------------- helpers over the API


def charts_by_key(client: SupersetClient) -> dict[str, dict[str, Any]]:
    """``slug/key`` -> chart as the dashboard API lists it (id, form_data, ...)."""
    found: dict[str, dict[str, Any]] = {}
    for dashboard in client.dashboards():
        for chart in client.dashboard_charts(dashboard["id"]):
            found[chart["form_data"]["dashboard_key"]] = chart
    return found


# ---------------------------------------------------------------------- tests


def test_up_provisions_and_prints_login(server: dict[str, Any]) -> None:
    home: Home = server["home"]
    assert (home.superset_dir / "metadata" / "superset.db").exists()
    secret = home.superset_dir / "secret_key"
    assert secret.exists() and len(secret.read_text().strip()) >= 32
    assert oct(secret.stat().st_mode & 0o777) == "0o600"
    assert oct(home.superset_dir.stat().st_mode & 0o777) == "0o700"
    assert "log in as user 'admin'" in server["up_output"]
    print(f"superset up (fresh home): {server['up_seconds']:.0f} s")


def test_datasets_name_only_columns_the_warehouse_has(
    server: dict[str, Any], project: Project
) -> None:
    types = warehouse_types(server["home"].published_db)
    for table in project.datasets:
        assert table in types, f"the warehouse has no marts.{table}"
        for name, column in project.dataset_columns(table).items():
            if column.expression is None:
                assert name in types[table], f"marts.{table} has no column {name}"


def test_every_chart_names_its_counting_unit_in_both_languages(project: Project) -> None:
    units = (
        "movimientos",
        "personas",
        "permisos",
        "solicitudes",
        "decisiones",
        "eventos",
        "envíos",
        "fallos",
    )
    for dashboard, key, chart in iter_charts(project):
        spanish, _, english = chart.title.partition(" / ")
        assert english, f"{dashboard.slug}/{key}: title is not 'Spanish / English'"
        assert any(unit in spanish.lower() for unit in units), f"{dashboard.slug}/{key}: no unit"


def test_dashboards_exist_with_native_filters_and_cross_filtering(
    client: SupersetClient, project: Project
) -> None:
    dashboards = {item["slug"]: item for item in client.dashboards()}
    assert set(dashboards) >= {dashboard.slug for dashboard in project.dashboards}
    for spec in project.dashboards:
        dashboard = client.dashboard(spec.slug)
        metadata = json.loads(dashboard["json_metadata"])
        assert metadata["cross_filters_enabled"] is True
        names = [item["name"] for item in metadata["native_filter_configuration"]]
        assert names == [item.label for item in spec.filters]
        for item in metadata["native_filter_configuration"]:
            assert "datasetId" in item["targets"][0], "native filter target was not remapped"
        charts = client.dashboard_charts(spec.slug)
        assert len(charts) == len(spec.charts)


def test_every_chart_returns_data_that_agrees_with_duckdb(
    server: dict[str, Any], client: SupersetClient, project: Project
) -> None:
    charts = charts_by_key(client)
    warehouse = server["home"].published_db
    checked = 0
    for dashboard, key, chart in iter_charts(project):
        where = f"{dashboard.slug}/{key}"
        listed = charts[where]
        got = client.chart_data(listed["id"])
        assert got, f"{where}: the chart returned no data"
        expected, total = direct_rows(warehouse, project, chart)
        assert_same_rows(got, expected, total, project, chart, where)
        checked += 1
    assert checked == sum(len(dashboard.charts) for dashboard in project.dashboards)


def _in_scope(metadata: dict[str, Any], column: str) -> tuple[dict[str, Any], set[int]]:
    for item in metadata["native_filter_configuration"]:
        if item["targets"][0]["column"]["name"] == column:
            return item, set(item["scope"]["excluded"])
    raise AssertionError(f"no native filter on {column}")


def _filtered_query(client: SupersetClient, chart_id: int, column: str, values: list[str]) -> Any:
    """The chart's query with the filter a native filter adds (extraFormData.filters)."""
    query_context = json.loads(client.chart(chart_id)["query_context"])
    filtered = copy.deepcopy(query_context)
    filtered["queries"][0]["filters"].append({"col": column, "op": "IN", "val": values})
    filtered["form_data"]["extra_form_data"] = {
        "filters": [{"col": column, "op": "IN", "val": values}]
    }
    return client.query_data(filtered)


@pytest.mark.parametrize(
    ("slug", "key", "column", "values"),
    [
        ("country-profile", "sex_age_pyramid", "sex_code", ["F"]),
        ("country-profile", "sex_by_flow", "sex_code", ["F"]),
        ("country-profile", "sex_by_flow", "nationality_code", ["USA", "GTM"]),
        ("country-profile", "sex_by_flow", "month", [1, 7]),
        ("regional-comparison", "entries_exits_by_country", "reporting_country_code", ["GTM"]),
        ("regional-comparison", "entries", "reporting_country_code", ["GTM"]),
        ("nationalities", "by_region", "reporting_country_code", ["MEX"]),
    ],
)
def test_native_filter_changes_results_as_duckdb_says(
    server: dict[str, Any],
    client: SupersetClient,
    project: Project,
    slug: str,
    key: str,
    column: str,
    values: list[str],
) -> None:
    spec = next(dashboard for dashboard in project.dashboards if dashboard.slug == slug)
    chart_spec = spec.charts[key]
    listed = charts_by_key(client)[f"{slug}/{key}"]
    metadata = json.loads(client.dashboard(slug)["json_metadata"])
    _, excluded = _in_scope(metadata, column)
    assert listed["id"] not in excluded, f"{slug}/{key} is outside the filter's scope"

    unfiltered = client.chart_data(listed["id"])
    filtered = _filtered_query(client, listed["id"], column, values)
    expected, total = direct_rows(
        server["home"].published_db, project, chart_spec, {column: values}
    )
    assert filtered, f"{slug}/{key}: no rows for {column} in {values}"
    assert_same_rows(filtered, expected, total, project, chart_spec, f"{slug}/{key} filtered")
    assert normal_rows(filtered, list(filtered[0]), set()) != normal_rows(
        unfiltered, list(unfiltered[0]), set()
    ), f"{slug}/{key}: the filter changed nothing"
    if column == "sex_code":
        assert {row["sex_name"] for row in filtered} == {"Mujeres / Women"}


def test_up_twice_is_safe_and_changed_yaml_is_reimported(
    server: dict[str, Any], client: SupersetClient, tmp_path: Path
) -> None:
    env = server["env"]
    started = time.monotonic()
    again = migstat(env, "superset", "up", "--port", str(server["port"]))
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout
    assert "importing" not in again.stdout
    print(f"second superset up: {time.monotonic() - started:.1f} s")

    before = charts_by_key(client)
    changed = tmp_path / "dashboards"
    shutil.copytree(DASHBOARDS_DIR, changed)
    path = changed / "dashboards" / "1_regional_comparison.yml"
    document = yaml.safe_load(path.read_text())
    document["charts"]["entries"]["title"] = "Entradas, título cambiado / Entries, changed title"
    document["rows"][0].remove("net_balance")
    del document["charts"]["net_balance"]
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    changed_env = {**env, "MIGSTAT_SUPERSET_DASHBOARDS": str(changed)}
    try:
        done = migstat(changed_env, "superset", "up", "--port", str(server["port"]))
        assert done.returncode == 0, done.stderr
        assert "importing dashboards" in done.stdout and "deleted chart" in done.stdout
        after = charts_by_key(client)
        entries = after["regional-comparison/entries"]
        assert entries["id"] == before["regional-comparison/entries"]["id"], "updated in place"
        assert client.chart(entries["id"])["slice_name"].startswith("Entradas, título cambiado")
        assert "regional-comparison/net_balance" not in after
    finally:
        restored = migstat(env, "superset", "up", "--port", str(server["port"]))
        assert restored.returncode == 0, restored.stderr
    assert set(charts_by_key(client)) == set(before)


def test_sql_lab_is_refused_and_chart_queries_run_locked(
    server: dict[str, Any], client: SupersetClient, tmp_path: Path
) -> None:
    """The warehouse is hidden from SQL Lab and SQL Lab's API refuses it (even for admin);
    a chart's query still answers, on a DuckDB connection that cannot touch files."""
    databases = client.get(
        "/api/v1/database/", q="(columns:!(id,backend,expose_in_sqllab,allow_dml))"
    )["result"]
    warehouse = next(database for database in databases if database["backend"] == "duckdb")
    assert warehouse["expose_in_sqllab"] is False and warehouse["allow_dml"] is False
    secret = server["home"].superset_dir / "secret_key"
    for sql in (
        "SELECT 1",
        f"SELECT * FROM read_text('{secret}')",
        f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'",
    ):
        with pytest.raises(SupersetApiError, match="SQL Lab is disabled for the warehouse"):
            client.request(
                "POST",
                "/api/v1/sqllab/execute/",
                {"database_id": warehouse["id"], "sql": sql, "runAsync": False},
            )
    assert not (tmp_path / "x.csv").exists()

    chart_id = charts_by_key(client)["regional-comparison/entries"]["id"]
    assert client.chart_data(chart_id), "a chart's data no longer answers"
    query_context = json.loads(client.chart(chart_id)["query_context"])
    query_context["queries"][0]["metrics"] = [
        {
            "expressionType": "SQL",
            "sqlExpression": f"min(current_setting('{setting}')::varchar)",
            "label": setting,
        }
        for setting in ("enable_external_access", "lock_configuration")
    ]
    rows = client.query_data(query_context)
    assert rows
    assert {(row["enable_external_access"], row["lock_configuration"]) for row in rows} == {
        ("false", "true")
    }


def test_gunicorn_refuses_oversized_requests(server: dict[str, Any]) -> None:
    import http.client

    def status(path: str, headers: dict[str, str]) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=30)
        try:
            connection.request("GET", path, headers=headers)
            return connection.getresponse().status
        finally:
            connection.close()

    assert status("/health", {}) == 200
    assert status("/health?" + "a" * 9000, {}) in {400, 414}
    assert status("/health", {"X-Big": "b" * 9000}) in {400, 431}
    assert status("/health", {f"X-H{i}": "1" for i in range(120)}) in {400, 431}


def test_bundle_hash_is_stable(server: dict[str, Any], project: Project, tmp_path: Path) -> None:
    uri = f"duckdb:///{server['home'].published_db}"
    first = write_bundle(bundle_files(project, uri), tmp_path / "a.zip")
    second = write_bundle(bundle_files(load_project(), uri), tmp_path / "b.zip")
    assert first == second


class ChartLoad:
    """Reader threads querying every chart in a loop, recording answers and failures."""

    def __init__(self, url: str, chart_ids: list[int], readers: int) -> None:
        self.url = url
        self.chart_ids = chart_ids
        self.errors: list[str] = []
        self.answered: list[float] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read) for _ in range(readers)]

    def _read(self) -> None:
        reader = SupersetClient.login(self.url, "admin", PASSWORD)
        while not self._stop.is_set():
            for chart_id in self.chart_ids:
                try:
                    reader.chart_data(chart_id)
                    self.answered.append(time.monotonic())
                except Exception as error:
                    self.errors.append(f"chart {chart_id}: {error}")
                if self._stop.is_set():
                    break

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)


def test_rebuilding_the_warehouse_while_serving_breaks_no_query(
    server: dict[str, Any], client: SupersetClient, project: Project
) -> None:
    """Swap a new warehouse in (what `migstat build` does) while every chart is being queried."""
    home: Home = server["home"]
    charts = charts_by_key(client)
    ids = [chart["id"] for chart in charts.values()]
    swaps: list[float] = []
    load = ChartLoad(server["url"], ids, readers=2)
    entries_key = "regional-comparison/entries"
    before = client.chart_data(charts[entries_key]["id"])[0]["entries"]
    load.start()
    try:
        for round_number in range(1, 4):
            time.sleep(1.5)
            build = home.warehouse_dir / f"build-test-{round_number}.duckdb"
            shutil.copyfile(home.published_db, build)
            with duckdb.connect(str(build)) as con:
                con.execute("UPDATE marts.movements_yearly SET entries_total = entries_total + 1")
                con.execute("CHECKPOINT")
            os.replace(build, home.published_db)
            swaps.append(time.monotonic())
        time.sleep(1.5)
    finally:
        load.stop()
    assert not load.errors, (
        f"{len(load.errors)} failed chart queries during the swaps: {load.errors[:3]}"
    )
    for swap in swaps:
        assert any(abs(moment - swap) < 1.5 for moment in load.answered), "no query around a swap"
    with duckdb.connect(str(home.published_db), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM marts.movements_yearly").fetchone()
    assert rows is not None
    after = client.chart_data(charts[entries_key]["id"])[0]["entries"]
    assert after == pytest.approx(before + 3 * rows[0]), "the new warehouse does not show"


def _swap_in_a_changed_warehouse(home: Home, name: str) -> None:
    """What `migstat build` does, quicker: a new file with one more entry per row, swapped in."""
    build = home.warehouse_dir / f"build-{name}.duckdb"
    shutil.copyfile(home.published_db, build)
    with duckdb.connect(str(build)) as con:
        con.execute("UPDATE marts.movements_yearly SET entries_total = entries_total + 1")
        con.execute("CHECKPOINT")
    os.replace(build, home.published_db)


def _chart_answer(client: SupersetClient, chart_id: int) -> dict[str, Any]:
    answer = client.get(f"/api/v1/chart/{chart_id}/data/", format="json", type="full")
    return dict(answer["result"][0])


def test_chart_data_is_cached_per_warehouse_version_and_logs_no_event(
    server: dict[str, Any], client: SupersetClient
) -> None:
    """A chart asked again is answered from the cache; a warehouse swapped in is not: its first
    answer runs the query and shows the new numbers, then that answer is cached. Chart queries
    write nothing to Superset's event log."""
    home: Home = server["home"]
    chart_id = charts_by_key(client)["regional-comparison/entries"]["id"]
    metadata = home.superset_dir / "metadata" / "superset.db"

    def logged() -> int:
        with closing(sqlite3.connect(metadata)) as con:
            return int(con.execute("SELECT count(*) FROM logs").fetchone()[0])

    events = logged()
    first = _chart_answer(client, chart_id)
    again = _chart_answer(client, chart_id)
    assert again["is_cached"] and again["data"] == first["data"]
    _swap_in_a_changed_warehouse(home, "cache-test")
    swapped = _chart_answer(client, chart_id)
    assert not swapped["is_cached"], "an answer of the replaced warehouse was served"
    with duckdb.connect(str(home.published_db), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM marts.movements_yearly").fetchone()
    assert rows is not None
    assert swapped["data"][0]["entries"] == pytest.approx(first["data"][0]["entries"] + rows[0])
    assert _chart_answer(client, chart_id)["is_cached"]
    assert logged() == events


def _duckdb_files_open(pid: int) -> list[int]:
    """Inodes of the DuckDB files process ``pid`` holds open."""
    inodes = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if ".duckdb" in os.readlink(fd):
                inodes.append(fd.stat().st_ino)
        except OSError:
            continue  # closed meanwhile
    return inodes


def test_workers_keep_the_warehouse_open_once_and_let_replaced_files_go(
    server: dict[str, Any], client: SupersetClient
) -> None:
    """Each gunicorn worker keeps one open warehouse between queries (not one per query, and
    not every version it ever served): after three swaps and queries, each worker holds at most
    one DuckDB file, and the workers that answered since hold the current one."""
    home: Home = server["home"]
    ids = [chart["id"] for chart in charts_by_key(client).values()][:6]
    master = int((home.superset_dir / "gunicorn.pid").read_text())
    workers = [
        int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()
    ]
    assert workers
    for round_number in range(3):
        _swap_in_a_changed_warehouse(home, f"versions-{round_number}")
        for chart_id in ids * 2:
            client.get(f"/api/v1/chart/{chart_id}/data/", format="json", force="true")
    current = home.published_db.stat().st_ino
    held = {pid: _duckdb_files_open(pid) for pid in workers}
    assert all(len(inodes) <= 1 for inodes in held.values()), held
    assert any(inodes == [current] for inodes in held.values()), (current, held)


@pytest.mark.skipif(
    bool(os.environ.get("MIGSTAT_TEST_WAREHOUSE")), reason="no raw store to build from"
)
def test_a_real_build_while_serving_breaks_no_query(
    server: dict[str, Any], client: SupersetClient
) -> None:
    """`migstat build` runs dbt on a new file and swaps it in; dashboards answer throughout."""
    home: Home = server["home"]
    ids = [chart["id"] for chart in charts_by_key(client).values()]
    inode = home.published_db.stat().st_ino
    load = ChartLoad(server["url"], ids, readers=1)
    load.start()
    try:
        started = time.monotonic()
        # --full-refresh: with nothing loaded since the fixture's build, a plain build keeps
        # the published file (a no-op build) and would swap nothing in.
        build = migstat(server["env"], "build", "--full-refresh")
        finished = time.monotonic()
        time.sleep(1.0)
    finally:
        load.stop()
    assert build.returncode == 0, f"migstat build:\n{build.stdout[-2000:]}\n{build.stderr[-2000:]}"
    assert home.published_db.stat().st_ino != inode, "the build did not swap a new file in"
    assert not load.errors, (
        f"{len(load.errors)} failed chart queries during the build: {load.errors[:3]}"
    )
    during = [moment for moment in load.answered if started <= moment <= finished]
    assert len(during) >= len(ids), f"only {len(during)} chart queries answered during the build"
    assert client.chart_data(ids[0]), "no data after the build"


def test_browser_opens_every_dashboard_without_errors(
    server: dict[str, Any], project: Project, browser: Any
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = server["url"]
    outside: list[str] = []
    blocked: list[str] = []
    page_errors: list[str] = []
    http_errors: list[str] = []
    context = browser.new_context(viewport={"width": 1600, "height": 1200}, locale="es-ES")
    try:
        page = context.new_page()
        # The 6.1.0 frontend always renders a telemetry pixel; the server's content security
        # policy must stop it (and anything else) before it leaves the machine.
        page.on(
            "request",
            lambda request: (
                None
                if request.url.startswith((url, "data:", "blob:"))
                else outside.append(request.url)
            ),
        )
        page.on("pageerror", lambda error: page_errors.append(str(error)[:500]))
        page.on(
            "response",
            lambda response: (
                http_errors.append(f"{response.status} {response.url}")
                if response.status >= 400
                else None
            ),
        )
        page.on(
            "requestfailed",
            lambda request: blocked.append(request.url) if request.failure == "csp" else None,
        )
        page.goto(f"{url}/login/")
        page.fill('[data-test="username-input"]', "admin")
        page.fill('[data-test="password-input"]', PASSWORD)
        page.click('[data-test="login-button"]')
        page.wait_for_url(lambda address: "/login" not in address, timeout=60_000)
        for dashboard in project.dashboards:
            try:
                _check_dashboard(page, url, dashboard.slug, len(dashboard.charts))
            except AssertionError as error:
                raise AssertionError(
                    f"{error}\npage errors: {page_errors[-3:]}\nHTTP errors: {http_errors[-5:]}"
                ) from error
    finally:
        context.close()
    escaped = sorted(set(outside) - set(blocked))
    assert not escaped, f"the browser reached outside Superset: {escaped[:5]}"


RENDERED = (
    '[data-test="slice-container"] canvas, [data-test="slice-container"] table, '
    '[data-test="slice-container"] .header-line'
)
FAILED = '[role="alert"], .ant-alert-error, [data-test="error-tooltip"]'


def _chart_state(holder: Any) -> str:
    """rendered, error (with the panel's text) or loading."""
    text = holder.inner_text().lower()
    problem = next((phrase for phrase in ERROR_TEXTS if phrase in text), None)
    if holder.locator(FAILED).count() or problem:
        return f"error: {problem or 'alert'}: {text[:300]}"
    if holder.locator('[data-test="loading-indicator"]').count():
        return "loading"
    return "rendered" if holder.locator(RENDERED).count() else "loading"


def _wait_for_charts(page: Any, expected_charts: int, seconds: float) -> list[str]:
    """Each chart's state once none is loading (or when time is up)."""
    holders = page.locator('[data-test="chart-grid-component"]')
    states: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if holders.count() == expected_charts:
            states = [_chart_state(holders.nth(index)) for index in range(expected_charts)]
            if "loading" not in states:
                break
        time.sleep(0.5)
    return states


def _check_dashboard(page: Any, url: str, slug: str, expected_charts: int) -> None:
    page.goto(f"{url}/superset/dashboard/{slug}/", wait_until="domcontentloaded")
    holders = page.locator('[data-test="chart-grid-component"]')
    states = _wait_for_charts(page, expected_charts, 60)
    for attempt in range(1, 4):
        if holders.count() > 0:
            break
        # Seen in about one load of ten on a loaded machine: Superset 6.1.0's frontend leaves
        # the grid empty (header and filter bar drawn, no page error, no failed request);
        # reload (at most three times) before judging; each empty page is kept as a screenshot.
        print(f"{slug}: empty dashboard grid, reload {attempt}")
        page.screenshot(path=str(ARTIFACTS / f"{slug}-empty-grid-{attempt}.png"), full_page=True)
        page.reload(wait_until="domcontentloaded")
        states = _wait_for_charts(page, expected_charts, 90)
    page.screenshot(path=str(ARTIFACTS / f"{slug}.png"), full_page=True)
    assert holders.count() == expected_charts, f"{slug}: {holders.count()} charts on the page"
    assert "loading" not in states, f"{slug}: charts still loading after 120 s: {states}"
    errors = [
        f"chart {index + 1}: {state}" for index, state in enumerate(states) if state != "rendered"
    ]
    assert not errors, f"{slug}: error panels: {errors}"


class TimedChartLoad(ChartLoad):
    """``ChartLoad`` that also times each request and stops after ``bound`` requests."""

    def __init__(self, url: str, chart_ids: list[int], readers: int, bound: int) -> None:
        super().__init__(url, chart_ids, readers)
        self.bound = bound
        self.seconds: list[float] = []

    def _read(self) -> None:
        reader = SupersetClient.login(self.url, "admin", PASSWORD)
        while not self._stop.is_set() and len(self.seconds) + len(self.errors) < self.bound:
            for chart_id in self.chart_ids:
                started = time.monotonic()
                try:
                    reader.chart_data(chart_id)
                    self.seconds.append(time.monotonic() - started)
                    self.answered.append(time.monotonic())
                except Exception as error:
                    self.errors.append(f"chart {chart_id}: {error}")
                if self._stop.is_set():
                    break


CONCURRENT_FILES = [
    ("GTM", "returns", 2019),
    ("HND", "asylum", 2019),
    ("CRI", "work_permits", 2019),
    ("PAN", "returns", 2019),
]


@pytest.mark.skipif(
    bool(os.environ.get("MIGSTAT_TEST_WAREHOUSE")), reason="no raw store to load into"
)
def test_chart_requests_while_loads_and_builds_queue_fail_none_and_lose_nothing(
    server: dict[str, Any], client: SupersetClient, tmp_path: Path
) -> None:
    """Four `migstat load` and two `migstat build` started at once queue through the writer
    locks while three readers request chart data from Superset in a bounded loop: no request
    fails, every file is recorded once, and `migstat verify` passes afterwards."""
    home: Home = server["home"]
    env = {**server["env"], "COLUMNS": "200"}
    specs = load_specs()
    maker = SampleMaker(0, specs)
    files = [
        write_submission(
            clean_submission(maker, source, country, year, 2024),
            tmp_path / f"{country}_{source}_{year}.xlsx",
            specs,
        )
        for country, source, year in CONCURRENT_FILES
    ]
    ids = [chart["id"] for chart in charts_by_key(client).values()]
    readers = TimedChartLoad(server["url"], ids, readers=3, bound=3000)
    commands = [
        ["load", str(files[0])],
        ["build"],
        ["load", str(files[1])],
        ["load", str(files[2])],
        ["build"],
        ["load", str(files[3])],
    ]
    readers.start()
    started = time.monotonic()
    try:
        running = [
            subprocess.Popen(
                [sys.executable, "-m", "migstat", *args],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in commands
        ]
        results = [process.communicate(timeout=1800) for process in running]
        wall = time.monotonic() - started
        time.sleep(1.0)
    finally:
        readers.stop()
    for args, process, (out, err) in zip(commands, running, results, strict=True):
        assert process.returncode == 0, f"migstat {' '.join(args)}:\n{out[-2000:]}\n{err[-2000:]}"
        assert "Traceback" not in err, err
    assert not readers.errors, (
        f"{len(readers.errors)} failed chart requests of "
        f"{len(readers.seconds) + len(readers.errors)}: {readers.errors[:3]}"
    )
    assert len(readers.seconds) >= len(ids)
    with duckdb.connect(str(home.raw_db), read_only=True) as con:
        names = [row[0] for row in con.execute("select file_name from raw.submissions").fetchall()]
    for path in files:
        assert names.count(path.name) == 1, f"{path.name} recorded {names.count(path.name)} times"
    verified = migstat(env, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    published = {row[0] for row in _published(home)}
    assert published and published <= set(names), "the published files are received files"
    loads = sum(args[0] == "load" for args in commands)
    builds = len(commands) - loads
    seconds = sorted(readers.seconds)
    p50 = seconds[len(seconds) // 2]
    p95 = seconds[min(len(seconds) - 1, int(len(seconds) * 0.95))]
    summary = (
        f"concurrency: {len(seconds) + len(readers.errors)} chart-data requests by 3 readers, "
        f"{len(readers.errors)} failed, p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; "
        f"{loads} loads and {builds} builds completed in {wall:.0f} s; verify passed"
    )
    print("\n" + summary)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "concurrency.txt").write_text(summary + "\n", encoding="utf-8")


def _published(home: Home) -> list[tuple[str, str, str]]:
    with duckdb.connect(str(home.published_db), read_only=True) as con:
        return con.execute(
            "select file_name, country_code, source from marts.quality_submissions "
            "where is_published"
        ).fetchall()
