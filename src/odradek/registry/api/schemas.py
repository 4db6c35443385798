"""``/schemas``: schemas by id (with ``/schema``, ``/subjects``, ``/versions``), types, and the list."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from odradek.model.ids import SchemaId
from odradek.registry import errors
from odradek.registry.api.forwarding import reads
from odradek.registry.api.io import (
    MEDIA_TYPE,
    flag,
    int_param,
    respond,
    schema_json,
    shown_text,
    version_json,
)
from odradek.registry.model import DEFAULT_CONTEXT, Schema, SchemaType, context_of, matches_prefix
from odradek.registry.service import RegistryService


def _id(request: Request) -> SchemaId:
    text = request.path_params["id"]
    try:
        return SchemaId(int(text))
    except ValueError as exc:
        raise errors.schema_not_found(text) from exc


def _context(request: Request) -> str:
    subject = request.query_params.get("subject")
    return context_of(subject) if subject else DEFAULT_CONTEXT


async def _schema(request: Request, service: RegistryService) -> Schema:
    schema_id = _id(request)
    context = _context(request)
    schema = service.store.schema(context, schema_id)
    if schema is None:
        # not known here yet: perhaps written a moment ago; read to the end and look again
        await service.sync()
        schema = service.store.schema(context, schema_id)
    if schema is None:
        raise errors.schema_not_found(schema_id)
    return schema


async def by_id(request: Request) -> Response:
    service = request.app.state.registry
    schema = await _schema(request, service)
    body = schema_json(schema, shown_text(service, schema, request))
    if flag(request, "fetchMaxId"):
        body["maxId"] = service.store.max_id[_context(request)]
    return respond(body)


async def raw_by_id(request: Request) -> Response:
    service = request.app.state.registry
    schema = await _schema(request, service)
    return PlainTextResponse(shown_text(service, schema, request) or schema.text, media_type=MEDIA_TYPE)


async def subjects_of_id(request: Request, service: RegistryService) -> Response:
    schema_id, context = _id(request), _context(request)
    if service.store.schema(context, schema_id) is None:
        raise errors.schema_not_found(schema_id)
    pairs = service.store.versions_of_id(context, schema_id, flag(request, "deleted"))
    return respond(sorted({subject for subject, _ in pairs}))


async def versions_of_id(request: Request, service: RegistryService) -> Response:
    schema_id, context = _id(request), _context(request)
    if service.store.schema(context, schema_id) is None:
        raise errors.schema_not_found(schema_id)
    pairs = service.store.versions_of_id(context, schema_id, flag(request, "deleted"))
    return respond([{"subject": subject, "version": version} for subject, version in pairs])


async def types(_request: Request) -> Response:
    return respond([t.value for t in (SchemaType.JSON, SchemaType.PROTOBUF, SchemaType.AVRO)])


async def list_schemas(request: Request, service: RegistryService) -> Response:
    prefix = request.query_params.get("subjectPrefix", "")
    include_deleted = flag(request, "deleted")
    latest_only = flag(request, "latestOnly")
    out = []
    for subject in service.store.subjects(include_deleted):
        if not matches_prefix(subject, prefix):
            continue
        entries = service.store.subject_versions(subject, include_deleted)
        for entry in entries[-1:] if latest_only else entries:
            out.append(version_json(entry, shown_text(service, entry.schema, request)))
    offset = max(0, int_param(request, "offset", 0))
    limit = int_param(request, "limit", -1)
    out = out[offset:]
    return respond(out[:limit] if limit >= 0 else out)


ROUTES = [
    Route("/schemas", reads(list_schemas), methods=["GET"]),
    Route("/schemas/types", types, methods=["GET"]),
    Route("/schemas/ids/{id}", by_id, methods=["GET"]),
    Route("/schemas/ids/{id}/schema", raw_by_id, methods=["GET"]),
    Route("/schemas/ids/{id}/subjects", reads(subjects_of_id), methods=["GET"]),
    Route("/schemas/ids/{id}/versions", reads(versions_of_id), methods=["GET"]),
]
