"""The root, ``/contexts`` and ``/v1/metadata/id``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.registry import errors
from odradek.registry.api.contexts import qualifier
from odradek.registry.api.forwarding import reads
from odradek.registry.api.io import respond
from odradek.registry.service import RegistryService


async def root(_request: Request) -> Response:
    return respond({})


async def contexts(_request: Request, service: RegistryService) -> Response:
    return respond(service.store.contexts())


async def delete_context(request: Request, service: RegistryService) -> Response:
    context = request.path_params["context"]
    try:
        prefix = qualifier(context)
    except ValueError as exc:
        raise errors.bad_request(str(exc)) from None
    if prefix and any(s.startswith(prefix) for s in service.store.subjects(include_deleted=True)):
        raise errors.context_not_empty(context)
    return Response(status_code=204)


async def metadata_id(request: Request) -> Response:
    service = request.app.state.registry
    return respond(
        {
            "scope": {
                "path": [],
                "clusters": {"schema-registry-cluster": service.config.group_id},
            }
        }
    )


ROUTES = [
    Route("/", root, methods=["GET"]),
    Route("/contexts", reads(contexts), methods=["GET"]),
    Route("/contexts/{context}", reads(delete_context), methods=["DELETE"]),
    Route("/v1/metadata/id", metadata_id, methods=["GET"]),
]
