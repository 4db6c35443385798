"""The lean path of prepared key lookups (`FastLookups`): answers what `cached_lookup` answers with
the full app's bytes and headers, and hands everything else to the full app with its body intact."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from odradek.http.metrics import HttpMetrics
from odradek.sql.server.app import DELIMITED, KSQL_MEDIA, pull_body
from odradek.sql.server.fast_lookups import MAX_BODY, FastLookups

ROWS = (["K", "V"], ["STRING", "BIGINT"], [["a", 1]])


class FakeServer:
    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def cached_lookup(self, text: str, props: dict[str, Any]) -> Any:
        self.asked.append((text, props))
        return ROWS if "k = 'a'" in text else None


class FullApp:
    """Stands for the Starlette app: records what it was given and reads the whole body."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, list[str]]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body, types = b"", []
        while True:
            message = await receive()
            types.append(message["type"])
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.calls.append((scope["path"], body, types))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"full"})


def call(app: Any, path: str, chunks: list[bytes], method: str = "POST", accept: str = "") -> list[Any]:
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(b"accept", accept.encode())] if accept else [],
    }
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]
    pending.append({"type": "http.disconnect"})
    sent: list[Any] = []

    async def receive() -> Any:
        return pending.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_prepared_lookup_is_answered_with_the_full_apps_bytes_and_counted() -> None:
    server, full, metrics = FakeServer(), FullApp(), HttpMetrics("sql-test")
    app = FastLookups(full, server, metrics, pull_body)  # type: ignore[arg-type]
    body = json.dumps({"sql": "SELECT * FROM t WHERE k = 'a';", "properties": {"x": "1"}}).encode()
    start, content = call(app, "/query-stream", [body[:10], body[10:]])
    expected, media = pull_body(*ROWS, False, "")
    assert media == DELIMITED
    assert content == {"type": "http.response.body", "body": expected}
    assert start["status"] == 200 and dict(start["headers"]) == {
        b"content-length": str(len(expected)).encode(),
        b"content-type": DELIMITED.encode(),
    }
    assert server.asked == [("SELECT * FROM t WHERE k = 'a';", {"x": "1"})] and not full.calls
    # the JSON format, and /query's legacy shape
    _, content = call(app, "/query-stream", [body], accept="application/json")
    assert content["body"] == pull_body(*ROWS, False, "application/json")[0]
    legacy = json.dumps({"ksql": "SELECT * FROM t WHERE k = 'a';"}).encode()
    start, content = call(app, "/query", [legacy], accept="application/json")
    assert content["body"] == pull_body(*ROWS, True, "")[0]
    assert dict(start["headers"])[b"content-type"] == KSQL_MEDIA.encode()
    counted = metrics.requests.labels("sql-test", "POST", "/query-stream", "200")._value.get()
    assert counted == 2  # as MetricsMiddleware counts the full app's answers


def test_everything_else_reaches_the_full_app_with_its_body_intact() -> None:
    server, full = FakeServer(), FullApp()
    app = FastLookups(full, server, None, pull_body)  # type: ignore[arg-type]
    other = json.dumps({"sql": "SELECT * FROM t WHERE k = 'b';"}).encode()
    assert call(app, "/query-stream", [other[:5], other[5:]])[1]["body"] == b"full"  # not prepared
    assert full.calls[-1] == ("/query-stream", other, ["http.request"])
    for chunks in ([b"{not json"], [b"[1, 2]"], [b'{"sql": 5}'], [b'{"sql": "x", "properties": []}']):
        call(app, "/query-stream", chunks)
        assert full.calls[-1][1] == b"".join(chunks)
    big = [b'{"sql": "' + b"x" * MAX_BODY, b'"}']  # too big to look at: streamed on as it came
    call(app, "/query", big)
    assert full.calls[-1] == ("/query", b"".join(big), ["http.request", "http.request"])
    call(app, "/ksql", [b"{}"])
    call(app, "/query", [b"{}"], method="GET")
    assert [c[0] for c in full.calls[-2:]] == ["/ksql", "/query"]
    # a client gone before its body ended: the full app sees the disconnect after the body so far
    gone = FastLookups(full, server, None, pull_body)  # type: ignore[arg-type]
    scope = {"type": "http", "method": "POST", "path": "/query-stream", "headers": []}
    pending = [{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}]

    async def receive() -> Any:
        return pending.pop(0)

    async def send(message: Any) -> None:
        pass

    asyncio.run(gone(scope, receive, send))
    assert full.calls[-1] == ("/query-stream", b"{", ["http.request", "http.disconnect"])
