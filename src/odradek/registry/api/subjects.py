"""``/subjects``: subjects and their versions (list, register, look up, get, delete, referencedby)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from odradek.registry import errors, writes
from odradek.registry.api.forwarding import reads
from odradek.registry.api.forwarding import writes as write_endpoint
from odradek.registry.api.io import (
    check_subject,
    flag,
    int_param,
    json_body,
    respond,
    schema_request,
    shown_text,
    version_json,
    version_spec,
)
from odradek.registry.model import SchemaVersion, matches_prefix
from odradek.registry.service import RegistryService


def find_version(
    service: RegistryService, subject: str, version_text: str, include_deleted: bool
) -> SchemaVersion:
    version = version_spec(version_text)
    store = service.store
    if not store.has_subject(subject):
        raise errors.subject_not_found(subject)
    if version is None:
        entry = store.latest(subject, include_deleted)
        if entry is None:
            raise errors.subject_not_found(subject)
        return entry
    entry = store.version(subject, version)
    if entry is None or (entry.deleted and not include_deleted):
        raise errors.version_not_found(version)
    return entry


def _page(items: list[object], request: Request) -> list[object]:
    offset = max(0, int_param(request, "offset", 0))
    limit = int_param(request, "limit", -1)
    items = items[offset:]
    return items[:limit] if limit >= 0 else items


async def list_subjects(request: Request, service: RegistryService) -> Response:
    prefix = request.query_params.get("subjectPrefix", "")
    deleted_only = flag(request, "deletedOnly")
    store = service.store
    subjects = store.subjects(include_deleted=flag(request, "deleted") or deleted_only)
    if deleted_only:
        live = set(store.subjects())
        subjects = [s for s in subjects if s not in live]
    subjects = [s for s in subjects if matches_prefix(s, prefix)]
    return respond(_page(list(subjects), request))


async def list_versions(request: Request, service: RegistryService) -> Response:
    subject = request.path_params["subject"]
    deleted_only = flag(request, "deletedOnly")
    entries = service.store.subject_versions(
        subject, include_deleted=flag(request, "deleted") or deleted_only
    )
    if deleted_only:
        entries = [e for e in entries if e.deleted]
    if not entries and not deleted_only:
        raise errors.subject_not_found(subject)
    as_negative = flag(request, "deletedAsNegative")
    return respond(_page([-e.version if as_negative and e.deleted else e.version for e in entries], request))


async def get_version(request: Request, service: RegistryService) -> Response:
    entry = find_version(
        service, request.path_params["subject"], request.path_params["version"], flag(request, "deleted")
    )
    return respond(version_json(entry, shown_text(service, entry.schema, request)))


async def get_version_schema(request: Request, service: RegistryService) -> Response:
    entry = find_version(
        service, request.path_params["subject"], request.path_params["version"], flag(request, "deleted")
    )
    text = shown_text(service, entry.schema, request) or entry.schema.text
    return PlainTextResponse(text, media_type="application/vnd.schemaregistry.v1+json")


async def referenced_by(request: Request, service: RegistryService) -> Response:
    subject = request.path_params["subject"]
    entry = find_version(service, subject, request.path_params["version"], True)
    return respond(_page(list(service.store.referencing(subject, entry.version)), request))


async def lookup(request: Request, service: RegistryService) -> Response:
    subject = check_subject(request.path_params["subject"])
    schema, _, _ = schema_request(await json_body(request), service.config.max_schema_bytes)
    include_deleted = flag(request, "deleted")
    if not service.store.has_subject(subject) or (
        not include_deleted and service.store.latest(subject) is None
    ):
        raise errors.subject_not_found(subject)
    normalize = flag(request, "normalize") or service.store.normalize(subject)
    parsed = service.parse(schema)
    found = service.find_in_subject(subject, schema, parsed, normalize, include_deleted)
    if found is None:
        raise errors.schema_not_found()
    return respond(version_json(found, shown_text(service, found.schema, request)))


async def register(request: Request, service: RegistryService) -> Response:
    subject = check_subject(request.path_params["subject"])
    schema, schema_id, version = schema_request(await json_body(request), service.config.max_schema_bytes)
    entry = await writes.register(service, subject, schema, flag(request, "normalize"), schema_id, version)
    body = {"id": entry.id}
    return respond(body)


async def delete_subject(request: Request, service: RegistryService) -> Response:
    subject = request.path_params["subject"]
    return respond(await writes.delete_subject(service, subject, flag(request, "permanent")))


async def delete_version(request: Request, service: RegistryService) -> Response:
    subject = request.path_params["subject"]
    permanent = flag(request, "permanent")
    if not permanent and version_spec(request.path_params["version"]) is None:  # "latest" means a live one
        entry = find_version(service, subject, "latest", include_deleted=False)
        return respond(await writes.delete_version(service, subject, entry, permanent))
    entry = find_version(service, subject, request.path_params["version"], include_deleted=True)
    return respond(await writes.delete_version(service, subject, entry, permanent))


async def by_metadata(request: Request, service: RegistryService) -> Response:
    subject = request.path_params["subject"]
    wanted = dict(
        zip(request.query_params.getlist("key"), request.query_params.getlist("value"), strict=False)
    )
    for entry in reversed(service.store.subject_versions(subject, flag(request, "deleted"))):
        properties = (entry.schema.metadata or {}).get("properties", {}) or {}
        if all(properties.get(k) == v for k, v in wanted.items()):
            return respond(version_json(entry, shown_text(service, entry.schema, request)))
    if not service.store.has_subject(subject):
        raise errors.subject_not_found(subject)
    raise errors.version_not_found("with that metadata")


# Subjects may contain "/" (Protobuf import paths as reference subjects, sent as %2F), hence the
# path converter; the most specific routes come first.
S = "/subjects/{subject:path}"
ROUTES = [
    Route("/subjects", reads(list_subjects), methods=["GET"]),
    Route(S + "/versions/{version}/schema", reads(get_version_schema), methods=["GET"]),
    Route(S + "/versions/{version}/referencedby", reads(referenced_by), methods=["GET"]),
    Route(S + "/versions/{version}", reads(get_version), methods=["GET"]),
    Route(S + "/versions/{version}", write_endpoint(delete_version), methods=["DELETE"]),
    Route(S + "/versions", reads(list_versions), methods=["GET"]),
    Route(S + "/versions", write_endpoint(register), methods=["POST"]),
    Route(S + "/metadata", reads(by_metadata), methods=["GET"]),
    Route(S, reads(lookup), methods=["POST"]),
    Route(S, write_endpoint(delete_subject), methods=["DELETE"]),
]
