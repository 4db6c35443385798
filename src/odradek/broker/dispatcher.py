"""From a request frame to response bytes: header, version check, decode, handler, encode.

Rules (Kafka's):

* A request whose API key the broker does not serve, or a version outside the advertised range,
  cannot be answered in a form the client would understand, so the connection is closed —
  except ApiVersions: an unsupported ApiVersions version is answered in version 0 with
  UNSUPPORTED_VERSION and, as the only entry of the API list, the ApiVersions range itself, so the
  client can retry with a version it shares with the broker (KIP-511; exactly Kafka's bytes).
* A body that does not parse closes the connection (the broker stays up). Bytes after a parsed
  body are ignored, as Kafka ignores them: librdkafka 2.16 sends three after an all-topics
  Metadata v13 request.
* Responses use header v1 for flexible versions, header v0 otherwise, and always v0 for
  ApiVersions.
* A handler that raises unexpectedly (a bug; `CloseConnection` is deliberate) does not cost the
  client its connection: the request is answered UNKNOWN_SERVER_ERROR in its own response shape
  (`error_response`), as Kafka does, and the traceback is logged. So is a response that fails to
  encode. Only a Produce with acks=0, which has no response, closes the connection then.
"""

from __future__ import annotations

import inspect
import logging
import struct
import time
from collections.abc import Awaitable, Coroutine, Generator, Iterable
from types import CoroutineType, GeneratorType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from odradek.broker.api import ApiEntry, ApiSpec, Chunks
from odradek.broker.context import RequestContext
from odradek.broker.error_response import MESSAGE, error_response
from odradek.broker.handlers import load_spec, reserve_descriptor
from odradek.model.errors import ErrorCode
from odradek.protocol import codec, framing, primitives
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions
from odradek.protocol.primitives import INT32, ProtocolError
from odradek.security.sasl.session import IllegalSaslState
from odradek.storage.errors import StorageError

if TYPE_CHECKING:
    from odradek.broker.client_session import ClientSession
    from odradek.broker.metrics import BrokerMetrics, CounterChild, HistogramChild
    from odradek.broker.ports import BrokerPorts

log = logging.getLogger("odradek.broker.dispatcher")
_SIZE_AND_CORRELATION_ID = struct.Struct(">ii")
_HEADER_TO_CLIENT_ID = struct.Struct(">hhih")
"""A request header up to its client id's length: API key, version, correlation id, length."""
QUOTA_EXEMPT = frozenset({ApiKey.API_VERSIONS, ApiKey.SASL_HANDSHAKE, ApiKey.SASL_AUTHENTICATE})
"""Requests whose time is not charged to ``request_percentage`` (Kafka exempts them too)."""


_Observed = tuple["CounterChild", "HistogramChild"]
_Route = tuple[ApiSpec, bool, bytes, _Observed | None]


class CloseConnection(Exception):
    """The request cannot be answered; the connection must be closed."""


class Dispatcher:
    """Serves the APIs of ``specs``: each an `ApiSpec`, or an `ApiEntry` whose handler module is
    imported when the API is first asked for (`spec`)."""

    def __init__(
        self,
        specs: Iterable[ApiSpec | ApiEntry],
        ports: BrokerPorts,
        metrics: BrokerMetrics | None = None,
    ) -> None:
        self.entries: dict[int, ApiSpec | ApiEntry] = {}
        self.specs: dict[int, ApiSpec] = {}
        """The APIs whose handlers are loaded."""
        for spec in specs:
            if spec.key in self.entries:
                raise ValueError(f"two handlers for {spec.key.name}")
            self.entries[int(spec.key)] = spec
            if isinstance(spec, ApiSpec):
                self.specs[int(spec.key)] = spec
        if len(self.specs) < len(self.entries):
            reserve_descriptor()
        self.ports = ports
        self.metrics = metrics
        self._api_versions: list[api_versions.ApiVersion] | None = None
        self._headers: dict[tuple[int, int], tuple[bool, bytes]] = {}
        self._routes: dict[int, _Route] = {}
        """API key << 16 | version -> (spec, the request header is flexible, the response header
        after the correlation id, its metrics), for the versions served: one lookup per request."""
        """(API key, version) -> (the request header is flexible, the response header after the
        correlation id): asked for every request, computed once."""

    def _header_forms(self, spec: ApiSpec, version: int) -> tuple[bool, bytes]:
        cache_key = (int(spec.key), version)
        forms = self._headers.get(cache_key)
        if forms is None:
            tail = framing.response_header(0, spec.response, version)[4:]
            forms = self._headers[cache_key] = (spec.request.is_flexible(version), tail)
        return forms

    def _route(self, spec: ApiSpec, version: int) -> _Route:
        flexible, tail = self._header_forms(spec, version)
        metrics = self.metrics
        return (
            spec,
            flexible,
            tail,
            None if metrics is None else metrics.request_metrics(int(spec.key), version),
        )

    def api_versions(self) -> list[api_versions.ApiVersion]:
        """The served APIs and versions: one list, built once and shared by every ApiVersions answer
        (every new connection asks; the table does not change after the start), so never change it."""
        if self._api_versions is None:
            self._api_versions = [
                api_versions.ApiVersion(api_key=k, min_version=s.min_version, max_version=s.max_version)
                for k, s in sorted(self.entries.items())
            ]
        return self._api_versions

    def spec(self, key: int) -> ApiSpec | None:
        """The API's spec, importing its handler module the first time; None if not served."""
        spec = self.specs.get(key)
        if spec is None:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if isinstance(entry, ApiEntry):
                entry = load_spec(entry)
            spec = self.specs[key] = entry
        return spec

    def handle(
        self, frame: bytearray, client_host: str, connection_id: int, session: ClientSession | None = None
    ) -> Chunks | Coroutine[Any, Any, Chunks | None] | AfterAppend[Chunks | None] | None:
        """Returns the response chunks (size-prefixed), None for no response, or a coroutine giving
        them (`AfterAppend` around it when the request already appended)."""
        started = time.perf_counter()
        if len(frame) >= _HEADER_TO_CLIENT_ID.size:
            key, version, correlation_id, client_id_length = _HEADER_TO_CLIENT_ID.unpack_from(frame, 0)
        else:
            client_id_length = None
            try:
                key, version, correlation_id = framing.peek_header(frame)
            except ProtocolError as exc:
                raise CloseConnection(str(exc)) from exc
        if session is not None and session.sasl is not None:
            try:
                session.sasl.check_request(key, self.ports.clock.now_ms())
            except IllegalSaslState as exc:
                raise CloseConnection(str(exc)) from exc
        route = self._routes.get(key << 16 | version)  # (an invalid pair never is a key)
        if route is None:
            spec = self.specs.get(key) or self.spec(key)
            if spec is None:
                raise CloseConnection(f"unknown API key {key}")
            if not spec.min_version <= version <= spec.max_version:
                if key == ApiKey.API_VERSIONS:
                    return self._unsupported_api_versions(correlation_id)
                raise CloseConnection(f"unsupported version {version} of {spec.key.name}")
            route = self._routes[key << 16 | version] = self._route(spec, version)
        spec, flexible, header_tail, observed = route
        try:
            if client_id_length is not None and 0 <= client_id_length <= len(frame) - 11:
                # the usual header, read inline: a client id, then (flexible) no tagged fields
                pos = 10 + client_id_length
                try:
                    client_id: str | None = str(frame[10:pos], "utf-8")
                except UnicodeDecodeError as exc:
                    raise ProtocolError("invalid UTF-8 in string") from exc
                if flexible:
                    if frame[pos] == 0:
                        pos += 1
                    else:
                        pos = primitives.skip_tagged_fields(frame, pos)
            else:
                client_id, pos = framing.read_client_id(frame, flexible)
            if spec.decode is not None:
                request = spec.decode(frame, pos, version)
            else:
                request, _end = codec.decode(spec.request, version, frame, pos)
        except ProtocolError as exc:
            raise CloseConnection(f"malformed {spec.key.name} v{version} request: {exc}") from exc
        if session is not None:
            ctx = RequestContext(
                key,
                version,
                correlation_id,
                client_id,
                client_host,
                connection_id,
                self.ports,
                session.principal,
                session,
                session.listener,
            )
        else:
            ctx = RequestContext(
                key, version, correlation_id, client_id, client_host, connection_id, self.ports
            )
        waiting: Awaitable[Any] | None = None
        try:
            result = spec.handler(ctx, request)
            if type(result) is CoroutineType:
                # Run the handler's coroutine here until it first waits (most never do: an
                # OffsetCommit appends and answers at once), as asyncio 3.12's eager tasks would:
                # no task, no second coroutine and no extra trip through the event loop for a
                # request answerable now. Such a handler must not need a current task before it
                # first waits (no `asyncio.timeout` or `TaskGroup` there).
                try:
                    waiting = Resumed(result, result.send(None))
                except StopIteration as done:
                    result = done.value
            elif result is not None:
                awaitable = _AWAITABLE.get(type(result))  # `_awaitable`, inlined for a known type
                if awaitable is None:
                    awaitable = _awaitable(result)
                if awaitable:
                    waiting = result
        except CloseConnection:
            raise
        except Exception as exc:
            result = self._error_response(spec, ctx, request, exc)
        if session is not None and key not in QUOTA_EXEMPT:
            self.ports.quotas.record_request_time(ctx, time.perf_counter() - started)
        if waiting is not None:
            if type(waiting) is AfterAppend:  # the connection may go on with the next requests
                waiting.awaitable = self._finish_later(
                    spec, ctx, request, waiting.awaitable, started, header_tail, observed
                )
                return waiting
            return self._finish_later(spec, ctx, request, waiting, started, header_tail, observed)
        return self._respond(spec, ctx, request, result, started, header_tail, observed)

    async def _finish_later(
        self,
        spec: ApiSpec,
        ctx: RequestContext,
        request: Any,
        pending: Awaitable[Any],
        started: float,
        header_tail: bytes,
        observed: _Observed | None = None,
    ) -> Chunks | None:
        try:
            response = await pending
        except CloseConnection:
            raise
        except Exception as exc:
            response = self._error_response(spec, ctx, request, exc)
        return self._respond(spec, ctx, request, response, started, header_tail, observed)

    def _respond(
        self,
        spec: ApiSpec,
        ctx: RequestContext,
        request: Any,
        response: Any,
        started: float,
        header_tail: bytes,
        observed: _Observed | None = None,
    ) -> Chunks | None:
        """`header_tail`: what follows the correlation id in this response's header; `observed`:
        the request's counter and latency histogram (None: none, or from `metrics`)."""
        if observed is not None:
            observed[0].value += 1
            observed[1].observe(time.perf_counter() - started)
        elif self.metrics is not None:
            self.metrics.observe_request(ctx.api_key, ctx.api_version, time.perf_counter() - started)
        if response is None:
            return None
        session = ctx.session
        if session is not None and session.throttle_ms > 0 and hasattr(response, "throttle_time_ms"):
            response.throttle_time_ms = max(response.throttle_time_ms, session.throttle_ms)
        try:
            version = ctx.api_version
            if spec.encode is not None:
                body = spec.encode(response, version)
            else:
                body = codec.encode(spec.response, version, response)
            size = 4 + len(header_tail) + (len(body[0]) if len(body) == 1 else sum(len(c) for c in body))
            return [_SIZE_AND_CORRELATION_ID.pack(size, ctx.correlation_id) + header_tail, *body]
        except Exception as exc:
            return self._encode(spec, ctx, self._error_response(spec, ctx, request, exc))

    def _encode(self, spec: ApiSpec, ctx: RequestContext, response: Any) -> Chunks:
        """(The error path's encoding; `_respond` has the same steps inline, for the hot path.)"""
        version = ctx.api_version
        if spec.encode is not None:
            body = spec.encode(response, version)
        else:
            body = codec.encode(spec.response, version, response)
        head = framing.response_header(ctx.correlation_id, spec.response, version)
        size = len(head) + sum(len(c) for c in body)
        return [INT32.pack(size) + head, *body]

    def _error_response(self, spec: ApiSpec, ctx: RequestContext, request: Any, exc: Exception) -> Any:
        """An error for the whole request, in its response shape (Kafka's handleError):
        KAFKA_STORAGE_ERROR when storage failed or ran out of something (a full disk, too many open
        files: `StorageError`, `OSError`), UNKNOWN_SERVER_ERROR for anything else."""
        storage = isinstance(exc, StorageError | OSError)
        code = ErrorCode.KAFKA_STORAGE_ERROR if storage else ErrorCode.UNKNOWN_SERVER_ERROR
        log.error(
            "%s v%d (correlation id %d, client %s) failed; answering %s",
            spec.key.name,
            ctx.api_version,
            ctx.correlation_id,
            ctx.client_id,
            code.name,
            exc_info=None if storage else exc,
        )
        message = f"{type(exc).__name__}: {exc}" if storage else MESSAGE
        if storage:
            log.error("%s", message)
        response = error_response(
            spec.key, spec.request, spec.response, ctx.api_version, request, code, message
        )
        if response is None:
            raise CloseConnection(f"{spec.key.name} failed and has no response to carry the error") from exc
        return response

    def _unsupported_api_versions(self, correlation_id: int) -> Chunks:
        own = [v for v in self.api_versions() if v.api_key == ApiKey.API_VERSIONS]
        response = api_versions.ApiVersionsResponse(error_code=ErrorCode.UNSUPPORTED_VERSION, api_keys=own)
        body = codec.encode_bytes(api_versions.RESPONSE, 0, response)
        head = INT32.pack(correlation_id)
        return [INT32.pack(len(head) + len(body)) + head + body]


T = TypeVar("T")


class AfterAppend(Generic[T]):
    """What a handler returns when it has done everything it does to the broker's state (a Produce
    that appended its batches) and only waits to answer (the high watermark, an fsync).

    The connection then goes on handling the next Produce requests of the client while this one
    waits; answers still leave in request order (connection.py). A handler that waits before it
    changes anything (a transaction verification, a schema lookup) returns a plain coroutine
    instead, and the connection stays serial behind it. Awaiting it awaits `awaitable`.
    """

    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Coroutine[Any, Any, T]) -> None:
        self.awaitable = awaitable

    def __await__(self) -> Generator[Any, Any, T]:
        return self.awaitable.__await__()


_AWAITABLE: dict[type, bool] = {}
"""Per result type (a handler's response class, a Future class): whether it is awaited."""


def _awaitable(result: object) -> bool:
    """`inspect.isawaitable`, asked once per type: it is a type's property, except for generators
    (a ``types.coroutine`` generator is awaitable, another is not), which are asked each time."""
    kind = type(result)
    known = _AWAITABLE.get(kind)
    if known is None:
        known = inspect.isawaitable(result)
        if kind is not GeneratorType:
            _AWAITABLE[kind] = known
    return known


class Resumed:
    """A coroutine already run up to its first wait, as an awaitable a task can finish driving.

    `__await__` hands the task the future the coroutine waits on, then forwards whatever the task
    sends or throws in (results, cancellation) until the coroutine returns.
    """

    __slots__ = ("_coro", "_waiting_on")

    def __init__(self, coro: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, waiting_on = self._coro, self._waiting_on
        while True:
            try:
                sent = yield waiting_on
            except GeneratorExit:  # closed unfinished (as `yield from` would: close, not throw)
                coro.close()
                raise
            except BaseException as exc:  # cancellation included: the coroutine decides
                try:
                    waiting_on = coro.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    waiting_on = coro.send(sent)
                except StopIteration as done:
                    return done.value
