"""`/connector-plugins`: list, config definitions (KIP-769) and `config/validate`."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from odradek.connect.api.errors import ConnectException
from odradek.connect.rest.connectors import _config_map
from odradek.connect.rest.errors import guarded, json_body
from odradek.connect.runtime.connector_config import plugin_config_json
from odradek.connect.runtime.herder import Herder, connector_plugins
from odradek.http import HttpError


class PluginRoutes:
    def __init__(self, herder: Herder) -> None:
        self.herder = herder

    def routes(self) -> list[Route]:
        return [
            Route("/connector-plugins", guarded(self.list_plugins), methods=["GET"]),
            Route("/connector-plugins/{plugin}/config", guarded(self.config), methods=["GET"]),
            Route("/connector-plugins/{plugin}/config/validate", guarded(self.validate), methods=["PUT"]),
        ]

    async def list_plugins(self, request: Request) -> Response:
        only = request.query_params.get("connectorsOnly", "true").lower() != "false"
        return JSONResponse(connector_plugins(self.herder.plugins, only))

    def _find(self, name: str) -> type:
        plugins = self.herder.plugins
        for resolve in (
            plugins.connector_class,
            plugins.transformation_class,
            plugins.predicate_class,
            plugins.converter_class,
            plugins.header_converter_class,
        ):
            try:
                return resolve(name)
            except ConnectException:
                continue
        raise HttpError(404, f"Unknown plugin {name}.", 404)

    async def config(self, request: Request) -> Response:
        cls = self._find(request.path_params["plugin"])
        return JSONResponse(plugin_config_json(cls))

    async def validate(self, request: Request) -> Response:
        plugin = request.path_params["plugin"]
        config = _config_map(await json_body(request))
        given = config.get("connector.class")
        if given is None:
            config["connector.class"] = plugin
        else:
            try:
                same = self.herder.plugins.connector_class(given) is self.herder.plugins.connector_class(
                    plugin
                )
            except ConnectException:
                same = given == plugin
            if not same:
                raise HttpError(
                    400, f"Included connector type {given} does not match request type {plugin}", 400
                )
        return JSONResponse(await run_in_threadpool(self.herder.validate, config))
