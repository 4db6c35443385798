"""Reading requests and writing responses the way Confluent's registry does.

Responses are JSON in ``application/vnd.schemaregistry.v1+json``. A body that is not JSON is 400
(error_code 400); a JSON body of the wrong shape is 422 (error_code 422), or 42201 when the schema
itself is missing or not a string. Boolean query parameters accept ``true``/``false`` in any case.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from odradek.registry import errors
from odradek.registry.formats.protobuf import ProtobufForm
from odradek.registry.model import Reference, Schema, SchemaType, SchemaVersion
from odradek.registry.service import RegistryService

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"
MAX_VERSION = 2**31 - 1


def respond(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False), status, media_type=MEDIA_TYPE
    )


def service_of(request: Request) -> RegistryService:
    service: RegistryService = request.app.state.registry
    return service


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise errors.unprocessable("Request body is empty")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise errors.bad_request(f"Request body is not JSON: {exc}") from exc


def flag(request: Request, name: str, default: bool = False) -> bool:
    value = request.query_params.get(name)
    if value is None:
        return default
    return value.strip().lower() == "true"


def int_param(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise errors.bad_request(f"Query parameter {name} must be an integer, got {value!r}") from exc


def version_spec(text: str) -> int | None:
    """A version number, or None for ``latest``/``-1``; 42202 otherwise."""
    if text in {"latest", "-1"}:
        return None
    try:
        version = int(text)
    except ValueError as exc:
        raise errors.invalid_version(text) from exc
    if not 1 <= version <= MAX_VERSION:
        raise errors.invalid_version(text)
    return version


def schema_request(body: Any, max_bytes: int) -> tuple[Schema, int | None, int | None]:
    """The schema in a register/lookup/compatibility body, with the optional ``id`` and ``version``."""
    if not isinstance(body, dict):
        raise errors.unprocessable("Request body must be a JSON object")
    text = body.get("schema")
    if text is None:
        raise errors.invalid_schema("Empty schema")
    if not isinstance(text, str):
        raise errors.invalid_schema("'schema' must be a string holding the schema")
    size = len(text.encode())
    if size > max_bytes:
        raise errors.schema_too_large(size, max_bytes)
    type_text = body.get("schemaType") or "AVRO"
    try:
        schema_type = SchemaType(str(type_text).upper())
    except ValueError as exc:
        raise errors.invalid_schema(
            f"unknown schema type {type_text!r}; known: AVRO, JSON, PROTOBUF"
        ) from exc
    references = _references(body.get("references"))
    metadata = body.get("metadata")
    rule_set = body.get("ruleSet")
    if metadata is not None and not isinstance(metadata, dict):
        raise errors.unprocessable("'metadata' must be an object")
    if rule_set is not None and not isinstance(rule_set, dict):
        raise errors.RegistryError(42210, "'ruleSet' must be an object")
    schema_id = _optional_int(body, "id")
    version = _optional_int(body, "version")
    return Schema(schema_type, text, references, metadata, rule_set), schema_id, version


def _references(raw: Any) -> tuple[Reference, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise errors.unprocessable("'references' must be a list")
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise errors.unprocessable("each reference is an object with name, subject and version")
        name, subject, version = item.get("name"), item.get("subject"), item.get("version")
        if not isinstance(name, str) or not isinstance(subject, str) or not isinstance(version, int):
            raise errors.invalid_schema("a reference needs a name, a subject and an integer version")
        out.append(Reference(name, subject, version))
    return tuple(out)


def _optional_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise errors.unprocessable(f"'{name}' must be an integer")
    return value


def schema_json(schema: Schema, serialized: str | None = None) -> dict[str, Any]:
    """``schemaType`` (omitted for Avro, as Confluent does), ``references``, ``metadata``, ``ruleSet``,
    ``schema``."""
    out: dict[str, Any] = {}
    if schema.schema_type is not SchemaType.AVRO:
        out["schemaType"] = schema.schema_type.value
    if schema.references:
        out["references"] = [ref.to_json() for ref in schema.references]
    if schema.metadata is not None:
        out["metadata"] = schema.metadata
    if schema.rule_set is not None:
        out["ruleSet"] = schema.rule_set
    out["schema"] = serialized if serialized is not None else schema.text
    return out


def shown_text(service: RegistryService, schema: Schema, request: Request) -> str | None:
    """The schema text to answer when it is not the stored one: for Protobuf, the base64
    descriptor with ``format=serialized``, else ``.proto`` text for a schema registered as a
    descriptor (as Confluent answers)."""
    if schema.schema_type is not SchemaType.PROTOBUF:
        return None
    if request.query_params.get("format") == "serialized":
        form = service.parse(schema).form
        assert isinstance(form, ProtobufForm)
        return form.serialized()
    return service.parser.proto_text(schema)


def version_json(entry: SchemaVersion, serialized: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"subject": entry.subject, "version": entry.version, "id": entry.id}
    body.update(schema_json(entry.schema, serialized))
    if entry.deleted:
        body["deleted"] = True
    return body


def check_subject(subject: str) -> str:
    if not subject or any(ord(c) < 0x20 for c in subject):
        raise errors.invalid_subject(subject)
    return subject
