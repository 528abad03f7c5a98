"""A client of the services' staff HTTP APIs, for ``hrc`` and for the staff console.

Errors are ``StaffApiError`` with the HTTP status and the API's ``error``/``detail``; a service
that cannot be reached raises ``requests.ConnectionError``.
"""
from __future__ import annotations

from typing import Any

import requests

from shared.staff_tokens import ACTOR_HEADER

TIMEOUT_SECONDS = 30


class StaffApiError(Exception):
    def __init__(self, status: int | None, error: str, detail: Any = None):
        prefix = f"{status} " if status else ""
        super().__init__(f"{prefix}{error}" + (f": {detail}" if detail else ""))
        self.status = status
        self.error = error
        self.detail = detail


class StaffApi:
    """A staff HTTP API (the registry's, the reports', the console's): JSON in, JSON out."""

    def __init__(self, url: str, token: str | None, actor: str | None = None):
        self.url = url.rstrip("/")
        self.token = token
        self.actor = actor
        self.session = requests.Session()

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("POST", path, json=body or {})

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("PATCH", path, json=body)

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("PUT", path, json={k: v for k, v in body.items() if v is not None})

    def delete(self, path: str) -> Any:
        return self._call("DELETE", path)

    def post_csv(self, path: str, text: str, **params: Any) -> Any:
        return self._call("POST", path, data=text.encode("utf-8"),
                          params={k: v for k, v in params.items() if v is not None},
                          extra_headers={"Content-Type": "text/csv; charset=utf-8"})

    def get_text(self, path: str) -> str:
        """A route that answers something other than JSON (CSV, HTML)."""
        response = self.session.get(self.url + path, headers=self._headers(),
                                    timeout=TIMEOUT_SECONDS)
        if response.status_code >= 400:
            raise StaffApiError(response.status_code, response.reason or "error",
                                response.text[:500])
        return response.text

    def get_file(self, path: str) -> tuple[bytes, str, str | None]:
        """A route that answers a file: its bytes, content type and Content-Disposition."""
        response = self.session.get(self.url + path, headers=self._headers(),
                                    timeout=TIMEOUT_SECONDS)
        if response.status_code >= 400:
            raise StaffApiError(response.status_code, response.reason or "error",
                                response.text[:500])
        return (response.content, response.headers.get("Content-Type", "application/octet-stream"),
                response.headers.get("Content-Disposition"))

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.actor:
            headers[ACTOR_HEADER] = self.actor
        return headers

    def _call(self, method: str, path: str, extra_headers: dict[str, str] | None = None,
              **kwargs: Any) -> Any:
        response = self.session.request(
            method, self.url + path, headers={**self._headers(), **(extra_headers or {})},
            timeout=TIMEOUT_SECONDS, **kwargs
        )
        try:
            body = response.json()
        except ValueError:
            body = {"error": response.reason or "error", "detail": response.text[:500]}
        if response.status_code >= 400:
            raise StaffApiError(response.status_code, body.get("error", ""), body.get("detail"))
        return body
