"""A small client for Superset's REST API (login, dashboards, charts, chart data).

Standard library only, so that tests and benchmarks in the main environment can talk to the
Superset process without importing Superset.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from typing import Any

from migstat.errors import MigstatError


class SupersetApiError(MigstatError):
    """A Superset REST call failed."""


@dataclass
class SupersetClient:
    """A logged-in session: bearer token for the API, cookie session and CSRF token for POSTs."""

    url: str
    token: str = ""
    csrf: str = ""
    cookies: CookieJar = field(default_factory=CookieJar)
    timeout: float = 60.0

    def __post_init__(self) -> None:
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    @classmethod
    def login(cls, url: str, username: str, password: str) -> SupersetClient:
        client = cls(url.rstrip("/"))
        answer = client.request(
            "POST",
            "/api/v1/security/login",
            {"username": username, "password": password, "provider": "db", "refresh": False},
        )
        client.token = str(answer["access_token"])
        client.csrf = str(client.request("GET", "/api/v1/security/csrf_token/")["result"])
        return client

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Call the API; return the decoded JSON or raise with the status and message."""
        headers = {"Accept": "application/json", "Referer": self.url}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.csrf:
            headers["X-CSRFToken"] = self.csrf
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method, headers=headers
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", errors="replace")[:2000]
            raise SupersetApiError(f"{method} {path} -> HTTP {error.code}: {detail}") from error

    def get(self, path: str, **query: Any) -> Any:
        if query:
            path = f"{path}?{urllib.parse.urlencode(query)}"
        return self.request("GET", path)

    def dashboards(self) -> list[dict[str, Any]]:
        """Every dashboard (id, slug, title)."""
        rison = "(columns:!(id,slug,dashboard_title),page_size:100)"
        return list(self.get("/api/v1/dashboard/", q=rison)["result"])

    def dashboard(self, id_or_slug: int | str) -> dict[str, Any]:
        return dict(self.get(f"/api/v1/dashboard/{id_or_slug}")["result"])

    def dashboard_charts(self, id_or_slug: int | str) -> list[dict[str, Any]]:
        return list(self.get(f"/api/v1/dashboard/{id_or_slug}/charts")["result"])

    def chart(self, chart_id: int) -> dict[str, Any]:
        return dict(self.get(f"/api/v1/chart/{chart_id}")["result"])

    def chart_data(self, chart_id: int) -> list[dict[str, Any]]:
        """The rows of a saved chart, as ``/api/v1/chart/<id>/data/`` runs its query context."""
        answer = self.get(f"/api/v1/chart/{chart_id}/data/", format="json", type="full")
        return list(answer["result"][0]["data"])

    def query_data(self, query_context: dict[str, Any]) -> list[dict[str, Any]]:
        """Run a query context (what a dashboard sends, filters included)."""
        answer = self.request("POST", "/api/v1/chart/data", query_context)
        return list(answer["result"][0]["data"])
