"""`/admin/loggers` (KIP-495, KIP-976): read and change log levels at run time.

Kafka's level names map onto Python's (TRACE→5, DEBUG, INFO, WARN→WARNING, ERROR, FATAL→CRITICAL,
OFF). `PUT /admin/loggers/{name}` `{"level": "DEBUG"}` changes this worker's loggers under that
name and answers the names it changed; with `?scope=cluster` the change is written to the config
topic (`logger-cluster-<name>`) and every worker applies it (204).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from odradek.connect.rest.errors import guarded, json_body
from odradek.connect.runtime.herder import Herder
from odradek.http import HttpError

LEVELS = {
    "TRACE": 5,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
    "OFF": logging.CRITICAL + 10,
}
NAMES = {v: k for k, v in LEVELS.items()}
_modified: dict[str, int] = {}


def level_name(level: int) -> str:
    return NAMES.get(level, logging.getLevelName(level))


def apply_level(namespace: str, level_text: str) -> list[str]:
    level = LEVELS[level_text.upper()]
    if namespace == "root":
        targets = ["root"]
        logging.getLogger().setLevel(level)
    else:
        targets = [
            namespace,
            *sorted(n for n in logging.root.manager.loggerDict if n.startswith(namespace + ".")),
        ]
        for name in targets:
            logging.getLogger(name).setLevel(level)
    now = int(time.time() * 1000)
    for name in targets:
        _modified[name] = now
    return targets


class LoggerRoutes:
    def __init__(self, herder: Herder) -> None:
        self.herder = herder
        self._applied: dict[str, str] = {}

    def routes(self) -> list[Route]:
        return [
            Route("/admin/loggers", guarded(self.list_loggers), methods=["GET"]),
            Route("/admin/loggers/{name}", guarded(self.get_logger), methods=["GET"]),
            Route("/admin/loggers/{name}", guarded(self.set_logger), methods=["PUT"]),
        ]

    def apply_cluster_levels(self) -> None:
        """Apply `logger-cluster-*` records not applied yet (called from the herder's tick)."""
        for namespace, level in self.herder.configs.snapshot().logger_levels.items():
            if self._applied.get(namespace) != level and level.upper() in LEVELS:
                apply_level(namespace, level)
                self._applied[namespace] = level

    def _entry(self, name: str) -> dict[str, Any]:
        logger = logging.getLogger() if name == "root" else logging.getLogger(name)
        return {"level": level_name(logger.getEffectiveLevel()), "last_modified": _modified.get(name)}

    async def list_loggers(self, request: Request) -> Response:
        names = [
            "root",
            *sorted(
                n
                for n, lg in logging.root.manager.loggerDict.items()
                if isinstance(lg, logging.Logger) and lg.level != logging.NOTSET
            ),
        ]
        return JSONResponse({name: self._entry(name) for name in names})

    async def get_logger(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name != "root" and name not in logging.root.manager.loggerDict:
            raise HttpError(404, f"Logger {name} not found.", 404)
        return JSONResponse(self._entry(name))

    async def set_logger(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = await json_body(request)
        level = body.get("level") if isinstance(body, dict) else None
        if not isinstance(level, str) or level.upper() not in LEVELS:
            raise HttpError(400, f"Invalid log level '{level}'.", 400)
        scope = request.query_params.get("scope", "worker").lower()
        if scope == "cluster":
            await run_in_threadpool(self.herder.configs.put_logger_level, name, level.upper())
            return Response(status_code=204)
        return JSONResponse(apply_level(name, level))
