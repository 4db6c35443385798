"""Consume in v3 (odradek's addition; Confluent's v3 has none), as JSON, SSE or NDJSON.

**Group consume, stateless proxy.** ``POST …/consumer-groups/{g}/consumers`` ``{"topics": […] |
"topic_pattern", "format" | "key_format"/"value_format", "auto.offset.reset",
"isolation.level", "session.timeout.ms", "name"}`` answers 201 with an opaque ``cursor``.
``GET …/consumer-groups/{g}/records?cursor=…&max_bytes=&timeout=&max_records=`` answers the next
records and the cursor past them; presenting a cursor acknowledges what it covers (committed to
the group). Any proxy instance accepts any cursor (`odradek.rest.consumers.leases`).

**Offset-addressed fetch.** ``GET …/topics/{t}/partitions/{p}/records?offset=N&max_bytes=&timeout=
&format=&isolation.level=`` answers records from offset N and ``next_offset``; no state anywhere.

**Streaming.** Either GET with ``Accept: text/event-stream`` (Server-Sent Events: one event per
record; the ``id`` of the last event of each batch is the cursor, or the next offset, to resume
from, which a browser's EventSource sends back as ``Last-Event-ID`` when it reconnects) or
``Accept: application/x-ndjson`` (one record per line; after each batch a line
``{"cursor": …}`` or ``{"next_offset": …}``). The stream waits up to ``fetch.max.wait.ms`` (query,
default 500) for ``fetch.min.bytes`` (query, default 1) per batch, sends a keep-alive comment every
15 s of silence, and only fetches the next batch once the previous one is written to the socket:
a slow reader slows the consumer, memory stays one batch. A group stream commits what it has sent
every ``consumer.commit.interval.ms`` and when it ends (Kafka's auto-commit semantics).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.http import NDJSON, SSE, HttpError, HttpLimits, LimitedRoute, StreamResponse, sse_event
from odradek.rest import content, errors, jsoncodec
from odradek.rest.consumers.cursor import ConsumerSpec, Cursor, decode
from odradek.rest.content import Format
from odradek.rest.fields import array, integer, obj, pointer, string
from odradek.rest.kafka.admin_extras import remove_static_member
from odradek.rest.records import v3_record
from odradek.rest.responses import v3_json
from odradek.rest.serde import PLAIN, Serde
from odradek.rest.v2.metadata import partition_or_404, topic_or_404
from odradek.rest.v3.common import Ctx, ctx_of

CREATED = 201
KEEPALIVE_S = 15.0
OFFSET_RESETS = ("earliest", "latest")
ISOLATION = ("read_committed", "read_uncommitted")
RANGE_NOT_SATISFIABLE = 416


def serde_of(ctx: Ctx, name: str) -> Serde:
    fmt = Format(name.lower())
    if fmt.schema_backed:
        return ctx.proxy.schemas.deserializer(fmt)
    return PLAIN[fmt]


def format_name(value: Any, at: str) -> str:
    name = string(value, at).lower()
    try:
        Format(name)
    except ValueError:
        raise errors.invalid_payload(f"Unknown format {value!r}.", at) from None
    return name.upper()


def wants(request: Request) -> str:
    accept = request.headers.get("accept", "")
    if SSE in accept:
        return SSE
    if NDJSON in accept:
        return NDJSON
    return content.V3


def query_int(request: Request, name: str, default: int, minimum: int = 0) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(f"Query parameter {name} must be an integer, got {raw!r}.") from None
    if value < minimum:
        raise errors.bad_request(f"Query parameter {name} must be at least {minimum}, got {value}.")
    return value


# -- group consumers ---------------------------------------------------------------------------


async def create_consumer(request: Request) -> Response:
    content.require_json(request)
    ctx = await ctx_of(request)
    group = request.path_params["consumer_group_id"]
    body = obj(await content.read_json(request, allow_empty=True) or {}, "")
    topics = body.get("topics")
    pattern = body.get("topic_pattern")
    if (topics is None) == (pattern is None):
        raise errors.invalid_payload('Give exactly one of "topics" and "topic_pattern".', "")
    names = (
        None
        if topics is None
        else tuple(string(t, pointer("topics", i)) for i, t in enumerate(array(topics, "/topics")))
    )
    if names is not None and not names:
        raise errors.invalid_payload("At least one topic is needed.", "/topics")
    both = format_name(body.get("format", "BINARY"), "/format")
    reset = string(body.get("auto.offset.reset", "latest"), "/auto.offset.reset").lower()
    if reset not in OFFSET_RESETS:
        raise errors.invalid_payload("auto.offset.reset must be earliest or latest.", "/auto.offset.reset")
    isolation = string(body.get("isolation.level", "read_committed"), "/isolation.level").lower()
    if isolation not in ISOLATION:
        raise errors.invalid_payload(
            "isolation.level must be read_committed or read_uncommitted.", "/isolation.level"
        )
    default_session = ctx.proxy.config.integer("consumer.session.timeout.ms")
    spec = ConsumerSpec(
        group=group,
        name=string(body.get("name") or f"rest-{uuid.uuid4().hex[:16]}", "/name"),
        topics=names,
        pattern=None if pattern is None else string(pattern, "/topic_pattern"),
        key_format=format_name(body.get("key_format", both), "/key_format"),
        value_format=format_name(body.get("value_format", both), "/value_format"),
        offset_reset=reset,
        isolation=isolation,
        session_timeout_ms=integer(
            body.get("session.timeout.ms", default_session), "/session.timeout.ms", 6000, 300_000
        ),
    )
    for name in (spec.key_format, spec.value_format):
        serde_of(ctx, name)
    cursor = Cursor(spec)
    await ctx.proxy.leases.lease(cursor)  # join now, so the first fetch finds partitions
    token = cursor.encode()
    url = ctx.url("consumer-groups", group, "records") + "?cursor=" + token
    return v3_json(
        ctx.resource(
            "KafkaGroupConsumer",
            url,
            ctx.crn(("consumer-group", group), ("consumer", spec.name)),
            consumer_group_id=group,
            consumer_id=spec.name,
            cursor=token,
            records={"related": url},
        ),
        CREATED,
    )


async def delete_consumer(request: Request) -> Response:
    """Acknowledge the cursor (commit it), close this instance's lease and remove the static member
    from the group, so the other members get its partitions at once (not after its session timeout)."""
    ctx = await ctx_of(request)
    cursor = cursor_of(request)
    if cursor.spec.name != request.path_params["consumer_id"]:
        raise errors.bad_request("The cursor belongs to another consumer.")
    leases = ctx.proxy.leases
    lease = await leases.lease(cursor)
    async with lease.handle.lock:
        try:
            await leases.acknowledge(lease, cursor)
        except KafkaException as exc:
            raise errors.kafka_error(exc) from None
    await leases.drop((cursor.spec.group, cursor.spec.name))
    await remove_static_member(ctx.proxy.client_config(), cursor.spec.group, cursor.spec.name)
    return Response(status_code=204)


def cursor_of(request: Request) -> Cursor:
    text = request.headers.get("last-event-id") or request.query_params.get("cursor")
    if not text:
        raise errors.bad_request(
            "A cursor is needed: ?cursor=… (from creating the consumer or the last answer)."
        )
    cursor = decode(text)
    if cursor.spec.group != request.path_params["consumer_group_id"]:
        raise errors.bad_request("The cursor belongs to another consumer group.")
    return cursor


async def group_records(request: Request) -> Response | StreamResponse:
    ctx = await ctx_of(request)
    cursor = cursor_of(request)
    key_serde, value_serde = serde_of(ctx, cursor.spec.key_format), serde_of(ctx, cursor.spec.value_format)
    limit = ctx.proxy.config.integer("consumer.request.max.bytes")
    max_bytes = min(query_int(request, "max_bytes", limit, 1), limit)
    max_records = query_int(request, "max_records", 0) or None
    mode = wants(request)
    if mode != content.V3:
        return StreamResponse(
            group_stream(request, ctx, cursor, mode, key_serde, value_serde, max_bytes), mode
        )
    timeout_ms = query_int(request, "timeout", ctx.proxy.config.integer("consumer.request.timeout.ms"))
    timeout_s = min(timeout_ms / 1000.0, ctx.proxy.config.seconds("request.timeout.ms") * 0.8)
    _, records, nxt = await ctx.proxy.leases.fetch(cursor, max_bytes, timeout_s, 1, max_records)
    token = nxt.encode()
    data = [v3_record(m, ctx.cluster_id, key_serde, value_serde) for m in records]
    return v3_json(
        {
            "kind": "KafkaRecordList",
            "metadata": {
                "self": str(request.url),
                "next": ctx.url("consumer-groups", cursor.spec.group, "records") + "?cursor=" + token,
            },
            "cursor": token,
            "data": data,
        }
    )


async def group_stream(
    request: Request,
    ctx: Ctx,
    cursor: Cursor,
    mode: str,
    key_serde: Serde,
    value_serde: Serde,
    max_bytes: int,
) -> AsyncIterator[bytes]:
    wait_s = query_int(request, "fetch.max.wait.ms", 500) / 1000.0
    min_bytes = query_int(request, "fetch.min.bytes", 1, 1)
    commit_every = ctx.proxy.config.seconds("consumer.commit.interval.ms")
    leases = ctx.proxy.leases
    last_commit = last_send = time.monotonic()
    try:
        while True:
            # streams commit every commit interval, not on every batch (a round trip each)
            _, records, nxt = await leases.fetch(cursor, max_bytes, wait_s, min_bytes, commit=False)
            now = time.monotonic()
            if records:
                token = nxt.encode()
                yield render(
                    mode,
                    [v3_record(m, ctx.cluster_id, key_serde, value_serde) for m in records],
                    "cursor",
                    token,
                )
                cursor = nxt
                last_send = now
            elif now - last_send > KEEPALIVE_S:
                yield b":\n\n" if mode == SSE else b"\n"
                last_send = now
            if now - last_commit > commit_every:
                lease = await leases.lease(cursor)
                async with lease.handle.lock:
                    await leases.acknowledge(lease, cursor)
                last_commit = now
    finally:
        held = leases.leases.get((cursor.spec.group, cursor.spec.name))
        if held is not None and not held.handle.closed:
            try:
                async with held.handle.lock:
                    await leases.acknowledge(held, cursor)
            except (KafkaException, HttpError):
                pass


def render(mode: str, records: list[dict[str, Any]], resume_key: str, resume: str | int) -> bytes:
    if mode == SSE:
        parts = [sse_event(jsoncodec.dumps(r)) for r in records[:-1]]
        parts.append(sse_event(jsoncodec.dumps(records[-1]), event_id=str(resume)))
        return b"".join(parts)
    lines = [jsoncodec.dumps(r) + b"\n" for r in records]
    lines.append(jsoncodec.dumps({resume_key: resume}) + b"\n")
    return b"".join(lines)


# -- offset-addressed fetch --------------------------------------------------------------------


async def partition_records(request: Request) -> Response | StreamResponse:
    ctx = await ctx_of(request)
    topic = await topic_or_404(ctx.proxy, request.path_params["topic_name"])
    partition = partition_or_404(topic, request.path_params["partition_id"]).id
    last_event = request.headers.get("last-event-id")
    offset = int(last_event) if last_event and last_event.isdigit() else query_int(request, "offset", 0)
    both = request.query_params.get("format", "BINARY")
    key_fmt = format_name(request.query_params.get("key_format", both), "/key_format")
    value_fmt = format_name(request.query_params.get("value_format", both), "/value_format")
    key_serde, value_serde = serde_of(ctx, key_fmt), serde_of(ctx, value_fmt)
    isolation = request.query_params.get("isolation.level", "read_committed").lower()
    if isolation not in ISOLATION:
        raise errors.bad_request("isolation.level must be read_committed or read_uncommitted.")
    limit = ctx.proxy.config.integer("consumer.request.max.bytes")
    max_bytes = min(query_int(request, "max_bytes", limit, 1), limit)
    max_records = query_int(request, "max_records", 0) or None
    mode = wants(request)

    async def fetch(at: int, wait_s: float) -> list[Message]:
        try:
            return await ctx.proxy.fetch_pool.fetch(
                topic.name, partition, at, max_bytes, wait_s, isolation, max_records
            )
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            if isinstance(err, KafkaError) and err.code() in (
                KafkaError._AUTO_OFFSET_RESET,
                KafkaError.OFFSET_OUT_OF_RANGE,
            ):
                raise HttpError(
                    RANGE_NOT_SATISFIABLE, f"Offset {at} is out of range for {topic.name}-{partition}."
                ) from None
            raise errors.kafka_error(exc) from None

    if mode != content.V3:

        async def stream() -> AsyncIterator[bytes]:
            at, last_send = offset, time.monotonic()
            wait_s = query_int(request, "fetch.max.wait.ms", 500) / 1000.0
            while True:
                records = await fetch(at, wait_s)
                if records:
                    at = (records[-1].offset() or 0) + 1
                    data = [v3_record(m, ctx.cluster_id, key_serde, value_serde) for m in records]
                    yield render(mode, data, "next_offset", at)
                    last_send = time.monotonic()
                elif time.monotonic() - last_send > KEEPALIVE_S:
                    yield b":\n\n" if mode == SSE else b"\n"
                    last_send = time.monotonic()

        return StreamResponse(stream(), mode)
    timeout_ms = query_int(request, "timeout", ctx.proxy.config.integer("consumer.request.timeout.ms"))
    records = await fetch(
        offset, min(timeout_ms / 1000.0, ctx.proxy.config.seconds("request.timeout.ms") * 0.8)
    )
    nxt = (records[-1].offset() or 0) + 1 if records else offset
    return v3_json(
        {
            "kind": "KafkaRecordList",
            "metadata": {"self": str(request.url), "next": None},
            "next_offset": nxt,
            "data": [v3_record(m, ctx.cluster_id, key_serde, value_serde) for m in records],
        }
    )


def routes(stream_limits: HttpLimits) -> list[Route]:
    g = "/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}"
    p = "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id:int}/records"
    return [
        Route(g + "/consumers", create_consumer, methods=["POST"]),
        Route(g + "/consumers/{consumer_id}", delete_consumer, methods=["DELETE"]),
        LimitedRoute(g + "/records", group_records, methods=["GET"], limits=stream_limits),
        LimitedRoute(p, partition_records, methods=["GET"], limits=stream_limits),
    ]
