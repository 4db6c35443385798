"""``/compatibility``: would this schema be accepted? Against one version, or all the level checks."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.registry import errors
from odradek.registry.api.forwarding import reads
from odradek.registry.api.io import flag, json_body, respond, schema_request, version_spec
from odradek.registry.service import RegistryService


async def against_version(request: Request, service: RegistryService) -> Response:
    subject = request.path_params["subject"]
    version = version_spec(request.path_params["version"])
    schema, _, _ = schema_request(await json_body(request), service.config.max_schema_bytes)
    store = service.store
    if store.latest(subject) is None:
        raise errors.subject_not_found(subject)
    entry = store.latest(subject) if version is None else store.version(subject, version)
    if entry is None or entry.deleted:
        raise errors.version_not_found(version)
    parsed = service.parse(schema)
    findings = service.findings(subject, parsed, store.compatibility(subject), entry.version)
    return _answer(request, [str(f) for f in findings])


async def against_all(request: Request, service: RegistryService) -> Response:
    subject = request.path_params["subject"]
    schema, _, _ = schema_request(await json_body(request), service.config.max_schema_bytes)
    parsed = service.parse(schema)
    findings = service.findings(subject, parsed, service.store.compatibility(subject))
    return _answer(request, [str(f) for f in findings])


def _answer(request: Request, messages: list[str]) -> Response:
    body: dict[str, object] = {"is_compatible": not messages}
    if flag(request, "verbose"):
        body["messages"] = messages
    return respond(body)


ROUTES = [
    Route(
        "/compatibility/subjects/{subject:path}/versions/{version}", reads(against_version), methods=["POST"]
    ),
    Route("/compatibility/subjects/{subject:path}/versions", reads(against_all), methods=["POST"]),
]
