"""The interactive-query HTTP server of a `KafkaStreams` instance (on `odradek.http`).

Started by `KafkaStreams.start()` when `application.server` is set (`host:port`; port 0 picks one).
Every instance answers every query: a key owned by another instance is fetched from it (one hop,
marked with `X-Odradek-Forwarded`), a range or scan is gathered from all instances.

| route | answer |
|---|---|
| `GET /v1/stores/{store}/keys/{key}` | `{"key", "value"}`; 404 (`40401`) when absent |
| `GET /v1/stores/{store}/keys/{key}/windows?from=&to=` | `{"key", "windows": [{"start", "value"}]}` |
| `GET /v1/stores/{store}?from=&to=` | `{"entries": [{"key", "value"}]}` of all instances (`?local=true`) |
| `GET /v1/metadata/stores/{store}/keys/{key}` | `{"host", "standby_hosts", "partition"}` of the key |
| `GET /v1/metadata` | this instance: application, state, `application.server`, its tasks |
| `GET /metrics`, `GET /health` | Prometheus metrics (the streams metrics too), UP while RUNNING |

Keys in paths are decoded with the store's key serde in mind: a string serde takes the text, long
and integer serdes an integer, a JSON serde a JSON text (or the plain text if it is not JSON).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from odradek.http import HttpError, HttpMetrics, create_app
from odradek.http.listen import ListenAddress
from odradek.http.runner import bind
from odradek.streams.errors import InvalidStateStoreException
from odradek.streams.iq.metrics import StreamsCollector
from odradek.streams.serdes import DoubleSerde, IntegerSerde, JsonSerde, LongSerde, Serde, StringSerde
from odradek.streams.state.spec import StoreKind

log = logging.getLogger("odradek.streams")
FORWARDED = "x-odradek-forwarded"


def parse_key(text: str, serde: Serde[Any]) -> Any:
    if isinstance(serde, StringSerde):
        return text
    if isinstance(serde, LongSerde | IntegerSerde):
        try:
            return int(text)
        except ValueError as exc:
            raise HttpError(40001, f"key {text!r} is not an integer") from exc
    if isinstance(serde, DoubleSerde):
        return float(text)
    if isinstance(serde, JsonSerde):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text.encode()


def jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            return base64.b64encode(value).decode()
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


class InteractiveQueryServer:
    def __init__(self, streams: Any, host: str, port: int) -> None:
        self.streams = streams
        self.sock = bind(ListenAddress(host, port))
        self.host = host
        self.port = self.sock.getsockname()[1]
        metrics = HttpMetrics("streams")
        metrics.registry.register(StreamsCollector(streams))
        self.app = create_app(
            "streams",
            [
                Route("/v1/metadata", self.metadata),
                Route("/v1/metadata/stores/{store}/keys/{key}", self.key_metadata),
                Route("/v1/stores/{store}/keys/{key}", self.get_key),
                Route("/v1/stores/{store}/keys/{key}/windows", self.get_windows),
                Route("/v1/stores/{store}", self.get_range),
            ],
            health_checks={"running": lambda: streams.state.value == "RUNNING"},
            metrics=metrics,
        )
        config = uvicorn.Config(self.app, loop="asyncio", log_config=None, access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)  # in its own thread: uvicorn leaves signals alone
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), name="streams-iq", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.sock.close()

    # -- helpers --------------------------------------------------------------------------------------

    def _key_serde(self, store: str) -> Serde[Any]:
        spec = self.streams.topology.stores.get(store)
        if spec is None:
            g = self.streams.topology.global_stores.get(store)
            if g is None:
                raise HttpError(40402, f"no state store named {store!r}")
            spec = g.spec
        return spec.key_serde or self.streams.config.serde("default.key.serde")  # type: ignore[no-any-return]

    def _view(self, store: str) -> Any:
        try:
            return self.streams.store(store)
        except InvalidStateStoreException as exc:
            raise HttpError(50301, str(exc), 503) from exc

    async def _forward(self, host: str, path: str, query: str) -> JSONResponse:
        url = f"http://{host}{path}" + (f"?{query}" if query else "")

        def fetch() -> tuple[int, Any]:
            request = urllib.request.Request(url, headers={FORWARDED: "1"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read() or b"{}")

        try:
            status, body = await asyncio.to_thread(fetch)
        except OSError as exc:
            raise HttpError(50302, f"instance {host} owning the key did not answer: {exc}", 503) from exc
        return JSONResponse(body, status_code=status)

    async def _owner(self, store: str, key: Any) -> tuple[str | None, int]:
        meta = await asyncio.to_thread(self.streams.metadata_for_key, store, key)
        return meta.active_host, meta.partition

    # -- routes ---------------------------------------------------------------------------------------

    async def metadata(self, request: Request) -> JSONResponse:
        threads = self.streams.metrics()["threads"]
        return JSONResponse(
            {
                "application_id": self.streams.application_id,
                "state": self.streams.state.value,
                "application_server": self.address,
                "tasks": sorted(t for thread in threads for t in thread["tasks"]),
            }
        )

    async def key_metadata(self, request: Request) -> JSONResponse:
        store = request.path_params["store"]
        key = parse_key(request.path_params["key"], self._key_serde(store))
        meta = await asyncio.to_thread(self.streams.metadata_for_key, store, key)
        return JSONResponse(
            {"host": meta.active_host, "standby_hosts": list(meta.standby_hosts), "partition": meta.partition}
        )

    async def get_key(self, request: Request) -> JSONResponse:
        store = request.path_params["store"]
        raw_key = request.path_params["key"]
        key = parse_key(raw_key, self._key_serde(store))
        if store not in self.streams.topology.global_stores and FORWARDED not in request.headers:
            host, _ = await self._owner(store, key)
            if host is not None and host != self.address:
                return await self._forward(host, request.url.path, request.url.query)
        as_of = request.query_params.get("as_of")
        if as_of is None:
            value = self._view(store).get(key)
        else:
            spec = self.streams.topology.stores.get(store)
            if spec is None or spec.kind is not StoreKind.VERSIONED_KEY_VALUE:
                raise HttpError(40001, f"as_of needs a versioned store; {store!r} is not one")
            try:
                value = self._view(store).get(key, int(as_of))
            except ValueError as exc:
                raise HttpError(40001, f"as_of {as_of!r} is not a timestamp in milliseconds") from exc
        if value is None:
            raise HttpError(40401, f"key {raw_key!r} not found in store {store!r}")
        return JSONResponse({"key": jsonable(key), "value": jsonable(value)})

    async def get_windows(self, request: Request) -> JSONResponse:
        store = request.path_params["store"]
        raw_key = request.path_params["key"]
        key = parse_key(raw_key, self._key_serde(store))
        if FORWARDED not in request.headers:
            host, _ = await self._owner(store, key)
            if host is not None and host != self.address:
                return await self._forward(host, request.url.path, request.url.query)
        lo = int(request.query_params.get("from", 0))
        hi = int(request.query_params.get("to", 2**62))
        windows = self._view(store).fetch(key, lo, hi)
        return JSONResponse(
            {"key": jsonable(key), "windows": [{"start": s, "value": jsonable(v)} for s, v in windows]}
        )

    async def get_range(self, request: Request) -> JSONResponse:
        store = request.path_params["store"]
        serde = self._key_serde(store)
        lo = request.query_params.get("from")
        hi = request.query_params.get("to")
        view = self._view(store)
        if view.kind == "key_value":
            entries = view.range(
                parse_key(lo, serde) if lo is not None else None,
                parse_key(hi, serde) if hi is not None else None,
            )
        else:
            entries = view.all()
        result = [{"key": jsonable(k), "value": jsonable(v)} for k, v in entries]
        local = request.query_params.get("local") == "true" or FORWARDED in request.headers
        if not local and store not in self.streams.topology.global_stores:
            hosts = set((await asyncio.to_thread(self.streams.group_hosts)).values()) - {None, self.address}
            for host in sorted(h for h in hosts if h):
                response = await self._forward(host, request.url.path, request.url.query)
                result += json.loads(bytes(response.body)).get("entries", [])
        return JSONResponse({"entries": result})
