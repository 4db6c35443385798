"""``/config`` and ``/mode``, global and per subject (with ``defaultToGlobal``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.registry import errors, writes
from odradek.registry.api.forwarding import reads
from odradek.registry.api.forwarding import writes as write_endpoint
from odradek.registry.api.io import flag, json_body, respond
from odradek.registry.service import RegistryService


def _config_json(config: dict[str, Any]) -> dict[str, Any]:
    return dict(config)


async def get_global_config(_request: Request, service: RegistryService) -> Response:
    config = service.store.subject_config(None) or {}
    return respond({**config, "compatibilityLevel": service.store.compatibility(None).value})


async def get_subject_config(request: Request, service: RegistryService) -> Response:
    subject = request.path_params["subject"]
    config = service.store.subject_config(subject)
    if config is None:
        if not flag(request, "defaultToGlobal"):
            raise errors.subject_level_compatibility_not_configured(subject)
        config = service.store.inherited_config(subject)
    level = service.store.compatibility(subject)
    return respond({**_config_json(config), "compatibilityLevel": level.value})


async def put_config(request: Request, service: RegistryService) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise errors.unprocessable("Request body must be a JSON object")
    return respond(await writes.set_config(service, request.path_params.get("subject"), body))


async def delete_config(request: Request, service: RegistryService) -> Response:
    return respond(await writes.delete_config(service, request.path_params.get("subject")))


async def get_global_mode(_request: Request, service: RegistryService) -> Response:
    return respond({"mode": service.store.mode(None).value})


async def get_subject_mode(request: Request, service: RegistryService) -> Response:
    subject = request.path_params["subject"]
    if subject not in service.store.modes and not flag(request, "defaultToGlobal"):
        raise errors.subject_level_mode_not_configured(subject)
    return respond({"mode": service.store.mode(subject).value})


async def put_mode(request: Request, service: RegistryService) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict) or "mode" not in body:
        raise errors.unprocessable("Request body must be an object with 'mode'")
    mode = await writes.set_mode(
        service, request.path_params.get("subject"), body["mode"], flag(request, "force")
    )
    return respond({"mode": mode.value})


async def delete_mode(request: Request, service: RegistryService) -> Response:
    subject = request.path_params.get("subject")
    if subject is None:
        raise errors.operation_not_permitted("The global mode cannot be deleted; set it to READWRITE")
    return respond({"mode": (await writes.delete_mode(service, subject)).value})


ROUTES = [
    Route("/config", reads(get_global_config), methods=["GET"]),
    Route("/config", write_endpoint(put_config), methods=["PUT"]),
    Route("/config", write_endpoint(delete_config), methods=["DELETE"]),
    Route("/config/{subject:path}", reads(get_subject_config), methods=["GET"]),
    Route("/config/{subject:path}", write_endpoint(put_config), methods=["PUT"]),
    Route("/config/{subject:path}", write_endpoint(delete_config), methods=["DELETE"]),
    Route("/mode", reads(get_global_mode), methods=["GET"]),
    Route("/mode", write_endpoint(put_mode), methods=["PUT"]),
    Route("/mode/{subject:path}", reads(get_subject_mode), methods=["GET"]),
    Route("/mode/{subject:path}", write_endpoint(put_mode), methods=["PUT"]),
    Route("/mode/{subject:path}", write_endpoint(delete_mode), methods=["DELETE"]),
]
