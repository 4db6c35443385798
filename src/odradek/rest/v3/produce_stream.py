"""v3 streaming produce: records in as concatenated JSON, one delivery report line out per record.

This is the proxy's hottest path, so each record costs as little Python as it can:

* the body is split and parsed by `JsonStream` (orjson, one call per line);
* a record of the common shape (``key`` / ``value`` of type BINARY, JSON or STRING and an optional
  ``partition_id``) is checked and turned into bytes by `plain_record` with a few type tests, and
  goes straight to librdkafka; any other record (headers, timestamp, schemas, or anything wrong)
  takes the general `parse_record`, which gives the same bytes or the error with its JSON pointer;
* the delivery callback writes the record's report line as bytes from a per-stream prefix and
  the record's pre-encoded key/value summary, with no intermediate objects; the same bytes
  `report` + `jsoncodec.dumps` would give;
* report lines go out in request order, as many as are ready per write.

At most ``stream.max.inflight.records`` records await delivery: past that the proxy stops
reading (TCP back-pressure on the client).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import threading
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message
from starlette.requests import ClientDisconnect, Request

from odradek.http import HttpError
from odradek.rest import errors, jsoncodec
from odradek.rest.concat_json import BadDocument, JsonStream
from odradek.rest.kafka.producer import Headers
from odradek.rest.produce import (
    BATCH_OVERHEAD,
    DEFAULT_MAX_MESSAGE_BYTES,
    Refused,
    kafka_failure,
    record_bytes,
)
from odradek.rest.records import iso
from odradek.rest.v3.common import Ctx
from odradek.rest.v3.records_in import Kind, Resolved, parse_record, report, resolve_schemas, schema_key

INT32_MAX = 2**31 - 1
FULL_WAIT_S = 0.001
NEWLINE = b"\n"


def _kind_json(kind: Kind | None) -> bytes:
    """The report's ``{"type", "size"[, "schema_id"]}`` of a key or value, ``%d`` for the size."""
    if kind is None:
        return b"null"
    head = b'{"type":' + jsoncodec.dumps(kind[0]) + b',"size":%d'
    return head + (b"}" if kind[1] is None else b',"schema_id":%d}' % kind[1])


def tail_of(key_side: bytes, value_side: bytes) -> bytes:
    """``"key":…,"value":…}`` and the newline: the end of a report line, ``%d`` for the sizes."""
    return b'"key":' + key_side + b',"value":' + value_side + b"}\n"


def report_tail(
    key_type: Kind | None, key: bytes | None, value_type: Kind | None, value: bytes | None
) -> bytes:
    sizes = [len(raw or b"") for kind, raw in ((key_type, key), (value_type, value)) if kind is not None]
    return tail_of(_kind_json(key_type), _kind_json(value_type)) % tuple(sizes)


# BINARY, JSON, STRING (either spelling) → its report type name
PLAIN_KINDS = {name: name.upper() for name in ("BINARY", "JSON", "STRING", "binary", "json", "string")}
# (key type, value type) of plain records (None: a null key or value) → the report's tail
PLAIN_TAILS = {
    (k, v): tail_of(
        _kind_json(None if k is None else (k, None)), _kind_json(None if v is None else (v, None))
    )
    for k in (None, "BINARY", "JSON", "STRING")
    for v in (None, "BINARY", "JSON", "STRING")
}
PLAIN_FIELDS = frozenset({"key", "value", "partition_id"})


def plain_data(spec: dict[str, Any]) -> tuple[str, bytes | None] | None:
    """Report type and record bytes of a BINARY, JSON or STRING key or value; None for anything
    else or anything wrong (left to `parse_record`, which names the error)."""
    try:
        kind = PLAIN_KINDS.get(spec.get("type"))  # type: ignore[arg-type]
    except TypeError:  # an unhashable "type"
        return None
    fields = len(spec)
    if kind is None or fields > 2 or (fields == 2 and "data" not in spec):
        return None
    data = spec.get("data")
    if kind == "JSON":
        return kind, jsoncodec.dumps(data)
    if data is None:
        return kind, None
    if type(data) is not str:
        return None
    if kind == "STRING":
        return kind, data.encode()
    try:
        return kind, base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def plain_record(doc: dict[str, Any]) -> tuple[int, bytes | None, bytes | None, bytes] | None:
    """``(partition, key, value, report tail)`` of a record of the common shape, else None."""
    if not PLAIN_FIELDS.issuperset(doc):
        return None
    partition = doc.get("partition_id")
    if partition is None:
        partition = -1
    elif type(partition) is not int or not 0 <= partition <= INT32_MAX:
        return None
    spec = doc.get("key")
    key_kind: str | None = None
    key: bytes | None = None
    if spec is not None:
        found = plain_data(spec) if type(spec) is dict else None
        if found is None:
            return None
        key_kind, key = found
    spec = doc.get("value")
    value_kind: str | None = None
    value: bytes | None = None
    if spec is not None:
        found = plain_data(spec) if type(spec) is dict else None
        if found is None:
            return None
        value_kind, value = found
    tail = PLAIN_TAILS[key_kind, value_kind]
    if key_kind is None:
        if value_kind is not None:
            tail %= len(value) if value is not None else 0
    elif value_kind is None:
        tail %= len(key) if key is not None else 0
    else:
        tail %= (len(key) if key is not None else 0, len(value) if value is not None else 0)
    return partition, key, value, tail


_second: list[tuple[int, bytes]] = [(-1, b"")]


def iso_json(ms: int) -> bytes:
    """``"2026-11-25T10:00:00.123Z"`` (with the quotes) of epoch milliseconds; null below 0."""
    if ms < 0:
        return b"null"
    second, milli = divmod(ms, 1000)
    last, prefix = _second[0]
    if second != last:
        prefix = b'"' + iso(second * 1000)[:-4].encode()  # up to the seconds' dot
        _second[0] = (second, prefix)
    return b'%s%03dZ"' % (prefix, milli)


def ok_head(cluster_id: str, topic: str) -> bytes:
    """The start of a delivered record's report line, up to its ``partition_id``."""
    return (
        b'{"error_code":200,"cluster_id":'
        + jsoncodec.dumps(cluster_id)
        + b',"topic_name":'
        + jsoncodec.dumps(topic)
        + b',"partition_id":'
    )


def ok_line(head: bytes, partition: int, offset: int, timestamp_ms: int, tail: bytes) -> bytes:
    """A delivered record's report line: the bytes `report` and `jsoncodec.dumps` give, and a newline."""
    return b'%s%d,"offset":%d,"timestamp":%s,%s' % (head, partition, offset, iso_json(timestamp_ms), tail)


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
        self.producer = ctx.proxy.producer
        assert self.producer.producer is not None
        self.produce = self.producer.producer.produce  # the fast path calls librdkafka directly
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        # report lines of the records not yet written out, in order; None: awaiting delivery
        self.lines: list[bytes | None] = []
        self.base = 0  # sequence number of lines[0]
        self.progress = asyncio.Event()
        self.reading_done = False
        self.limit = DEFAULT_MAX_MESSAGE_BYTES  # the topic's, read when the stream starts
        self.resolved: Resolved = {}
        self.ok_head = ok_head(ctx.cluster_id, topic)

    async def reports(self) -> AsyncIterator[bytes]:
        reader = asyncio.ensure_future(self.read())
        lines = self.lines
        try:
            while True:
                try:
                    ready = lines.index(None)
                except ValueError:
                    ready = len(lines)
                if ready:
                    out = b"".join(lines[:ready])  # type: ignore[arg-type]  # no None before `ready`
                    del lines[:ready]
                    self.base += ready
                    yield out
                    continue
                if self.reading_done and not lines:
                    await reader
                    return
                self.progress.clear()
                if lines and lines[0] is not None:
                    continue
                if lines or not self.reading_done:
                    await self.progress.wait()
        finally:
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader

    def _wake(self) -> None:
        if not self.progress.is_set():
            self.progress.set()

    def _ready(self, line: bytes) -> None:
        """A report known before producing (a record refused or not understood)."""
        self.lines.append(line)
        self._wake()

    def _delivered(self, seq: int, tail: bytes, err: KafkaError | None, msg: Message) -> None:
        if threading.get_ident() != self.loop_thread:  # the producer's flush at shutdown
            self.loop.call_soon_threadsafe(self._delivered, seq, tail, err, msg)
            return
        if err is None:
            line = ok_line(self.ok_head, msg.partition(), msg.offset(), msg.timestamp()[1], tail)  # type: ignore[arg-type]
        else:
            line = jsoncodec.dumps(report(self.ctx, kafka_failure(err), None)) + NEWLINE
        self.lines[seq - self.base] = line
        if seq == self.base:  # the writer waits for the first report only
            self.progress.set()

    async def read(self) -> None:
        try:
            self.limit = await self.ctx.proxy.topic_limits.max_message_bytes(self.topic)
            async for chunk in self.request.stream():
                await self.accept_all(self.parser.feed(chunk))
            await self.accept_all(self.parser.finish())
        except ClientDisconnect:
            pass
        finally:
            self.reading_done = True
            self._wake()

    async def accept_all(self, docs: list[Any]) -> None:
        lines = self.lines
        for doc in docs:
            if len(lines) >= self.max_inflight:
                await self._room()
            if type(doc) is not dict or not self.accept_plain(doc):
                await self.accept_general(doc)
        self.producer.busy()  # deliveries to poll for

    def accept_plain(self, doc: dict[str, Any]) -> bool:
        """Produce a record of the common shape, or report it refused; False (nothing done) when
        the record is not of that shape or librdkafka's queue is full: `accept_general` then."""
        plain = plain_record(doc)
        if plain is None:
            return False
        partition, key, value, tail = plain
        if partition >= self.partitions:
            self._ready(self._refused_line(partition))
            return True
        size = BATCH_OVERHEAD + len(key or b"") + len(value or b"")
        if size > self.limit:
            self._ready(self._too_large_line(size, self.limit))
            return True
        lines = self.lines
        seq = self.base + len(lines)
        lines.append(None)
        try:
            self.produce(self.topic, value, key, partition, on_delivery=partial(self._delivered, seq, tail))
        except BufferError:  # librdkafka's queue is full
            lines.pop()
            return False
        except KafkaException as exc:  # refused by librdkafka at once
            lines[-1] = self._kafka_error_line(exc)
            self._wake()
        return True

    async def _room(self) -> None:
        """Back-pressure: stop reading the body while too many records await delivery."""
        while len(self.lines) >= self.max_inflight:
            self._wake()
            await asyncio.sleep(FULL_WAIT_S)

    async def _send(
        self,
        partition: int,
        key: bytes | None,
        value: bytes | None,
        tail: bytes,
        headers: Headers | None = None,
        timestamp_ms: int = 0,
    ) -> None:
        seq = self.base + len(self.lines)
        self.lines.append(None)
        callback = partial(self._delivered, seq, tail)
        try:
            while True:
                if self.producer.offer(self.topic, value, key, partition, callback, timestamp_ms, headers):
                    return
                await asyncio.sleep(FULL_WAIT_S)  # librdkafka's queue is full: wait for room
        except KafkaException as exc:  # refused by librdkafka at once
            self.lines[seq - self.base] = self._kafka_error_line(exc)
            self._wake()

    async def accept_general(self, doc: Any) -> None:
        """Any record the fast path does not take: errors with their JSON pointer, schemas, headers."""
        if isinstance(doc, BadDocument):
            self._ready(self._error_line(errors.invalid_payload(f"The record is {doc.reason}.")))
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
            self._ready(self._error_line(exc))
            return
        if record.partition >= self.partitions:
            self._ready(self._refused_line(record.partition))
            return
        size = record_bytes(record)
        if size > self.limit:
            self._ready(self._too_large_line(size, self.limit))
            return
        tail = report_tail(key_type, record.key, value_type, record.value)
        await self._send(
            record.partition, record.key, record.value, tail, record.headers, record.timestamp_ms
        )

    def _kafka_error_line(self, exc: KafkaException) -> bytes:
        error = exc.args[0] if exc.args else KafkaError(KafkaError._FAIL)
        return jsoncodec.dumps(report(self.ctx, kafka_failure(error), None)) + NEWLINE

    def _error_line(self, error: HttpError) -> bytes:
        return jsoncodec.dumps(report(self.ctx, error, None)) + NEWLINE

    def _refused_line(self, partition: int) -> bytes:
        refused = Refused(40402, f"Partition {partition} of topic {self.topic} not found.")
        return jsoncodec.dumps(report(self.ctx, refused, None)) + NEWLINE

    def _too_large_line(self, size: int, limit: int) -> bytes:
        refused = Refused(
            50002,
            f"Kafka error: MSG_SIZE_TOO_LARGE (10): the record is {size} bytes, more than the topic's "
            f"max.message.bytes ({limit})",
            10,
        )
        return jsoncodec.dumps(report(self.ctx, refused, None)) + NEWLINE
