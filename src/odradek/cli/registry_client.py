"""A small blocking client of the schema registry's REST API for the CLI (httpx).

Errors come back as `CliError` carrying Confluent's error code and message, e.g.
``40401 Subject 'x' not found.``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

import httpx

from odradek.cli.errors import CliError

DEFAULT_URL = "http://127.0.0.1:8081"
MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"


def default_url() -> str:
    return os.environ.get("ODRADEK_SCHEMA_REGISTRY_URL", DEFAULT_URL)


def subject_path(subject: str) -> str:
    return quote(subject, safe="")


class RegistryClient:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers={"Accept": MEDIA_TYPE})

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        try:
            response = self.http.request(
                method,
                path,
                json=body,
                params={k: v for k, v in (params or {}).items() if v is not None},
                headers={"Content-Type": MEDIA_TYPE} if body is not None else None,
            )
        except httpx.HTTPError as exc:
            raise CliError(f"schema registry at {self.http.base_url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                error = response.json()
                message = f"{error.get('error_code')} {error.get('message')}"
            except ValueError:
                message = f"HTTP {response.status_code} {response.text[:200]}"
            raise CliError(message)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()
