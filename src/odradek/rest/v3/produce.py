"""v3 produce: ``POST …/topics/{t}/records`` (one record, or a stream) and ``…/records:batch``.

A record: ``{"partition_id", "headers": [{"name", "value"}], "key": {"type", "data"},
"value": {…}, "timestamp"}`` with types BINARY, JSON, STRING (and the schema-backed AVRO,
JSONSCHEMA, PROTOBUF). Its delivery report: ``{"error_code": 200, "cluster_id", "topic_name",
"partition_id", "offset", "timestamp", "key": {"type", "size"}, "value": {…}}``, or
``{"error_code": …, "message": …}`` for a record that failed.

* **One record** (a body with ``Content-Length``): the report, with the record's status as the
  HTTP status (200, or e.g. 422 for a record that does not match its format).
* **Streaming** (``Transfer-Encoding: chunked``): records as concatenated JSON for as long as the
  client sends, reports streamed back in the same order, one line each, while records still
  arrive; HTTP 200 once the stream is open. A bad record gets an error report and the stream goes
  on. At most ``stream.max.inflight.records`` records await delivery: past that the proxy stops
  reading (TCP back-pressure on the client); a record is at most ``stream.max.record.bytes``.
* **Batch** ``:batch``: ``{"entries": [{"id", …record…}]}`` → 207 ``{"successes": [{"id", …}],
  "failures": [{"id", "error_code", "message"}]}``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.http import HttpError, HttpLimits, LimitedRoute, StreamResponse
from odradek.rest import content, errors, jsoncodec
from odradek.rest.concat_json import BadDocument, JsonStream
from odradek.rest.content import Format
from odradek.rest.fields import array, integer, obj, pointer, string
from odradek.rest.idempotency import Aborted, Answer, check_key, replayed_header, request_digest
from odradek.rest.kafka.producer import Delivery, DeliveryBatch, OutRecord, ProducerService
from odradek.rest.produce import Refused, aborted, first_failure, kafka_failure, produce, record_bytes
from odradek.rest.records import iso, parse_headers, parse_timestamp
from odradek.rest.schemas import SchemaRef
from odradek.rest.serde import JSON_V3, PLAIN, Serde
from odradek.rest.service import RestProxy
from odradek.rest.v2.metadata import topic_or_404
from odradek.rest.v3.common import Ctx, ctx_of

OK = 200
MULTI_STATUS = 207
MAX_BATCH_ENTRIES = 1000
NDJSON_LINE = b"\n"


SCHEMA_FIELDS = ("schema_id", "schema_version", "subject", "schema")
Resolved = dict[tuple[Any, ...], Serde]
Kind = tuple[str, int | None]  # a key's or value's type name and schema id (schema-backed only)
KINDS: dict[Format, Kind] = {fmt: (fmt.name, None) for fmt in Format}


PLAIN_TYPES = frozenset({"BINARY", "JSON", "STRING", "binary", "json", "string"})


def schema_key(spec: Any, is_key: bool) -> tuple[Any, ...] | None:
    """The identity of the schema a key or value names, or None when it names none."""
    if not isinstance(spec, dict):
        return None
    kind = spec.get("type")
    if kind in PLAIN_TYPES and "schema" not in spec and "schema_id" not in spec and "subject" not in spec:
        return None  # the common case, decided with a few dict lookups
    upper = str(kind or "").upper()
    if upper not in ("AVRO", "JSONSCHEMA", "PROTOBUF") and all(spec.get(k) is None for k in SCHEMA_FIELDS):
        return None
    return (is_key, upper, *(spec.get(k) for k in SCHEMA_FIELDS))


async def resolve_schemas(proxy: RestProxy, topic: str, doc: Any, resolved: Resolved, at: str = "") -> None:
    """Look up (or register) the schemas a record names, once per request or stream."""
    if not isinstance(doc, dict):
        return
    for side in ("key", "value"):
        spec = doc.get(side)
        key = schema_key(spec, side == "key")
        if key is None or key in resolved:
            continue
        assert isinstance(spec, dict)
        here = f"{at}/{side}"
        kind = key[1]
        fmt = Format(kind.lower()) if kind else None
        ref = SchemaRef(
            text=None if spec.get("schema") is None else string(spec["schema"], here + "/schema"),
            schema_id=None
            if spec.get("schema_id") is None
            else integer(spec["schema_id"], here + "/schema_id", 1),
            subject=None if spec.get("subject") is None else string(spec["subject"], here + "/subject"),
            version=None
            if spec.get("schema_version") is None
            else integer(spec["schema_version"], here + "/schema_version", 1),
        )
        if ref.text is not None and fmt is None:
            raise errors.invalid_payload('A key or value with a "schema" needs its "type".', here + "/type")
        resolved[key] = await proxy.schemas.serde(fmt, ref, topic, side == "key")


PLAIN_SERDES: dict[Any, Serde] = {
    name: serde
    for fmt, serde in (
        (Format.BINARY, PLAIN[Format.BINARY]),
        (Format.JSON, JSON_V3),
        (Format.STRING, PLAIN[Format.STRING]),
    )
    for name in (fmt.name, fmt.value)
}


def serde_for(
    proxy: RestProxy, spec: Any, at: str, resolved: Resolved | None = None, is_key: bool = False
) -> Serde:
    plain = PLAIN_SERDES.get(spec.get("type"))
    if plain is not None and "schema" not in spec and "schema_id" not in spec and "subject" not in spec:
        return plain  # the common case: one dict lookup
    key = schema_key(spec, is_key)
    if key is not None:
        proxy.schemas.require()
        found = (resolved or {}).get(key)
        if found is None:
            raise errors.invalid_payload("The schema of this key or value could not be resolved.", at)
        return found
    kind = spec.get("type")
    if kind is None:
        raise errors.invalid_payload('A key or value needs a "type" (BINARY, JSON, STRING).', at + "/type")
    name = string(kind, at + "/type").lower()
    try:
        fmt = Format(name)
    except ValueError:
        raise errors.invalid_payload(f"Unknown type {kind!r}.", at + "/type") from None
    if fmt.schema_backed:
        proxy.schemas.require()
    return JSON_V3 if fmt is Format.JSON else PLAIN[fmt]


def data_of(
    proxy: RestProxy, value: Any, at: str, resolved: Resolved | None = None, is_key: bool = False
) -> tuple[bytes | None, Kind | None]:
    """Record bytes of a v3 key or value object, and its type (with the schema id, if any)."""
    if value is None:
        return None, None
    spec = obj(value, at)
    serde = serde_for(proxy, spec, at, resolved, is_key)
    schema_id = getattr(serde, "schema_id", None)
    kind = KINDS[serde.format] if schema_id is None else (serde.format.name, schema_id)
    data = spec.get("data")
    if data is None and serde.format is not Format.JSON:
        return None, kind
    return serde.serialize(data, at + "/data"), kind


def parse_record(
    proxy: RestProxy, topic: str, item: Any, at: str = "", resolved: Resolved | None = None
) -> tuple[OutRecord, Kind | None, Kind | None]:
    record = obj(item, at)
    raw_partition = record.get("partition_id")
    partition = -1 if raw_partition is None else integer(raw_partition, at + "/partition_id", 0, 2**31 - 1)
    key, key_type = data_of(proxy, record.get("key"), at + "/key", resolved, True)
    value, value_type = data_of(proxy, record.get("value"), at + "/value", resolved, False)
    out = OutRecord(
        topic,
        partition,
        key,
        value,
        parse_headers(record.get("headers"), at + "/headers"),
        parse_timestamp(record.get("timestamp"), at + "/timestamp"),
    )
    return out, key_type, value_type


def side(raw: bytes | None, kind: Kind | None) -> dict[str, Any] | None:
    if kind is None and raw is None:
        return None
    out: dict[str, Any] = {"type": kind[0] if kind else None, "size": len(raw) if raw is not None else 0}
    if kind is not None and kind[1] is not None:
        out["schema_id"] = kind[1]
    return out


def report(
    ctx: Ctx,
    outcome: Delivery | Refused | HttpError,
    record: OutRecord | None,
    key_type: Kind | None = None,
    value_type: Kind | None = None,
) -> dict[str, Any]:
    if isinstance(outcome, HttpError):
        return {"error_code": outcome.error_code, "message": outcome.message, **outcome.fields}
    if isinstance(outcome, Delivery) and outcome.error is not None:
        outcome = kafka_failure(outcome.error)
    if isinstance(outcome, Refused):
        body: dict[str, Any] = {"error_code": outcome.error_code, "message": outcome.message}
        if outcome.kafka_code is not None:
            body["kafka_error_code"] = outcome.kafka_code
        return body
    assert record is not None
    return {
        "error_code": OK,
        "cluster_id": ctx.cluster_id,
        "topic_name": outcome.topic,
        "partition_id": outcome.partition,
        "offset": outcome.offset,
        "timestamp": iso(outcome.timestamp_ms) if outcome.timestamp_ms >= 0 else None,
        "key": side(record.key, key_type),
        "value": side(record.value, value_type),
    }


def status_of_report(body: dict[str, Any]) -> int:
    code = int(body["error_code"])
    while code >= 1000:
        code //= 10
    return code


def is_streaming(request: Request) -> bool:
    return "chunked" in request.headers.get("transfer-encoding", "").lower()


async def produce_records(request: Request) -> Response | StreamResponse:
    content.require_json(request)
    ctx = await ctx_of(request)
    topic = await topic_or_404(ctx.proxy, request.path_params["topic_name"])
    if is_streaming(request):
        stream = ProduceStream(ctx, topic.name, len(topic.partitions), request)
        return StreamResponse(stream.reports(), content.V3, watch_disconnect=False)
    limit = ctx.proxy.config.integer("max.request.bytes")
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > limit:
        raise HttpError(413, f"Request body is larger than {limit} bytes")
    raw = await request.body()
    documents = _split(raw)
    if not documents:
        raise errors.invalid_payload("Request body is empty; a JSON record is expected.")
    resolved: Resolved = {}
    prepared = [await prepare(ctx, topic.name, doc, resolved) for doc in documents]
    key = request.headers.get("idempotency-key")
    if key is None and len(documents) == 1 and isinstance(documents[0], dict):
        field_key = documents[0].get("idempotency_key")
        key = None if field_key is None else string(field_key, "/idempotency_key")

    def answer_of(reports: list[dict[str, Any]]) -> Answer:
        if len(reports) == 1:
            return Answer(status_of_report(reports[0]), jsoncodec.dumps(reports[0]), content.V3)
        return Answer(OK, b"".join(jsoncodec.dumps(r) + NDJSON_LINE for r in reports), content.V3)

    answer, replayed = await deliver(ctx, request, raw, key, prepared, len(topic.partitions), answer_of)
    return Response(answer.body, answer.status, replayed_header(replayed), answer.media_type)


Prepared = tuple[OutRecord, Kind | None, Kind | None] | HttpError


async def prepare(ctx: Ctx, topic: str, doc: Any, resolved: Resolved, at: str = "") -> Prepared:
    if isinstance(doc, BadDocument):
        return errors.invalid_payload(f"The record is {doc.reason}.")
    try:
        await resolve_schemas(ctx.proxy, topic, doc, resolved, at)
        return parse_record(ctx.proxy, topic, doc, at, resolved)
    except HttpError as exc:
        return exc


async def deliver(
    ctx: Ctx,
    request: Request,
    raw: bytes,
    key: str | None,
    prepared: list[Prepared],
    partitions: int,
    answer_of: Callable[[list[dict[str, Any]]], Answer],
) -> tuple[Answer, bool]:
    """Produce the prepared records (in one transaction when the request has an idempotency key)
    and the answer built from their reports; True when the answer is a replay."""
    to_send = [p[0] for p in prepared if not isinstance(p, HttpError)]

    def reports_of(outcomes: list[Delivery | Refused]) -> list[dict[str, Any]]:
        it = iter(outcomes)
        return [
            report(ctx, p, None) if isinstance(p, HttpError) else report(ctx, next(it), *p) for p in prepared
        ]

    if key is None:
        return answer_of(reports_of(await produce(ctx.proxy, list(to_send), partitions))), False

    async def transactional(service: ProducerService) -> Answer:
        outcomes = await produce(ctx.proxy, list(to_send), partitions, service)
        failure = first_failure(outcomes)
        if failure is not None:
            raise Aborted(answer_of(reports_of(aborted(outcomes, failure))))
        return answer_of(reports_of(outcomes))

    digest = request_digest(request.url.path, raw)
    try:
        return await ctx.proxy.idempotency.run(check_key(key), digest, transactional)
    except Aborted as exc:
        return exc.answer, False


def _split(body: bytes) -> list[Any]:
    stream = JsonStream(len(body) + 1)
    return stream.feed(body) + stream.finish()


class ProduceStream:
    """One streaming produce request: read records, produce them, stream the reports in order."""

    def __init__(self, ctx: Ctx, topic: str, partitions: int, request: Request) -> None:
        self.ctx = ctx
        self.topic = topic
        self.partitions = partitions
        self.request = request
        config = ctx.proxy.config
        self.parser = JsonStream(config.integer("stream.max.record.bytes"))
        self.max_inflight = config.integer("stream.max.inflight.records")
        self.batch: DeliveryBatch = ctx.proxy.producer.batch()
        # per record in order: a ready report, or (delivery index, record, key type, value type)
        self.slots: deque[dict[str, Any] | tuple[int, OutRecord, Kind | None, Kind | None]] = deque()
        self.reading_done = False
        self.wakeup = asyncio.Event()
        self.limit: int | None = None
        self.resolved: Resolved = {}

    async def reports(self) -> AsyncIterator[bytes]:
        reader = asyncio.ensure_future(self.read())
        try:
            while True:
                out = self.take_ready()
                if out:
                    yield b"".join(jsoncodec.dumps(r) + NDJSON_LINE for r in out)
                    continue
                if self.reading_done and not self.slots:
                    await reader
                    return
                self.wakeup.clear()
                front = self.slots[0] if self.slots else None
                if isinstance(front, tuple):
                    await self.batch.wait_for(front[0])
                elif not self.reading_done:
                    await self.wakeup.wait()
        finally:
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader

    def take_ready(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        ready = self.batch.reports
        while self.slots:
            slot = self.slots[0]
            if isinstance(slot, dict):
                out.append(slot)
            else:
                index, record, key_type, value_type = slot
                delivery = ready[index]
                if delivery is None:
                    break
                out.append(report(self.ctx, delivery, record, key_type, value_type))
            self.slots.popleft()
        return out

    async def read(self) -> None:
        try:
            async for chunk in self.request.stream():
                for doc in self.parser.feed(chunk):
                    await self.accept(doc)
            for doc in self.parser.finish():
                await self.accept(doc)
        except ClientDisconnect:
            pass
        finally:
            self.reading_done = True
            self.wakeup.set()

    async def accept(self, doc: Any) -> None:
        while len(self.slots) >= self.max_inflight:  # back-pressure: stop reading the body
            self.wakeup.set()
            await asyncio.sleep(0.001)
        if isinstance(doc, BadDocument):
            self.slots.append(report(self.ctx, errors.invalid_payload(f"The record is {doc.reason}."), None))
            self.wakeup.set()
            return
        try:
            if isinstance(doc, dict) and doc.get("idempotency_key") is not None:
                raise errors.invalid_payload(
                    "Streaming produce takes no idempotency keys: send the record in a request of its own.",
                    "/idempotency_key",
                )
            if isinstance(doc, dict) and (
                schema_key(doc.get("key"), True) or schema_key(doc.get("value"), False)
            ):
                await resolve_schemas(self.ctx.proxy, self.topic, doc, self.resolved)
            record, key_type, value_type = parse_record(self.ctx.proxy, self.topic, doc, "", self.resolved)
        except HttpError as exc:
            self.slots.append(report(self.ctx, exc, None))
            self.wakeup.set()
            return
        if self.limit is None:
            self.limit = await self.ctx.proxy.topic_limits.max_message_bytes(self.topic)
        refused = self.check(record, self.limit)
        if refused is not None:
            self.slots.append(report(self.ctx, refused, record))
            self.wakeup.set()
            return
        index = len(self.batch.reports)
        self.slots.append((index, record, key_type, value_type))
        producer = self.ctx.proxy.producer
        if not producer.try_send(self.batch, record):  # librdkafka's queue is full: wait for room
            await producer.send_one(self.batch, record)  # takes the same index again

    def check(self, record: OutRecord, limit: int) -> Refused | None:
        if record.partition >= self.partitions:
            return Refused(40402, f"Partition {record.partition} of topic {self.topic} not found.")
        size = record_bytes(record)
        if size > limit:
            return Refused(
                50002,
                f"Kafka error: MSG_SIZE_TOO_LARGE (10): the record is {size} bytes, more than the topic's "
                f"max.message.bytes ({limit})",
                10,
            )
        return None


async def produce_batch(request: Request) -> Response:
    content.require_json(request)
    ctx = await ctx_of(request)
    topic = await topic_or_404(ctx.proxy, request.path_params["topic_name"])
    raw = await request.body()
    body = obj(await content.read_json(request), "")
    entries = array(body.get("entries"), "/entries")
    if not entries:
        raise HttpError(errors.PRODUCE_BATCH, "Empty batch.", status=400)
    if len(entries) > MAX_BATCH_ENTRIES:
        raise HttpError(errors.PRODUCE_BATCH, f"Too many entries: at most {MAX_BATCH_ENTRIES}.", status=400)
    ids: list[str] = []
    parsed: list[Prepared] = []
    resolved: Resolved = {}
    for i, item in enumerate(entries):
        at = pointer("entries", i)
        entry = obj(item, at)
        entry_id = entry.get("id")
        if not isinstance(entry_id, str) or not 1 <= len(entry_id) <= 80:
            raise HttpError(
                errors.PRODUCE_BATCH, f"Entry {i}: id must be a string of 1 to 80 characters.", status=400
            )
        ids.append(entry_id)
        parsed.append(await prepare(ctx, topic.name, entry, resolved, at))
    if len(set(ids)) != len(ids):
        raise HttpError(errors.PRODUCE_BATCH, "Entry ids are not distinct.", status=400)

    def answer_of(reports: list[dict[str, Any]]) -> Answer:
        successes, failures = [], []
        for entry_id, body_ in zip(ids, reports, strict=True):
            if body_["error_code"] == OK:
                del body_["error_code"]
                successes.append({"id": entry_id, **body_})
            else:
                failures.append({"id": entry_id, **body_})
        return Answer(
            MULTI_STATUS, jsoncodec.dumps({"successes": successes, "failures": failures}), content.V3
        )

    key = request.headers.get("idempotency-key")
    answer, replayed = await deliver(ctx, request, raw, key, parsed, len(topic.partitions), answer_of)
    return Response(answer.body, answer.status, replayed_header(replayed), answer.media_type)


R = "/v3/clusters/{cluster_id}/topics/{topic_name}/records"


def routes(proxy_limits: HttpLimits) -> list[Route]:
    return [
        LimitedRoute(R, produce_records, methods=["POST"], limits=proxy_limits),
        Route(R + ":batch", produce_batch, methods=["POST"]),
    ]
