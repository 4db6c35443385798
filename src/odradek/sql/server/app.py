"""ksqlDB's REST API on the shared HTTP layer (`odradek.http`).

| route                          | what                                                              |
|--------------------------------|-------------------------------------------------------------------|
| POST /ksql                     | statements; one entity per statement (`commandSequenceNumber`)    |
| POST /query                    | a push or pull query (or PRINT), HTTP/1.1 chunked: a JSON array of `{"header"}` then `{"row": {"columns": [...]}}` |
| POST /query-stream             | the same, `application/vnd.ksqlapi.delimited.v1` (a header line, then one JSON array per row) or `application/json` (one array) |
| POST /inserts-stream           | a `{"target": ...}` line, then rows; acks `{"status": "ok", "seq": n}` per row |
| POST /close-query              | `{"queryId": ...}` ends a push query                               |
| GET /info, /healthcheck        | server info, health                                               |
| GET /status[/{type}/{entity}/{action}] | command statuses                                          |

Errors are ksqlDB's bodies (`statement_error` with `statementText` and the entities of the
statements before it; `generic_error`), with the HTTP status of the error code's first three digits.
The server speaks HTTP/1.1 and HTTP/2 cleartext (prior knowledge) on one port (`ServerSettings(http2=True)`,
uvicorn's zttp protocol), as ksqlDB's: push rows stream as chunks or as DATA frames.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import decimal
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from odradek.http import HttpLimits, create_app
from odradek.http.limits import LimitedRoute
from odradek.sql.engine.entities import error_entity
from odradek.sql.errors import BAD_REQUEST, NOT_FOUND, SERVER_NOT_READY, KsqlError
from odradek.sql.parser import ast
from odradek.sql.server.fast_lookups import FastLookups
from odradek.sql.server.service import KsqlServer, StatementFailed

log = logging.getLogger(__name__)

KSQL_MEDIA = "application/vnd.ksql.v1+json"
DELIMITED = "application/vnd.ksqlapi.delimited.v1"
STREAMING = HttpLimits(max_body_bytes=None, request_timeout_s=None, body_idle_timeout_s=None)


def rest_value(v: Any) -> Any:
    """A SQL value as ksqlDB's REST API shows it."""
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, datetime.datetime):
        return v.isoformat(timespec="milliseconds")
    if isinstance(v, datetime.date | datetime.time):
        return v.isoformat()
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, list):
        return [rest_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): rest_value(x) for k, x in v.items()}
    return v


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), default=rest_value)


class _PushResponse(StreamingResponse):
    """A push query's rows; the query ends as soon as the client goes away, rows or not.

    Starlette stops watching for disconnects on servers of ASGI 2.4 (uvicorn), where a closed
    connection only shows when a write fails: a push query with no new rows would run on forever.
    Here a task waits for `http.disconnect` and closes the query, which ends the row iterator."""

    def __init__(self, content: AsyncIterator[bytes], on_close: Any, media_type: str) -> None:
        super().__init__(content, media_type=media_type)
        self.on_close = on_close

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def watch() -> None:
            await self.listen_for_disconnect(receive)
            await run_in_threadpool(self.on_close)

        watcher = asyncio.ensure_future(watch())
        try:
            await self.stream_response(send)
        except OSError:  # the client went away while a row was being written
            await run_in_threadpool(self.on_close)
        finally:
            watcher.cancel()


def _status_of(code: int) -> int:
    if code == SERVER_NOT_READY:
        return 503
    status = int(str(code)[:3])
    return status if 400 <= status < 600 else 500


def _error(e: KsqlError, statement: str | None = None, done: list[Any] | None = None) -> JSONResponse:
    message = str(e) if e.position is not None else e.message
    body = error_entity(e.error_code, message, statement, done)
    return JSONResponse(body, status_code=_status_of(e.error_code), media_type=KSQL_MEDIA)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as e:
        raise KsqlError(f"Malformed JSON in the request body: {e}", error_code=BAD_REQUEST) from None
    if not isinstance(body, dict):
        raise KsqlError("The request body must be a JSON object", error_code=BAD_REQUEST)
    return body


def build_app(server: KsqlServer, lifespan: Any = None) -> ASGIApp:
    async def ksql(request: Request) -> Response:
        try:
            body = await _json_body(request)
            text = body.get("ksql")
            if not isinstance(text, str):
                raise KsqlError("The request must have a 'ksql' string", error_code=BAD_REQUEST)
            props = body.get("streamsProperties") or body.get("properties") or {}
            variables = body.get("sessionVariables") or {}
            seq = body.get("commandSequenceNumber")
            result = await run_in_threadpool(server.execute, text, props, variables, seq)
        except StatementFailed as f:
            return _error(f.error, f.statement, f.entities)
        except KsqlError as e:
            return _error(e)
        except Exception as e:
            log.exception("statement failed")
            return _error(KsqlError(f"{type(e).__name__}: {e}", error_code=50000))
        return JSONResponse(json.loads(_dumps(result)), media_type=KSQL_MEDIA)

    async def query(request: Request) -> Response:
        return await _query(request, "ksql", "streamsProperties", legacy=True)

    async def query_stream(request: Request) -> Response:
        return await _query(request, "sql", "properties", legacy=False)

    async def _query(request: Request, text_field: str, props_field: str, legacy: bool) -> Response:
        try:
            body = await _json_body(request)
            text = body.get(text_field) or body.get("ksql") or body.get("sql")
            if not isinstance(text, str):
                raise KsqlError(f"The request must have a '{text_field}' string", error_code=BAD_REQUEST)
            props = body.get(props_field) or body.get("streamsProperties") or {}
            pulled = server.cached_lookup(text, props)  # a key lookup planned before: on the loop
            if pulled is not None:
                return _pull_response(request, *pulled, legacy)
            stmt, planned, pulled = await run_in_threadpool(server.answer_query, text, props)
            if pulled is not None:
                return _pull_response(request, *pulled, legacy)
            if isinstance(stmt, ast.Print):
                return await _print(stmt, props)
            assert isinstance(stmt, ast.Query) and planned is not None
            push = await run_in_threadpool(server.start_push, planned, props)
        except KsqlError as e:
            return _error(e, text if "text" in locals() and isinstance(text, str) else None)
        except Exception as e:
            log.exception("query failed")
            return _error(KsqlError(f"{type(e).__name__}: {e}", error_code=50000))
        columns = list(planned.select_order)
        types = [str(_type_of(planned, c)) for c in columns]
        return _rows_response(
            request,
            push.query_id,
            columns,
            types,
            _push_rows(push),
            legacy,
            stmt.limit,
            on_close=lambda: server.close_push(push.query_id),
        )

    async def _push_rows(push: Any) -> AsyncIterator[list[Any]]:
        while True:
            item = await run_in_threadpool(push.rows.get)
            if item is None:
                return
            if isinstance(item, BaseException):
                raise KsqlError(f"The push query failed: {item}", error_code=50000)
            yield item

    async def _print(stmt: ast.Print, props: dict[str, Any]) -> Response:
        from odradek.sql.server.printer import print_topic

        return StreamingResponse(print_topic(server.cluster, stmt, props), media_type="text/plain")

    def _pull_response(
        request: Request, columns: list[str], types: list[str], rows: list[list[Any]], legacy: bool
    ) -> Response:
        """A pull query's whole answer in one body (the same bytes `_rows_response` streams)."""
        content, media = pull_body(columns, types, rows, legacy, request.headers.get("accept", ""))
        return Response(content, media_type=media)

    def _rows_response(
        request: Request,
        query_id: str,
        columns: list[str],
        types: list[str],
        rows: AsyncIterator[list[Any]],
        legacy: bool,
        limit: int | None,
        on_close: Any = None,
    ) -> Response:
        accept = request.headers.get("accept", "")
        delimited = not legacy and "application/json" not in accept
        schema = ", ".join(f"`{c}` {t}" for c, t in zip(columns, types, strict=True))

        async def body() -> AsyncIterator[bytes]:
            count = 0
            try:
                if legacy:
                    yield (f'[{{"header":{{"queryId":"{query_id}","schema":{json.dumps(schema)}}}}}').encode()
                elif delimited:
                    yield (
                        _dumps({"queryId": query_id, "columnNames": columns, "columnTypes": types}) + "\n"
                    ).encode()
                else:
                    yield (
                        "[" + _dumps({"queryId": query_id, "columnNames": columns, "columnTypes": types})
                    ).encode()
                async for row in rows:
                    if legacy:
                        yield (",\n" + _dumps({"row": {"columns": row}})).encode()
                    elif delimited:
                        yield (_dumps(row) + "\n").encode()
                    else:
                        yield ("," + _dumps(row)).encode()
                    count += 1
                    if limit is not None and count >= limit:
                        if legacy:
                            yield b',\n{"finalMessage":"Limit Reached"}'
                        break
                if legacy or not delimited:
                    yield b"]\n"
            except KsqlError as e:
                yield ("\n" + _dumps(error_entity(e.error_code, e.message))).encode()
            finally:
                if on_close is not None:
                    await run_in_threadpool(on_close)

        media = KSQL_MEDIA if legacy else DELIMITED if delimited else "application/json"
        if on_close is None:
            return StreamingResponse(body(), media_type=media)
        return _PushResponse(body(), on_close, media_type=media)

    class InsertsStream:
        """/inserts-stream as a raw ASGI endpoint: the request body is read while acks are written
        (Starlette's StreamingResponse would consume the body watching for a disconnect)."""

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", DELIMITED.encode())],
                }
            )
            buffer = b""
            target: str | None = None
            seq = 0
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                buffer += message.get("body", b"")
                more = bool(message.get("more_body", False))
                lines = buffer.split(b"\n")
                buffer = lines.pop() if more else b""
                for line in lines:
                    if not line.strip():
                        continue
                    result = await _insert_line(line, target, seq)
                    if isinstance(result, str):
                        target = result
                        continue
                    await send(
                        {
                            "type": "http.response.body",
                            "body": (_dumps(result) + "\n").encode(),
                            "more_body": True,
                        }
                    )
                    seq += 1
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _insert_line(line: bytes, target: str | None, seq: int) -> dict[str, Any] | str:
        try:
            obj = json.loads(line)
        except ValueError as e:
            return {
                "status": "error",
                "seq": seq,
                "error_code": BAD_REQUEST,
                "message": f"Invalid JSON in inserts stream: {e}",
            }
        if target is None:
            if not isinstance(obj, dict) or not isinstance(obj.get("target"), str):
                return {
                    "status": "error",
                    "seq": seq,
                    "error_code": BAD_REQUEST,
                    "message": 'The first line must be {"target": "<stream>"}',
                }
            return str(obj["target"])
        if not isinstance(obj, dict):
            return {
                "status": "error",
                "seq": seq,
                "error_code": BAD_REQUEST,
                "message": "Each row must be a JSON object",
            }
        try:
            await run_in_threadpool(_insert, target, obj)
        except KsqlError as e:
            return {"status": "error", "seq": seq, "error_code": e.error_code, "message": e.message}
        except Exception as e:
            return {"status": "error", "seq": seq, "error_code": 50000, "message": str(e)}
        return {"status": "ok", "seq": seq}

    def _insert(target: str, obj: dict[str, Any]) -> None:
        from odradek.sql.server.inserts import coerce_row

        with server.lock:
            source = server.engine.metastore.source(target) or server.engine.metastore.source(target.upper())
        if source is None:
            raise KsqlError(f"Cannot insert into an unknown stream/table: {target}", error_code=NOT_FOUND)
        if source.read_only:
            raise KsqlError(f"Cannot insert values into read-only {source.kind.value.lower()}: {source.name}")
        row, rowtime = coerce_row(source, obj)
        server.insert(source.name, row, rowtime)

    async def close_query(request: Request) -> Response:
        try:
            body = await _json_body(request)
        except KsqlError as e:
            return _error(e)
        query_id = body.get("queryId")
        if not isinstance(query_id, str) or not await run_in_threadpool(server.close_push, query_id):
            return _error(KsqlError(f"No query with id {query_id}", error_code=BAD_REQUEST))
        return Response(status_code=200)

    async def info(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(server.info))

    async def healthcheck(request: Request) -> Response:
        health = await run_in_threadpool(server.health)
        return JSONResponse(health, status_code=200 if health["isHealthy"] else 503)

    async def status_all(request: Request) -> Response:
        return JSONResponse({"commandStatuses": server.statuses()})

    async def status_one(request: Request) -> Response:
        p = request.path_params
        status = server.status(f"{p['type']}/{p['entity']}/{p['action']}")
        if status is None:
            return _error(
                KsqlError(f"Command not found: {p['type']}/{p['entity']}/{p['action']}", error_code=NOT_FOUND)
            )
        return JSONResponse(status)

    routes = [
        Route("/ksql", ksql, methods=["POST"]),
        LimitedRoute("/query", query, methods=["POST"], limits=STREAMING),
        LimitedRoute("/query-stream", query_stream, methods=["POST"], limits=STREAMING),
        LimitedRoute("/inserts-stream", InsertsStream(), methods=["POST"], limits=STREAMING),
        Route("/close-query", close_query, methods=["POST"]),
        Route("/info", info, methods=["GET"]),
        Route("/healthcheck", healthcheck, methods=["GET"]),
        Route("/status", status_all, methods=["GET"]),
        Route("/status/{type}/{entity}/{action}", status_one, methods=["GET"]),
    ]
    app = create_app(
        "sql",
        routes,
        lifespan=lifespan,
        media_type=KSQL_MEDIA,
        health_checks={"command_runner": lambda: server.ready},
    )
    if server.engine.config.get("ksql.query.pull.fast.path.enabled", "true") != "true":
        return app
    return FastLookups(app, server, app.state.metrics, pull_body)


def pull_body(
    columns: list[str], types: list[str], rows: list[list[Any]], legacy: bool, accept: str
) -> tuple[bytes, str]:
    """A pull query's whole answer (body, media type): `/query`'s (`legacy`) or `/query-stream`'s
    in the format `accept` asks for; the same bytes `_rows_response` streams."""
    if legacy:
        schema = ", ".join(f"`{c}` {t}" for c, t in zip(columns, types, strict=True))
        parts = [f'[{{"header":{{"queryId":"","schema":{json.dumps(schema)}}}}}']
        parts += [",\n" + _dumps({"row": {"columns": row}}) for row in rows]
        return ("".join(parts) + "]\n").encode(), KSQL_MEDIA
    header = _dumps({"queryId": "", "columnNames": columns, "columnTypes": types})
    if "application/json" in accept:
        return (
            "[" + header + "".join("," + _dumps(row) for row in rows) + "]\n"
        ).encode(), "application/json"
    return (header + "\n" + "".join(_dumps(row) + "\n" for row in rows)).encode(), DELIMITED


def _type_of(planned: Any, name: str) -> Any:
    col = planned.schema.find(name)
    return col.type if col is not None else "STRING"


@contextlib.asynccontextmanager
async def server_lifespan(server: KsqlServer) -> AsyncIterator[None]:
    await run_in_threadpool(server.start)
    # serve once the command topic has been replayed (the supervisor waits for this announcement)
    await run_in_threadpool(server.wait_ready, 120.0)
    try:
        yield
    finally:
        await run_in_threadpool(server.stop)
