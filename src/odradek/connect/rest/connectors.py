"""`/connectors/...`: Kafka Connect's connector endpoints, paths, bodies and status codes.

| method and path | answer |
|---|---|
| `GET /connectors[?expand=status&expand=info]` | 200 names, or `{name: {"status": …, "info": …}}` |
| `POST /connectors` `{name, config, initial_state?}` | 201 info; 409 exists; 400 invalid config |
| `GET /connectors/{c}` | 200 `{name, config, tasks, type}` |
| `GET/PUT/PATCH /connectors/{c}/config` | 200 config / 201 created or 200 updated / 200 patched |
| `GET /connectors/{c}/status`, `/tasks/{t}/status` | 200 status |
| `GET /connectors/{c}/tasks`, `/tasks-config` | 200 task configs |
| `POST /connectors/{c}/restart[?includeTasks&onlyFailed]` | 204 (connector only) or 202 with the status |
| `POST /connectors/{c}/tasks/{t}/restart` | 204 |
| `PUT /connectors/{c}/pause`, `/resume`, `/stop` | 202 |
| `GET /connectors/{c}/topics`, `PUT /connectors/{c}/topics/reset` | 200 |
| `GET/PATCH/DELETE /connectors/{c}/offsets` | 200 (PATCH/DELETE need the connector STOPPED) |
| `DELETE /connectors/{c}` | 204 |

Writes are served by the leader (forwarded there); reads by any worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from odradek.connect.api.errors import NotFoundException
from odradek.connect.rest.errors import guarded, json_body
from odradek.connect.rest.forwarding import forward, was_forwarded
from odradek.connect.runtime.assignment import task_unit
from odradek.connect.runtime.config_records import TargetState
from odradek.connect.runtime.herder import Herder, HerderOffsets
from odradek.http import HttpError

T = TypeVar("T")


def _truthy(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


def _config_map(body: Any, what: str = "config") -> dict[str, str]:
    if not isinstance(body, dict):
        raise HttpError(400, f"The {what} must be a JSON object", 400)
    return {str(k): "" if v is None else (v if isinstance(v, str) else _text(v)) for k, v in body.items()}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ConnectorRoutes:
    def __init__(self, herder: Herder) -> None:
        self.herder = herder
        self.offsets = HerderOffsets(herder)

    async def _leader(self, request: Request, fn: Callable[[], T]) -> T | Response:
        """Run a write here when this worker leads, else forward it to the leader."""
        assignment = self.herder.assignment
        if assignment.is_leader():
            return await run_in_threadpool(fn)
        if was_forwarded(request) and not assignment.rebalancing():
            return await run_in_threadpool(fn)
        target = await run_in_threadpool(assignment.leader_url)
        return await forward(request, target)

    def routes(self) -> list[Route]:
        g = guarded
        return [
            Route("/connectors", g(self.list_connectors), methods=["GET"]),
            Route("/connectors", g(self.create), methods=["POST"]),
            Route("/connectors/{name}", g(self.info), methods=["GET"]),
            Route("/connectors/{name}", g(self.delete), methods=["DELETE"]),
            Route("/connectors/{name}/config", g(self.get_config), methods=["GET"]),
            Route("/connectors/{name}/config", g(self.put_config), methods=["PUT"]),
            Route("/connectors/{name}/config", g(self.patch_config), methods=["PATCH"]),
            Route("/connectors/{name}/status", g(self.status), methods=["GET"]),
            Route("/connectors/{name}/tasks", g(self.tasks), methods=["GET"]),
            Route("/connectors/{name}/tasks-config", g(self.tasks_config), methods=["GET"]),
            Route("/connectors/{name}/tasks/{task:int}/status", g(self.task_status), methods=["GET"]),
            Route("/connectors/{name}/restart", g(self.restart), methods=["POST"]),
            Route("/connectors/{name}/tasks/{task:int}/restart", g(self.restart_task), methods=["POST"]),
            Route("/connectors/{name}/pause", g(self.pause), methods=["PUT"]),
            Route("/connectors/{name}/resume", g(self.resume), methods=["PUT"]),
            Route("/connectors/{name}/stop", g(self.stop), methods=["PUT"]),
            Route("/connectors/{name}/topics", g(self.topics), methods=["GET"]),
            Route("/connectors/{name}/topics/reset", g(self.reset_topics), methods=["PUT"]),
            Route("/connectors/{name}/offsets", g(self.get_offsets), methods=["GET"]),
            Route("/connectors/{name}/offsets", g(self.alter_offsets), methods=["PATCH"]),
            Route("/connectors/{name}/offsets", g(self.reset_offsets), methods=["DELETE"]),
        ]

    # -- reads -----------------------------------------------------------------------------------

    async def list_connectors(self, request: Request) -> Response:
        names = await run_in_threadpool(self.herder.connector_names)
        expand = request.query_params.getlist("expand")
        if not expand:
            return JSONResponse(names)
        out: dict[str, dict[str, Any]] = {}
        for name in names:
            entry: dict[str, Any] = {}
            try:
                if "status" in expand:
                    entry["status"] = await run_in_threadpool(self.herder.connector_status, name)
                if "info" in expand:
                    entry["info"] = await run_in_threadpool(self.herder.connector_info, name)
            except NotFoundException:
                continue
            out[name] = entry
        return JSONResponse(out)

    async def info(self, request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(self.herder.connector_info, request.path_params["name"]))

    async def get_config(self, request: Request) -> Response:
        info = await run_in_threadpool(self.herder.connector_info, request.path_params["name"])
        return JSONResponse(info["config"])

    async def status(self, request: Request) -> Response:
        return JSONResponse(
            await run_in_threadpool(self.herder.connector_status, request.path_params["name"])
        )

    async def task_status(self, request: Request) -> Response:
        name, task = request.path_params["name"], request.path_params["task"]
        return JSONResponse(await run_in_threadpool(self.herder.task_status, name, task))

    async def tasks(self, request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(self.herder.task_configs, request.path_params["name"]))

    async def tasks_config(self, request: Request) -> Response:
        name = request.path_params["name"]
        tasks = await run_in_threadpool(self.herder.task_configs, name)
        return JSONResponse({f"{name}-{t['id']['task']}": t["config"] for t in tasks})

    async def topics(self, request: Request) -> Response:
        name = request.path_params["name"]
        topics = await run_in_threadpool(self.herder.active_topics, name)
        return JSONResponse({name: {"topics": topics}})

    async def get_offsets(self, request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(self.offsets.get, request.path_params["name"]))

    # -- writes ----------------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise HttpError(400, 'Request body must be a JSON object with "name" and "config"', 400)
        config = _config_map(body.get("config") or {})
        name = body.get("name") or config.get("name")
        if not isinstance(name, str) or not name.strip():
            raise HttpError(400, "Connector name is required", 400)
        if config.get("name", name) != name:
            raise HttpError(
                400,
                "Connector name configuration ("
                + config["name"]
                + ") doesn't match connector name in the URL ("
                + name
                + ")",
                400,
            )
        initial = body.get("initial_state")
        target: TargetState | None = None
        if initial is not None:
            mapping = {
                "RUNNING": TargetState.STARTED,
                "PAUSED": TargetState.PAUSED,
                "STOPPED": TargetState.STOPPED,
            }
            if not isinstance(initial, str) or initial.upper() not in mapping:
                raise HttpError(
                    400, f"Invalid initial state {initial!r}: must be one of RUNNING, PAUSED, STOPPED", 400
                )
            target = mapping[initial.upper()]
        result = await self._leader(
            request,
            lambda: self.herder.put_connector_config(name, config, allow_replace=False, initial_state=target),
        )
        if isinstance(result, Response):
            return result
        return JSONResponse(result[1], 201)

    async def put_config(self, request: Request) -> Response:
        name = request.path_params["name"]
        config = _config_map(await json_body(request))
        if config.get("name", name) != name:
            raise HttpError(
                400,
                "Connector name configuration ("
                + config["name"]
                + ") doesn't match connector name in the URL ("
                + name
                + ")",
                400,
            )
        result = await self._leader(
            request, lambda: self.herder.put_connector_config(name, config, allow_replace=True)
        )
        if isinstance(result, Response):
            return result
        created, info = result
        return JSONResponse(info, 201 if created else 200)

    async def patch_config(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = await json_body(request)
        if not isinstance(body, dict):
            raise HttpError(400, "The config patch must be a JSON object", 400)
        patch = {
            str(k): (None if v is None else v if isinstance(v, str) else _text(v)) for k, v in body.items()
        }
        result = await self._leader(request, lambda: self.herder.patch_connector_config(name, patch))
        if isinstance(result, Response):
            return result
        return JSONResponse(result)

    async def delete(self, request: Request) -> Response:
        name = request.path_params["name"]
        result = await self._leader(request, lambda: self.herder.delete_connector(name))
        return result if isinstance(result, Response) else Response(status_code=204)

    async def restart(self, request: Request) -> Response:
        name = request.path_params["name"]
        include_tasks, only_failed = _truthy(request, "includeTasks"), _truthy(request, "onlyFailed")
        result = await self._leader(
            request, lambda: self.herder.restart_connector(name, include_tasks, only_failed)
        )
        if isinstance(result, Response):
            return result
        if not include_tasks and not only_failed:
            return Response(status_code=204)
        return JSONResponse(result, 202)

    async def restart_task(self, request: Request) -> Response:
        name, task = request.path_params["name"], request.path_params["task"]
        assignment = self.herder.assignment
        if not assignment.owns(task_unit(name, task)) and not was_forwarded(request):
            await run_in_threadpool(self.herder.task_status, name, task)  # 404 for unknown tasks
            url_for_unit = getattr(assignment, "url_for_unit", None)
            target = await run_in_threadpool(url_for_unit, task_unit(name, task)) if url_for_unit else None
            return await forward(request, target)
        await run_in_threadpool(self.herder.restart_task, name, task)
        return Response(status_code=204)

    async def _target(self, request: Request, state: TargetState) -> Response:
        name = request.path_params["name"]
        result = await self._leader(request, lambda: self.herder.set_target_state(name, state))
        return result if isinstance(result, Response) else Response(status_code=202)

    async def pause(self, request: Request) -> Response:
        return await self._target(request, TargetState.PAUSED)

    async def resume(self, request: Request) -> Response:
        return await self._target(request, TargetState.STARTED)

    async def stop(self, request: Request) -> Response:
        return await self._target(request, TargetState.STOPPED)

    async def reset_topics(self, request: Request) -> Response:
        name = request.path_params["name"]
        result = await self._leader(request, lambda: self.herder.reset_active_topics(name))
        return result if isinstance(result, Response) else Response(status_code=200)

    async def alter_offsets(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = await json_body(request)
        result = await self._leader(request, lambda: self.offsets.alter(name, body))
        return result if isinstance(result, Response) else JSONResponse({"message": result})

    async def reset_offsets(self, request: Request) -> Response:
        name = request.path_params["name"]
        result = await self._leader(request, lambda: self.offsets.reset(name))
        return result if isinstance(result, Response) else JSONResponse({"message": result})
