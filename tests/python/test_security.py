"""Safe outputs and a locked-down warehouse.

* Nothing migstat writes for people to open carries a live formula: a workbook label such as
  ``=HYPERLINK("http://x","y")``, ``+1+1``, ``@SUM(A1)`` or ``-2+3`` reaches the quality report
  (XLSX) and the product downloads (CSV, XLSX) as visible text, never as a formula; genuine
  negative numbers stay numbers.
* HTML (quality report, product pages, catalogue, SVG charts) escapes every label and file name.
* Every reader of the published warehouse opens it through ``migstat.readonly``: the connection
  cannot read or write files, attach databases, install or load extensions, or unlock itself.
* Superset is started with request limits, on 127.0.0.1, and never with a default password.

The Superset side (SQL Lab refused over the REST API, the locked connection inside Superset) is
tested against the real server in ``test_superset.py``.
"""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import duckdb
import pytest
from fixtures.marts import build_fixture_warehouse
from openpyxl import Workbook, load_workbook

from migstat.home import REPO_ROOT, Home
from migstat.publish import publish
from migstat.readonly import LOCKED_CONFIG, connect_read_only, duckdb_engine_connect_args
from migstat.report import read_report, write_report
from migstat.safe_cells import csv_value, is_formula_like, xlsx_row

HOSTILE = {
    "hyperlink": '=HYPERLINK("http://x","y")',
    "plus": "+1+1",
    "at": "@SUM(A1)",
    "minus": "-2+3",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "dde": "=cmd|' /C calc'!A0",
    "spaced": "  =1+1",
}
SCRIPT = "<script>alert(1)</script>"


# ---------------------------------------------------------------------- the helper


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_formula_like_text_is_neutralised_in_csv(text: str) -> None:
    assert is_formula_like(text)
    assert csv_value(text) == "'" + text


@pytest.mark.parametrize(
    "value", [-5, -2.5, 0, "-12", "-0,5", "+3", "1e5", "Total", "México", "", None, "a=b"]
)
def test_numbers_and_plain_text_stay_as_they_are(value: object) -> None:
    assert not is_formula_like(value)
    assert csv_value(value) == value


def test_xlsx_row_keeps_text_visible_and_numbers_numeric(tmp_path: Path) -> None:
    for write_only in (False, True):
        book = Workbook(write_only=write_only)
        sheet = book.create_sheet("s")
        sheet.append(xlsx_row(sheet, [*HOSTILE.values(), -5, -2.5, "-12"]))
        path = tmp_path / f"row-{write_only}.xlsx"
        book.save(path)
        cells = next(load_workbook(path)["s"].iter_rows())
        assert [c.data_type for c in cells] == ["s"] * len(HOSTILE) + ["n", "n", "s"]

        # An XML parser may hand a carriage return back as a line feed (the stdlib one does, lxml
        # does not); the text is otherwise exact.
        def shown(value: object) -> object:
            return value.replace("\r", "\n") if isinstance(value, str) else value

        expected = [*HOSTILE.values(), -5, -2.5, "-12"]
        assert [shown(c.value) for c in cells] == [shown(value) for value in expected]
        assert all(c.quotePrefix for c in cells[: len(HOSTILE)])


# ---------------------------------------------------------------------- quality report


def _report_warehouse(path: Path) -> Path:
    """The two quality marts the report reads, with hostile labels and a hostile file name."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.quality_submissions (submission_id integer, file_name varchar, "
            "country_code varchar, source varchar, period varchar, status varchar, "
            "has_warnings boolean, is_published boolean)"
        )
        con.execute(
            "insert into marts.quality_submissions values "
            "(7, ?, 'GTM', 'entries_exits', '2024', 'quarantined', false, false)",
            [f"{SCRIPT}{HOSTILE['hyperlink']}.xlsx"],
        )
        con.execute(
            "create table marts.quality_rule_failures (submission_id integer, severity varchar, "
            "rule_id varchar, sheet varchar, cell varchar, expected varchar, found varchar, "
            "message_es varchar, message_en varchar)"
        )
        values = list(HOSTILE.values())
        for index, text in enumerate(values):
            con.execute(
                "insert into marts.quality_rule_failures values (7, 'error', ?, ?, ?, ?, ?, ?, ?)",
                [
                    f"R{index:02d}",
                    text,
                    f"B{index + 2}",
                    values[index - 1],
                    f"{SCRIPT} {text}",
                    f"La etiqueta {text} no es un código",
                    text,
                ],
            )
    return path


def test_report_xlsx_has_no_formula_and_shows_every_label(tmp_path: Path) -> None:
    report = read_report(_report_warehouse(tmp_path / "w.duckdb"), 7)
    target = write_report(report, tmp_path / "report.xlsx")
    book = load_workbook(target)
    texts: list[str] = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
                if isinstance(cell.value, str):
                    texts.append(cell.value.replace("\r", "\n"))
    for text in HOSTILE.values():
        # An XML parser may give a carriage return back as a line feed (lxml does not).
        shown = text.replace("\r", "\n")
        assert shown in texts, f"{text!r} is not shown as it was written"
    assert f"{SCRIPT}{HOSTILE['hyperlink']}.xlsx" in texts


def test_report_html_escapes_labels_and_file_name(tmp_path: Path) -> None:
    report = read_report(_report_warehouse(tmp_path / "w.duckdb"), 7)
    html = write_report(report, tmp_path / "report.html").read_text()
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)" in html


# ---------------------------------------------------------------------- product downloads and pages

#: Nationalities of the fixture renamed to hostile labels (Spanish and English names alike).
RENAMED = {
    "España": HOSTILE["hyperlink"],
    "Spain": HOSTILE["hyperlink"],
    "Cuba": HOSTILE["plus"],
    "Venezuela": HOSTILE["at"],
    "Honduras": HOSTILE["minus"],
    "Estados Unidos": SCRIPT,
    "United States": SCRIPT,
}


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-site")
    db = build_fixture_warehouse(root / "warehouse" / "migstat.duckdb")
    with duckdb.connect(str(db)) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "join information_schema.tables using (table_catalog, table_schema, table_name) "
            "where table_schema in ('marts', 'codes') and data_type = 'VARCHAR' "
            "and table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, table, column in columns:
            for old, new in RENAMED.items():
                con.execute(
                    f'update {schema}."{table}" set "{column}" = ? where "{column}" = ?',
                    [new, old],
                )
    publish(db, root / "site", workers=1)
    return root / "site"


def test_product_csv_has_no_formula_and_keeps_numbers(hostile_site: Path) -> None:
    seen: set[str] = set()
    numbers = 0
    for path in sorted(hostile_site.glob("*/downloads/*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for line in csv.reader(handle):
                for field in line:
                    assert not is_formula_like(field), f"{path.name}: {field!r}"
                    if field.startswith("'"):
                        seen.add(field[1:])
                    numbers += bool(re.fullmatch(r"-?\d+(\.\d+)?", field))
    assert {HOSTILE["hyperlink"], HOSTILE["plus"], HOSTILE["at"], HOSTILE["minus"]} <= seen
    assert numbers > 1000, "the values are no longer plain numbers"


def test_product_xlsx_has_no_formula_and_shows_every_label(hostile_site: Path) -> None:
    texts: set[str] = set()
    files = sorted((hostile_site / "downloads").glob("*.xlsx"))
    assert files
    for path in files:
        book = load_workbook(path, read_only=True)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{path.name} {sheet.title}: {cell.value!r}"
                    if isinstance(cell.value, str):
                        texts.add(cell.value)
        book.close()
    assert {HOSTILE["hyperlink"], HOSTILE["plus"], HOSTILE["at"], HOSTILE["minus"]} <= texts


def test_product_pages_and_charts_escape_labels(hostile_site: Path) -> None:
    pages = [*hostile_site.glob("*/products/*.html"), *hostile_site.glob("*/index.html")]
    svgs = list(hostile_site.glob("*/downloads/*.svg"))
    escaped = 0
    for path in pages + svgs:
        text = path.read_text(encoding="utf-8")
        assert "<script>alert" not in text, f"{path}: a label became markup"
        escaped += "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert escaped > 0, "the hostile label shows nowhere: the test lost its point"


def test_every_site_template_is_autoescaped() -> None:
    from migstat.publish.views import environment as _environment

    env = _environment()
    names = env.list_templates()
    assert names
    for name in names:
        assert callable(env.autoescape) and env.autoescape(name), f"{name} is not autoescaped"
        assert "|safe" not in env.loader.get_source(env, name)[0].replace(" ", "").replace(
            "svg|safe", ""
        ), f"{name} marks a value safe (only the escaped SVG may be)"


# ---------------------------------------------------------------------- the locked connection

REFUSED = {
    "read_text": "select * from read_text('/etc/passwd')",
    "read_blob": "select * from read_blob('/etc/passwd')",
    "read_csv": "select * from read_csv('/etc/passwd')",
    "glob": "select * from glob('/etc/*')",
    "copy_to": "COPY (select 1) TO '{tmp}/x.csv'",
    "export": "EXPORT DATABASE '{tmp}/export'",
    "attach": "ATTACH '{tmp}/other.duckdb' AS other",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "unlock": "SET enable_external_access = true",
    "reset": "RESET enable_external_access",
    "unlock_config": "SET lock_configuration = false",
    "allowed_directories": "SET allowed_directories = ['/']",
    "write": "CREATE TABLE marts.x AS SELECT 1",
}


@pytest.fixture(scope="module")
def warehouse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("locked")
    path = root / "migstat.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create table marts.t as select 42 as answer")
    with duckdb.connect(str(root / "other.duckdb")) as con:
        con.execute("create table secret as select 'S3CRET' as x")
    return path


@pytest.mark.parametrize("spill", [False, True], ids=["plain", "with-spill-folder"])
@pytest.mark.parametrize("sql", list(REFUSED.values()), ids=list(REFUSED))
def test_locked_connection_refuses(warehouse_file: Path, sql: str, spill: bool) -> None:
    """Also with a spill folder (the publish's connection), which DuckDB only accepts before
    the lock: the connection is locked by SET statements right after it opens."""
    tmp = warehouse_file.parent
    settings = {"temp_directory": str(tmp / "spill")} if spill else None
    with connect_read_only(warehouse_file, settings) as con:
        with pytest.raises(duckdb.Error) as raised:
            con.execute(sql.format(tmp=tmp)).fetchall()
        assert con.execute("select answer from marts.t").fetchone() == (42,)
        assert con.execute("select current_setting('enable_external_access')").fetchone() == (
            False,
        )
        assert con.execute("select current_setting('lock_configuration')").fetchone() == (True,)
    assert type(raised.value).__name__ in {
        "PermissionException",
        "InvalidInputException",
        "CatalogException",
    }, raised.value
    assert not (tmp / "x.csv").exists() and not (tmp / "export").exists()


def test_every_reader_uses_the_locked_connection(tmp_path: Path) -> None:
    """No module opens DuckDB read-only by hand; the products' reader is locked."""
    from migstat.publish.data import Warehouse

    # `migstat spark export|build` is an operator command whose job is files (the raw store
    # written as Parquet, Spark's Parquet read back): it serves no user, so it opens DuckDB with
    # file access on purpose.
    # Superset's configuration runs in Superset's environment, which cannot import migstat: it
    # opens DuckDB in one function of its own that always applies the locked settings (kept equal
    # to migstat.readonly's by test_superset_config_locks_every_duckdb_connection).
    allowed = {"readonly.py", "spark.py", "superset_config.py"}
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for folder in ("migstat", "loaders", "superset")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if "read_only=True" in path.read_text() and path.name not in allowed
    ]
    assert not offenders, f"open the warehouse with migstat.readonly.connect_read_only: {offenders}"
    config = ast.parse((REPO_ROOT / "migstat" / "superset" / "superset_config.py").read_text())
    openers = {
        function.name
        for function in ast.walk(config)
        if isinstance(function, ast.FunctionDef)
        for call in ast.walk(function)
        # a file (an in-memory database, `duckdb.connect()`, reads none)
        if isinstance(call, ast.Call) and ast.unparse(call.func) == "duckdb.connect" and call.args
    }
    assert openers == {"_open_locked"}, openers
    opener = next(
        f for f in ast.walk(config) if isinstance(f, ast.FunctionDef) and f.name == "_open_locked"
    )
    assert "{**config, **LOCKED_DUCKDB_CONFIG}" in ast.unparse(opener)
    db = build_fixture_warehouse(tmp_path / "migstat.duckdb")
    with Warehouse(db) as warehouse, pytest.raises(duckdb.Error, match="disabled"):
        warehouse.con.execute("select * from read_text('/etc/passwd')").fetchall()
    with Warehouse(db, spill=True) as warehouse:
        spill = warehouse.spill
        assert spill is not None and spill.is_dir()
        with pytest.raises(duckdb.Error, match="disabled"):
            warehouse.con.execute("select * from read_text('/etc/passwd')").fetchall()
    assert not spill.exists()  # the publish's spill folder goes with its connection


def test_superset_bundle_declares_the_locked_connection() -> None:
    from migstat.superset.bundle import database_file
    from migstat.superset.spec import load_project

    database = database_file(load_project(), "duckdb:////tmp/w.duckdb")
    assert database["extra"]["engine_params"]["connect_args"] == duckdb_engine_connect_args()
    assert database["expose_in_sqllab"] is False
    assert database["allow_dml"] is False
    assert database["allow_file_upload"] is False


def test_superset_config_locks_every_duckdb_connection() -> None:
    """superset_config.py (loaded by Superset, whose environment cannot import migstat) enforces
    the same settings as migstat.readonly."""
    tree = ast.parse((REPO_ROOT / "migstat" / "superset" / "superset_config.py").read_text())
    values = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert ast.literal_eval(values["LOCKED_DUCKDB_CONFIG"]) == LOCKED_CONFIG
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert "DB_CONNECTION_MUTATOR" in functions
    assert ast.unparse(values["CUSTOM_SECURITY_MANAGER"]) == "MigstatSecurityManager"
    assert ast.literal_eval(values["PREVENT_UNSAFE_DB_CONNECTIONS"]) is True
    policy = ast.literal_eval(values["TALISMAN_CONFIG"])["content_security_policy"]
    assert policy["img-src"] == ["'self'", "blob:", "data:"], "the browser must stay on the server"


# ---------------------------------------------------------------------- Superset start-up


def test_gunicorn_has_request_limits_and_binds_loopback(tmp_path: Path) -> None:
    from migstat.superset.control import gunicorn_command

    command = gunicorn_command("127.0.0.1", 8191)
    options = dict(zip(command[1::2], command[2::2], strict=False))
    assert options["--bind"] == "127.0.0.1:8191"
    assert 0 < int(options["--limit-request-line"]) <= 8190
    assert 0 < int(options["--limit-request-fields"]) <= 100
    assert 0 < int(options["--limit-request-field_size"]) <= 8190
    assert 0 < int(options["--timeout"]) <= 300
    assert 0 < int(options["--graceful-timeout"]) <= 60
    assert 0 < int(options["--keep-alive"]) <= 10


@pytest.mark.parametrize("password", ["admin", "password", "superset", "changeme", "short1"])
def test_weak_admin_passwords_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    from migstat.superset.credentials import admin_password
    from migstat.superset.paths import Paths, SupersetError

    monkeypatch.setenv("SUPERSET_ADMIN_PASSWORD", password)
    with pytest.raises(SupersetError, match="SUPERSET_ADMIN_PASSWORD"):
        admin_password(Paths(Home(tmp_path)), print)


def test_generated_secrets_are_strong_and_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migstat.superset.credentials import admin_password, secret_key
    from migstat.superset.paths import Paths

    monkeypatch.delenv("SUPERSET_ADMIN_PASSWORD", raising=False)
    said: list[str] = []
    paths = Paths(Home(tmp_path))
    password = admin_password(paths, said.append)
    key = secret_key(paths, said.append)
    assert len(password) >= 20 and len(key) >= 64
    for path in (paths.password, paths.secret_key):
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(paths.root.stat().st_mode & 0o777) == "0o700"
    assert str(paths.password) in "\n".join(said)
    assert admin_password(paths, said.append) == password, "generated once, then kept"
    assert secret_key(paths, said.append) == key
