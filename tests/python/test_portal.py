"""The submission portal against a real server process (``migstat portal up``) and a real
worker, warehouse and dbt build: an office logs in with Debian chromium, uploads a good and a
flawed sample workbook, sees both verdicts and the failing cell highlighted, downloads its
workbook annotated; other countries' things answer 404; forms without CSRF token, oversized and
non-workbook files are refused; nine offices upload at once and nothing is lost."""

from __future__ import annotations

import http.cookiejar
import itertools
import json
import os
import re
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fixtures.cli import run as migstat
from openpyxl import load_workbook

COUNTRIES = ["MEX", "GTM", "BLZ", "SLV", "HND", "NIC", "CRI", "PAN", "DOM"]
PASSWORD = "office-password-1234"
MAX_BYTES = 1_000_000
ENGLISH_WORDS = {
    "the",
    "and",
    "of",
    "file",
    "files",
    "upload",
    "uploads",
    "status",
    "report",
    "download",
    "workbook",
    "history",
    "template",
    "templates",
    "verdict",
    "published",
    "received",
    "send",
    "sent",
    "rule",
    "sheet",
    "cell",
    "expected",
    "found",
    "country",
    "log",
    "login",
    "token",
}
FINAL = {"published", "quarantined", "rejected", "superseded", "withdrawn", "failed"}


def free_port() -> int:
    for port in range(8590, 8600):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 8590-8599")


class Portal:
    def __init__(self, url: str, env: dict[str, str], samples: Path, tokens: dict[str, str]):
        self.url = url
        self.env = env
        self.samples = samples
        self.tokens = tokens

    def api(
        self, country: str, path: str, *, file: Path | None = None, data: bytes | None = None
    ) -> tuple[int, object]:
        headers = {"Authorization": f"Bearer {self.tokens[country]}"}
        body = None
        if file is not None or data is not None:
            boundary = uuid.uuid4().hex
            content = data if data is not None else file.read_bytes()
            name = file.name if file is not None else "upload.xlsx"
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                    f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                ).encode()
                + content
                + f"\r\n--{boundary}--\r\n".encode()
            )
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        request = urllib.request.Request(self.url + path, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def wait_final(self, country: str, upload_id: int, seconds: float = 600) -> dict:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status, body = self.api(country, f"/api/v1/submissions/{upload_id}")
            assert status == 200, body
            if body["status"] in FINAL:
                return body
            time.sleep(0.5)
        raise AssertionError(f"upload {upload_id} did not finish: {body}")


class Browserless:
    """A session through the login form, with urllib (for the requests a page never makes)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.url + path, timeout=60) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, bytes]:
        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(self.url + path, data=data, timeout=60) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def login(self, name: str, password: str = PASSWORD) -> int:
        _, page = self.get("/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        status, _ = self.post("/login", {"name": name, "password": password, "csrf_token": token})
        return status


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    home = tmp_path_factory.mktemp("portal-home")
    samples = tmp_path_factory.mktemp("portal-samples")
    env = {
        **os.environ,
        "MIGSTAT_HOME": str(home),
        "MIGSTAT_PASSWORD": PASSWORD,
        "MIGSTAT_LIMIT_MAX_FILE_BYTES": str(MAX_BYTES),
    }
    made = migstat(env, "sample", "-o", str(samples), "--years", "2023-2024")
    assert made.returncode == 0, made.stderr
    tokens = {}
    for country in COUNTRIES:
        added = migstat(
            env, "users", "add", country.lower(), "--role", "office", "--country", country
        )
        assert added.returncode == 0, added.stderr
        assert "password (shown once)" not in added.stdout  # taken from MIGSTAT_PASSWORD
        token = migstat(env, "users", "token", country.lower())
        tokens[country] = token.stdout.strip()
    assert migstat(env, "users", "add", "coord", "--role", "coordinator").returncode == 0
    port = free_port()
    started = migstat(env, "portal", "up", "--port", str(port))
    assert started.returncode == 0, started.stdout + started.stderr
    url = f"http://127.0.0.1:{port}"
    assert url in started.stdout
    try:
        yield Portal(url, env, samples, tokens)
    finally:
        stopped = migstat(env, "portal", "down")
        assert "stopped" in stopped.stdout


@pytest.mark.slow
def test_office_uploads_in_browser_and_sees_verdicts(
    portal: Portal, browser: object, tmp_path: Path
) -> None:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    outside: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(portal.url) else outside.append(r.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(portal.url + "/")
    page.fill("#name", "gtm")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#drop")
    good = portal.samples / "GTM_entries_exits_2023.xlsx"
    flawed = portal.samples / "GTM_entries_exits_2024.xlsx"
    page.set_input_files("#files", [str(good), str(flawed)])
    page.click("#send")
    # Progress arrives without reloading the page: both rows reach their verdict.
    good_row = page.locator("#uploads tr", has_text=good.name)
    flawed_row = page.locator("#uploads tr", has_text=flawed.name)
    good_row.locator("td.state-published").wait_for(timeout=600_000)
    flawed_row.locator("td.state-quarantined").wait_for(timeout=600_000)
    assert "publicado / published" in good_row.inner_text()
    assert "en cuarentena / quarantined" in flawed_row.inner_text()
    assert any("/uploads.events?ids=" in url for url in asked), "progress is pushed (SSE)"
    assert not any("/uploads.json" in url for url in asked), "the page does not poll"

    flawed_row.locator("a").first.click()
    page.wait_for_selector("#verdict")
    verdict = page.inner_text("#verdict")
    assert verdict.index("En cuarentena") < verdict.index("Quarantined")
    problems = page.inner_text("#problems")
    assert "ADD-001" in problems and "B50" in problems and "261623" in problems
    hit = page.locator("td.hit[data-cell='ENTRADAS_NAC!B50']").first
    assert hit.is_visible()
    assert hit.inner_text().replace(" ", "") == "262623"
    assert "255, 153, 153" in hit.evaluate("cell => getComputedStyle(cell).backgroundColor")

    verdict_url = page.url
    for url in (verdict_url, portal.url + "/", portal.url + "/history", portal.url + "/templates"):
        page.goto(url)
        spanish = " ".join(page.locator("body [lang=es]").all_inner_texts()).lower()
        assert spanish.strip()
        assert not set(re.findall(r"[a-záéíóúñü]+", spanish)) & ENGLISH_WORDS, url
    page.goto(verdict_url)
    with page.expect_download() as download:
        page.click("#download-annotated")
    annotated = tmp_path / "annotated.xlsx"
    download.value.save_as(annotated)
    cell = load_workbook(annotated)["ENTRADAS_NAC"]["B50"]
    assert cell.comment is not None
    assert "Regla ADD-001: esperado 261623, encontrado 262623" in cell.comment.text
    assert "Rule ADD-001: expected 261623" in cell.comment.text
    assert cell.fill.start_color.rgb == "FFFF9999"

    with page.expect_download() as download:
        page.click("#download-report")
    report = tmp_path / "report.xlsx"
    download.value.save_as(report)
    assert load_workbook(report).sheetnames == ["Informe", "Report"]
    context.close()
    assert outside == [], f"requests outside the portal: {outside}"
    assert errors == [], f"script errors: {errors}"


def read_events(session: Browserless, path: str, seconds: float = 600) -> list[tuple[str, dict]]:
    """The server-sent events of one stream, until the server ends it."""
    events: list[tuple[str, dict]] = []
    name, data = "message", ""
    with session.opener.open(session.url + path, timeout=seconds) as answer:
        assert answer.headers["Content-Type"].startswith("text/event-stream")
        for raw in answer:
            line = raw.decode("utf-8").rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif not line and data:
                events.append((name, json.loads(data)))
                name, data = "message", ""
    return events


@pytest.mark.slow
def test_progress_is_pushed_as_server_sent_events(portal: Portal) -> None:
    """An upload's states arrive as ``progress`` events, each state once, in order, ending with
    the verdict and ``done``; another country's upload sends nothing (as if it did not exist)."""
    status, body = portal.api(
        "HND", "/api/v1/submissions", file=portal.samples / "HND_returns_2023.xlsx"
    )
    assert status == 202, body
    upload_id = body["id"]
    office = Browserless(portal.url)
    assert office.login("hnd") in (200, 303)
    events = read_events(office, f"/uploads.events?ids={upload_id}")
    progress = [data for name, data in events if name == "progress"]
    assert events[-1][0] == "done" and progress, events
    states = [item["status"] for item in progress]
    assert all(item["id"] == upload_id for item in progress)
    assert states[-1] in FINAL and progress[-1]["final"], states
    assert all(a != b for a, b in itertools.pairwise(progress)), f"sent without a change: {states}"
    stranger = Browserless(portal.url)
    assert stranger.login("mex") in (200, 303)
    assert read_events(stranger, f"/uploads.events?ids={upload_id}") == [("done", {})]


@pytest.mark.slow
def test_other_countries_get_404(portal: Portal) -> None:
    status, mine = portal.api("GTM", "/api/v1/submissions")
    assert status == 200 and mine, mine
    gtm_upload = mine[0]["id"]
    submission = mine[0]["submission_id"]
    status, body = portal.api("MEX", f"/api/v1/submissions/{gtm_upload}")
    assert status == 404, body
    status, listed = portal.api("MEX", "/api/v1/submissions")
    assert status == 200 and all(item["id"] != gtm_upload for item in listed)

    mex = Browserless(portal.url)
    assert mex.login("mex") == 200
    for path in (
        f"/uploads/{gtm_upload}",
        f"/reports/{submission}",
        f"/reports/{submission}/report.xlsx",
        f"/reports/{submission}/annotated.xlsx",
        f"/reports/{submission}/file",
        "/templates/GTM/entries_exits/2024.xlsx",
        "/matrix",
    ):
        status, page = mex.get(path)
        assert status == 404, path
        assert "No encontrado" in page.decode()
    coordinator = Browserless(portal.url)
    assert coordinator.login("coord") == 200
    status, log = coordinator.get("/audit")
    refused = [row for row in log.decode().split("<tr>") if "<td>mex</td>" in row]
    assert any("not found" in row and "127.0.0.1" in row for row in refused)
    status, calendar = coordinator.get("/matrix")
    assert status == 200 and "en cuarentena / <span" in calendar.decode()
    gtm = Browserless(portal.url)
    assert gtm.login("gtm") == 200
    status, page = gtm.get(f"/reports/{submission}")
    assert status == 200 and "ENTRADAS_NAC" in page.decode()
    status, template = gtm.get("/templates/GTM/entries_exits/2025.xlsx")
    assert status == 200 and template[:2] == b"PK"

    # Mexico sends Guatemala's workbook: refused, naming both countries, nothing loaded.
    other = portal.samples / "GTM_returns_2023.xlsx"
    status, body = portal.api("MEX", "/api/v1/submissions", file=other)
    assert status == 202 and body["status"] == "received"
    final = portal.wait_final("MEX", body["id"])
    assert final["status"] == "rejected"
    assert "GTM" in final["message_es"] and "MEX" in final["message_es"]
    assert "other" not in final["message_es"] and "country" not in final["message_es"]
    assert "GTM" in final["message_en"]
    status, report = portal.api("GTM", "/api/v1/submissions")
    assert all(item["file"] != other.name for item in report)


@pytest.mark.slow
def test_forms_without_csrf_token_are_refused(portal: Portal) -> None:
    anonymous = Browserless(portal.url)
    status, _ = anonymous.post("/login", {"name": "gtm", "password": PASSWORD})
    assert status == 403
    office = Browserless(portal.url)
    assert office.login("gtm") == 200
    status, page = office.post("/logout", {})
    assert status == 403 and "marca de seguridad" in page.decode()
    status, page = office.post("/upload", {"files": "x"})
    assert status in (403, 422)
    status, _ = office.get("/")
    assert status == 200  # still logged in: the forged logout did nothing


@pytest.mark.slow
def test_oversized_and_non_workbook_files_are_refused(portal: Portal) -> None:
    status, body = portal.api("HND", "/api/v1/submissions", data=b"PK\x03\x04" + b"0" * MAX_BYTES)
    assert status == 413, body
    assert "tamaño máximo" in body["error_es"] and "larger than the limit" in body["error"]
    status, body = portal.api("HND", "/api/v1/submissions", data=b"name;total\nGuatemala;12\n")
    assert status == 415, body
    assert "no es un libro" in body["error_es"] and "not an Excel" in body["error"]


@pytest.mark.slow
def test_login_is_throttled(portal: Portal) -> None:
    session = Browserless(portal.url)
    for _ in range(5):
        assert session.login("pan", "wrong-password-000") == 401
    assert session.login("pan") == 429


@pytest.mark.slow
def test_nine_offices_upload_at_once(portal: Portal) -> None:
    files = {country: portal.samples / f"{country}_work_permits_2023.xlsx" for country in COUNTRIES}
    started = time.monotonic()

    def send(country: str) -> tuple[str, int]:
        status, body = portal.api(country, "/api/v1/submissions", file=files[country])
        assert status == 202, body
        return country, body["id"]

    rounds = 0
    with ThreadPoolExecutor(len(COUNTRIES)) as pool:
        sent = list(pool.map(send, COUNTRIES))
    answered = time.monotonic() - started
    verdicts = {}
    for country, upload_id in sent:
        rounds += 1
        verdicts[country] = portal.wait_final(country, upload_id)
    total = time.monotonic() - started
    print(
        f"\nnine offices: all 202 in {answered:.1f} s, all verdicts in {total:.1f} s "
        f"({len(sent)} uploads, {rounds} followed)"
    )
    assert len({upload_id for _, upload_id in sent}) == len(COUNTRIES)
    for country, body in verdicts.items():
        assert body["status"] == "published", (country, body)
    ids = {body["submission_id"] for body in verdicts.values()}
    assert len(ids) == len(COUNTRIES)
    status = json.loads(migstat(portal.env, "status", "--json").stdout)
    received = {item["sha256"] for item in status["submissions"]}
    assert {body["sha256"] for body in verdicts.values()} <= received
    verified = migstat(portal.env, "verify")
    assert verified.returncode == 0, verified.stderr


@pytest.mark.slow
def test_uploads_wait_for_a_hand_run_command_and_survive_a_restart(portal: Portal) -> None:
    """A command run by hand holds the store lock: the worker waits for it (the upload stays
    `reading`); the portal is stopped meanwhile and started again; both uploads, the one being
    read and the one still queued, reach their verdict."""
    from migstat.home import Home
    from migstat.lock import writer_lock

    home = Home(Path(portal.env["MIGSTAT_HOME"]))
    files = [portal.samples / "NIC_asylum_2023.xlsx", portal.samples / "NIC_returns_2023.xlsx"]
    with writer_lock(home, "store", "load (by hand)"):
        ids = []
        for path in files:
            status, body = portal.api("NIC", "/api/v1/submissions", file=path)
            assert status == 202, body
            ids.append(body["id"])
        deadline = time.monotonic() + 120
        while portal.api("NIC", f"/api/v1/submissions/{ids[0]}")[1]["status"] != "reading":
            assert time.monotonic() < deadline, "the worker never started reading"
            time.sleep(0.2)
        stopped = migstat(portal.env, "portal", "down")
        assert "worker" in stopped.stdout
    port = portal.url.rsplit(":", 1)[1]
    started = migstat(portal.env, "portal", "up", "--port", port)
    assert started.returncode == 0, started.stderr
    for upload_id in ids:
        assert portal.wait_final("NIC", upload_id)["status"] == "published"


def test_accounts_store_only_hashes_and_tokens_are_revocable(tmp_path: Path) -> None:
    from migstat.errors import MigstatError
    from migstat.home import Home
    from migstat.portal.db import PortalDB

    with PortalDB(Home(tmp_path)) as db:
        with pytest.raises(MigstatError, match="12 characters"):
            db.add_user("gtm", "office", "GTM", "short")
        with pytest.raises(MigstatError, match="country"):
            db.add_user("gtm", "office", None, PASSWORD)
        db.add_user("gtm", "office", "GTM", PASSWORD)
        token = db.new_token("gtm")
        stored = db.con.execute("select password_hash from users").fetchone()[0]
        token_hash = db.con.execute("select token_hash from tokens").fetchone()[0]
        assert stored.startswith("$argon2") and PASSWORD not in stored
        assert token_hash.startswith("$argon2") and token not in token_hash
        assert db.check_login("gtm", PASSWORD).country == "GTM"
        assert db.check_login("gtm", PASSWORD + "x") is None
        assert db.token_user(token).name == "gtm"
        assert db.token_user(token[:-1] + "x") is None
        assert db.revoke_tokens("gtm") == 1
        assert db.token_user(token) is None
        session, _ = db.new_session("gtm")
        db.disable("gtm")
        assert db.session(session) is None and db.check_login("gtm", PASSWORD) is None


def test_uploads_are_judged_by_content(tmp_path: Path) -> None:
    import io

    from migstat.home import Home
    from migstat.portal.receive import Refused, receive, sniff
    from migstat.workbooks.template import write_template

    book = write_template("asylum", "GTM", 2024, tmp_path / "book.xlsx")
    assert sniff(book) == ".xlsx"
    renamed = tmp_path / "book.csv"
    renamed.write_bytes(book.read_bytes())
    assert sniff(renamed) == ".xlsx"
    (tmp_path / "ole.bin").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    assert sniff(tmp_path / "ole.bin") == ".xls"
    (tmp_path / "fake.xlsx").write_bytes(b"PK\x03\x04 not a zip at all")
    assert sniff(tmp_path / "fake.xlsx") is None
    home = Home(tmp_path / "home")
    got = receive(home, io.BytesIO(book.read_bytes()), "../../etc/GTM asylum 2024.csv", 10**6)
    assert got.file_name == "GTM asylum 2024.xlsx"
    assert got.stored.read_bytes() == book.read_bytes()
    assert not os.access(got.stored, os.W_OK) or os.geteuid() == 0
    with pytest.raises(Refused, match="larger than the limit"):
        receive(home, io.BytesIO(book.read_bytes()), "big.xlsx", 100)
    with pytest.raises(Refused, match="not an Excel"):
        receive(home, io.BytesIO(b"a;b\n1;2\n"), "table.xlsx", 10**6)
    leftovers = list((home.root / "portal" / "incoming").iterdir())
    assert leftovers == []
