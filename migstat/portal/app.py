"""The portal's web application (FastAPI): pages for offices and coordinators, and the API.

Sessions live in ``portal.sqlite``; the cookie holds the session id signed with the home's
secret (HMAC-SHA256), HttpOnly and SameSite=Strict. Every form and every upload carries the
session's CSRF token; the login form a signed double-submit token. An office sees its own
country only: anything of another country answers 404, as if it did not exist. Pages load
nothing from outside this server (``Content-Security-Policy: default-src 'self'``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from loaders.limits import Limits
from migstat.errors import MigstatError
from migstat.home import Home
from migstat.portal import verdicts
from migstat.portal.db import FINAL_STATES, PortalDB, User, portal_dir
from migstat.portal.receive import Refused, receive

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "migstat_session"
LOGIN_COOKIE = "migstat_login"
STATE_TEXT = {
    "received": ("recibido", "received"),
    "reading": ("leyendo", "reading"),
    "checking": ("verificando", "checking"),
    "published": ("publicado", "published"),
    "quarantined": ("en cuarentena", "quarantined"),
    "rejected": ("rechazado", "rejected"),
    "superseded": ("reemplazado", "superseded"),
    "withdrawn": ("retirado", "withdrawn"),
    "failed": ("no terminó", "did not finish"),
    "accepted": ("aceptado", "accepted"),
    "loaded": ("cargado", "loaded"),
}
NOT_FOUND = ("No encontrado", "Not found")
EVENT_POLL_SECONDS = 0.5
"""How often an event stream looks at the states the worker writes."""
EVENT_STREAM_SECONDS = 600
"""How long one event stream lasts before the browser reconnects (bounds idle connections)."""


def secret_key(home: Home) -> bytes:
    path = portal_dir(home) / "secret"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def sign(key: bytes, value: str) -> str:
    return f"{value}.{hmac.new(key, value.encode(), hashlib.sha256).hexdigest()}"


def unsign(key: bytes, signed: str | None) -> str | None:
    if not signed or "." not in signed:
        return None
    value, _, signature = signed.rpartition(".")
    expected = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return value if hmac.compare_digest(signature, expected) else None


def address(request: Request) -> str:
    return request.client.host if request.client else "?"


def create_app(home: Home | None = None) -> FastAPI:
    home = home or Home.from_env()
    home.ensure()
    key = secret_key(home)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["state_text"] = lambda state: STATE_TEXT.get(state, (state, state))
    app = FastAPI(title="migstat portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def db() -> PortalDB:
        return PortalDB(home)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
            "form-action 'self'; base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.headers.get("accept", "").startswith(
            "application/json"
        ):
            raised: object = error.detail  # starlette types it str; the portal raises dicts too
            detail = raised if isinstance(raised, dict) else None
            body = detail or {
                "error": "not found" if error.status_code == 404 else str(error.detail),
                "error_es": NOT_FOUND[0] if error.status_code == 404 else str(error.detail),
            }
            return JSONResponse(body, status_code=error.status_code)
        if error.status_code == 401:
            return RedirectResponse("/login", status_code=303)
        raised_detail: object = error.detail
        texts: dict[str, str] = raised_detail if isinstance(raised_detail, dict) else {}
        return templates.TemplateResponse(
            request,
            "error.html",
            {
                "user": None,
                "status": error.status_code,
                "es": texts.get("error_es", NOT_FOUND[0]),
                "en": texts.get("error", NOT_FOUND[1]),
            },
            status_code=error.status_code,
        )

    def current(request: Request) -> tuple[User, str, str] | None:
        session_id = unsign(key, request.cookies.get(SESSION_COOKIE))
        if session_id is None:
            return None
        with db() as portal:
            found = portal.session(session_id)
        return None if found is None else (found[0], found[1], session_id)

    def page_user(request: Request) -> tuple[User, str]:
        found = current(request)
        if found is None:
            raise HTTPException(401)
        return found[0], found[1]

    def api_user(request: Request) -> User:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            with db() as portal:
                user = portal.token_user(header[7:].strip())
            if user is not None:
                return user
        raise HTTPException(
            401,
            {"error": "a valid bearer token is needed", "error_es": "falta una clave válida"},
        )

    def check_csrf(expected: str, given: str | None) -> None:
        if not given or not hmac.compare_digest(expected, given):
            raise HTTPException(
                403,
                {
                    "error_es": "Formulario vencido o ajeno (falta la marca de seguridad): "
                    "recargue la página",
                    "error": "Expired or foreign form (security token missing): reload the page",
                },
            )

    def audit(user: User | None, request: Request, action: str, detail: str = "") -> None:
        with db() as portal:
            portal.audit(user.name if user else None, address(request), action, detail)

    def not_found() -> HTTPException:
        return HTTPException(404, {"error_es": NOT_FOUND[0], "error": NOT_FOUND[1]})

    def visible_upload(user: User, upload_id: int, request: Request) -> dict[str, Any]:
        with db() as portal:
            upload = portal.upload(upload_id)
        if upload is None or not user.may_see(upload["country"]):
            audit(user, request, "not found", f"upload {upload_id}")
            raise not_found()
        return upload

    def visible_submission(user: User, submission_id: int, request: Request) -> dict[str, Any]:
        item = verdicts.submission(home, submission_id)
        if item is None or not user.may_see(item["country"]):
            audit(user, request, "not found", f"submission {submission_id} {request.url.path}")
            raise not_found()
        return item

    def render(request: Request, name: str, user: User, csrf: str, **context: Any) -> Response:
        return templates.TemplateResponse(request, name, {"user": user, "csrf": csrf, **context})

    # ------------------------------------------------------------------ pages
    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/login")
    def login_page(request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = templates.TemplateResponse(
            request, "login.html", {"user": None, "csrf": token, "error": None}
        )
        response.set_cookie(
            LOGIN_COOKIE, sign(key, token), httponly=True, samesite="strict", max_age=3600
        )
        return response

    @app.post("/login")
    def login(
        request: Request,
        name: str = Form(...),
        password: str = Form(...),
        csrf_token: str = Form(""),
    ) -> Response:
        expected = unsign(key, request.cookies.get(LOGIN_COOKIE))
        check_csrf(expected or secrets.token_hex(8), csrf_token)
        where = address(request)
        with db() as portal:
            if portal.throttled(name, where):
                portal.audit(name, where, "login throttled")
                error = (
                    "Demasiados intentos fallidos: espere 15 minutos",
                    "Too many failed attempts: wait 15 minutes",
                )
                return templates.TemplateResponse(
                    request,
                    "login.html",
                    {"user": None, "csrf": csrf_token, "error": error},
                    status_code=429,
                )
            user = portal.check_login(name, password)
            portal.note_login(name, where, user is not None)
            portal.audit(name, where, "login" if user else "login failed")
            if user is None:
                return templates.TemplateResponse(
                    request,
                    "login.html",
                    {
                        "user": None,
                        "csrf": csrf_token,
                        "error": (
                            "Nombre o contraseña incorrectos",
                            "Wrong name or password",
                        ),
                    },
                    status_code=401,
                )
            session_id, _ = portal.new_session(user.name)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            sign(key, session_id),
            httponly=True,
            samesite="strict",
            secure=os.environ.get("MIGSTAT_PORTAL_SECURE_COOKIES") == "1",
        )
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        found = current(request)
        if found is not None:
            check_csrf(found[1], csrf_token)
            with db() as portal:
                portal.end_session(found[2])
            audit(found[0], request, "logout")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/")
    def index(request: Request) -> Response:
        user, csrf = page_user(request)
        with db() as portal:
            uploads = portal.uploads(None if user.is_coordinator else user.country)[:50]
        max_bytes = Limits.from_home(home).max_file_bytes
        return render(request, "index.html", user, csrf, uploads=uploads, max_mb=max_bytes / 2**20)

    @app.post("/upload")
    async def upload(request: Request, files: list[UploadFile] = File(...)) -> Response:
        user, csrf = page_user(request)
        form = await request.form()
        given = request.headers.get("x-csrf-token") or str(form.get("csrf_token") or "")
        check_csrf(csrf, given)
        if user.is_coordinator:
            raise HTTPException(
                403,
                {
                    "error_es": "Solo las oficinas de país envían libros",
                    "error": "Only country offices send workbooks",
                },
            )
        accepted: list[dict[str, object]] = []
        refused: list[dict[str, object]] = []
        for item in files:
            outcome = take(user, request, item, "page")
            (accepted if "id" in outcome else refused).append(outcome)
        return JSONResponse({"uploads": accepted, "refused": refused})

    def take(user: User, request: Request, item: UploadFile, via: str) -> dict[str, Any]:
        from migstat.portal.jobs import process_upload

        name = item.filename or "workbook"
        try:
            got = receive(home, item.file, name, Limits.from_home(home).max_file_bytes)
        except Refused as refusal:
            audit(user, request, "upload refused", f"{name}: {refusal.en}")
            return {"file": name, "es": refusal.es, "en": refusal.en, "status": refusal.status}
        with db() as portal:
            upload_id = portal.add_upload(
                user, got.file_name, got.sha256, got.size_bytes, got.stored, via
            )
            portal.audit(
                user.name,
                address(request),
                "upload",
                f"upload {upload_id} {got.file_name} sha256 {got.sha256}",
            )
        process_upload(upload_id)
        return {"id": upload_id, "file": got.file_name, "status": "received"}

    @app.get("/uploads.json")
    def uploads_json(request: Request, ids: str = "") -> Response:
        user, _ = page_user(request)
        wanted = [int(part) for part in ids.split(",") if part.strip().isdigit()][:200]
        with db() as portal:
            rows = portal.uploads(None if user.is_coordinator else user.country, wanted)
        return JSONResponse([progress(row) for row in rows])

    @app.get("/uploads.events")
    async def upload_events(request: Request, ids: str = "") -> Response:
        """The progress of the caller's uploads pushed as server-sent events: one ``progress``
        event per upload whenever its state changes, then ``done`` once every one is final.
        The worker writes the states to ``portal.sqlite``; this stream reads them every half
        second on the server (one small query) and sends only changes, so the page no longer
        asks again and again. A stream lasts at most ``EVENT_STREAM_SECONDS``; the browser's
        EventSource reconnects by itself."""
        user, _ = await asyncio.to_thread(page_user, request)
        wanted = [int(part) for part in ids.split(",") if part.strip().isdigit()][:200]
        country = None if user.is_coordinator else user.country

        def states() -> list[dict[str, Any]]:
            with db() as portal:
                return [progress(row) for row in portal.uploads(country, wanted)]

        async def stream() -> AsyncIterator[str]:
            sent: dict[int, tuple[object, ...]] = {}
            yield "retry: 2000\n\n"
            started = time.monotonic()
            quiet = 0.0
            while time.monotonic() - started < EVENT_STREAM_SECONDS:
                if await request.is_disconnected():
                    return
                items = await asyncio.to_thread(states)
                for item in items:
                    seen = (item["status"], item["message_es"], item["submission_id"])
                    if sent.get(item["id"]) != seen:
                        sent[item["id"]] = seen
                        quiet = 0.0
                        yield f"event: progress\ndata: {json.dumps(item)}\n\n"
                if all(item["final"] for item in items):
                    yield "event: done\ndata: {}\n\n"
                    return
                await asyncio.sleep(EVENT_POLL_SECONDS)
                quiet += EVENT_POLL_SECONDS
                if quiet >= 15:
                    quiet = 0.0
                    yield ": still working\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    def progress(row: dict[str, Any]) -> dict[str, Any]:
        es, en = STATE_TEXT.get(row["state"], (row["state"], row["state"]))
        return {
            "id": row["id"],
            "file": row["file_name"],
            "status": row["state"],
            "status_es": es,
            "status_en": en,
            "final": row["state"] in FINAL_STATES,
            "submission_id": row["submission_id"],
            "message_es": row["message_es"],
            "message_en": row["message_en"],
            "url": f"/uploads/{row['id']}",
        }

    @app.get("/uploads/{upload_id}")
    def upload_page(request: Request, upload_id: int) -> Response:
        user, csrf = page_user(request)
        row = visible_upload(user, upload_id, request)
        context = verdict_context(row["submission_id"]) if row["submission_id"] else {}
        audit(user, request, "view upload", str(upload_id))
        return render(request, "upload.html", user, csrf, upload=row, **context)

    def verdict_context(submission_id: int) -> dict[str, Any]:
        item = verdicts.submission(home, submission_id)
        found = verdicts.report(home, submission_id)
        shown = []
        if found is not None and item is not None:
            shown = verdicts.previews(verdicts.workbook_path(home, item), found.problems)
        return {"item": item, "report": found, "previews": shown}

    @app.get("/reports/{submission_id}")
    def report_page(request: Request, submission_id: int) -> Response:
        user, csrf = page_user(request)
        visible_submission(user, submission_id, request)
        audit(user, request, "view report", str(submission_id))
        return render(
            request, "upload.html", user, csrf, upload=None, **verdict_context(submission_id)
        )

    @app.get("/reports/{submission_id}/report.xlsx")
    def report_download(request: Request, submission_id: int) -> Response:
        user, _ = page_user(request)
        visible_submission(user, submission_id, request)
        found = verdicts.report(home, submission_id)
        if found is None:
            raise not_found()
        audit(user, request, "download report", str(submission_id))
        return xlsx(verdicts.report_xlsx(found), f"informe-report-{submission_id}.xlsx")

    @app.get("/reports/{submission_id}/annotated.xlsx")
    def annotated_download(request: Request, submission_id: int) -> Response:
        user, _ = page_user(request)
        item = visible_submission(user, submission_id, request)
        found = verdicts.report(home, submission_id)
        path = verdicts.workbook_path(home, item)
        if found is None or path is None:
            raise not_found()
        try:
            content = verdicts.annotated(path, found.problems)
        except MigstatError as error:
            raise HTTPException(
                409,
                {
                    "error_es": "Solo se pueden anotar libros .xlsx; descargue el informe",
                    "error": f"{error}; download the report instead",
                },
            ) from error
        audit(user, request, "download annotated workbook", str(submission_id))
        stem = Path(item["file"] or "workbook").stem
        return xlsx(content, f"{stem}-anotado-annotated.xlsx")

    @app.get("/reports/{submission_id}/file")
    def original_download(request: Request, submission_id: int) -> Response:
        user, _ = page_user(request)
        item = visible_submission(user, submission_id, request)
        path = verdicts.workbook_path(home, item)
        if path is None:
            raise not_found()
        audit(user, request, "download file", str(submission_id))
        return Response(
            path.read_bytes(),
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{item["file"]}"'},
        )

    def xlsx(content: bytes, name: str) -> Response:
        return Response(
            content,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.get("/history")
    def history(request: Request) -> Response:
        user, csrf = page_user(request)
        items = [item for item in verdicts.submissions(home) if user.may_see(item["country"])]
        items.sort(key=lambda item: item["id"], reverse=True)
        return render(request, "history.html", user, csrf, items=items)

    @app.get("/matrix")
    def matrix_page(request: Request) -> Response:
        user, csrf = page_user(request)
        if not user.is_coordinator:
            raise not_found()
        from migstat.specs import load_specs

        specs = load_specs()
        countries = sorted(specs.countries)
        sources = sorted(specs.sources)
        grid = verdicts.matrix(home, countries, sources)
        return render(
            request,
            "matrix.html",
            user,
            csrf,
            countries=countries,
            sources=sources,
            grid=grid,
        )

    @app.get("/templates")
    def templates_page(request: Request) -> Response:
        user, csrf = page_user(request)
        from datetime import date

        from migstat.specs import load_specs

        specs = load_specs()
        if user.is_coordinator:
            countries = sorted(specs.countries)
        else:
            countries = [user.country] if user.country else []
        year = date.today().year
        return render(
            request,
            "templates.html",
            user,
            csrf,
            countries=countries,
            sources=sorted(specs.sources),
            years=list(range(year, year - 6, -1)),
        )

    @app.get("/templates/{country}/{source}/{year}.xlsx")
    def template_download(request: Request, country: str, source: str, year: int) -> Response:
        user, _ = page_user(request)
        if not user.may_see(country):
            raise not_found()
        from migstat.workbooks.template import write_template

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{country}_{source}_{year}.xlsx"
            try:
                write_template(source, country, year, path)
            except MigstatError as error:
                raise not_found() from error
            content = path.read_bytes()
        audit(user, request, "download template", f"{country} {source} {year}")
        return xlsx(content, f"{country}_{source}_{year}.xlsx")

    @app.get("/audit")
    def audit_page(request: Request) -> Response:
        user, csrf = page_user(request)
        if not user.is_coordinator:
            raise not_found()
        with db() as portal:
            rows = portal.audit_rows(500)
        return render(request, "audit.html", user, csrf, rows=rows)

    # -------------------------------------------------------------------- API
    def api_view(row: dict[str, Any]) -> dict[str, Any]:
        body = progress(row)
        body.pop("url")
        body["received_at"] = row["received_at"]
        body["sha256"] = row["sha256"]
        if row["submission_id"] and row["state"] in FINAL_STATES:
            found = verdicts.report(home, row["submission_id"])
            if found is not None:
                body["verdict"] = found.status
                body["verdict_es"] = found.status_text("es")
                body["verdict_en"] = found.status_text("en")
                body["failures"] = [
                    {
                        "severity": p.severity,
                        "rule": p.rule_id,
                        "sheet": p.sheet,
                        "cell": p.cell,
                        "expected": p.expected,
                        "found": p.found,
                        "message_es": p.message_es,
                        "message_en": p.message_en,
                    }
                    for p in found.problems
                ]
        return body

    @app.post("/api/v1/submissions", status_code=202)
    def api_submit(request: Request, file: UploadFile = File(...)) -> Response:
        user = api_user(request)
        if user.is_coordinator:
            raise HTTPException(
                403,
                {
                    "error_es": "Solo las oficinas de país envían libros",
                    "error": "Only country offices send workbooks",
                },
            )
        outcome = take(user, request, file, "api")
        if "id" not in outcome:
            return JSONResponse(
                {"error": outcome["en"], "error_es": outcome["es"]}, status_code=outcome["status"]
            )
        return JSONResponse({"id": outcome["id"], "status": "received"}, status_code=202)

    @app.get("/api/v1/submissions/{upload_id}")
    def api_one(request: Request, upload_id: int) -> Response:
        user = api_user(request)
        row = visible_upload(user, upload_id, request)
        audit(user, request, "api view upload", str(upload_id))
        return JSONResponse(api_view(row))

    @app.get("/api/v1/submissions")
    def api_list(request: Request) -> Response:
        user = api_user(request)
        audit(user, request, "api list uploads")
        with db() as portal:
            rows = portal.uploads(None if user.is_coordinator else user.country)
        return JSONResponse([progress(row) | {"url": None} for row in rows])

    return app
