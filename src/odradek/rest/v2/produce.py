"""v2 produce: ``POST /topics/{topic}`` and ``POST /topics/{topic}/partitions/{partition}``.

Body: ``{"records": [{"key", "value", "partition", "headers", "timestamp"}], "key_schema",
"key_schema_id", "value_schema", "value_schema_id"}`` in the embedded format the Content-Type
names. Answer: ``{"offsets": [{"partition", "offset", "error_code", "error"}], "key_schema_id",
"value_schema_id"}``, one entry per record in request order; a record that failed has
``partition``/``offset`` null and its own ``error_code`` (40402 unknown partition, 50002/50003
Kafka errors with the Kafka error in ``error``). ``headers`` and ``timestamp`` are odradek's
additions (Karapace's header shape); an ``Idempotency-Key`` header makes a retry write once
(see `odradek.rest.idempotency`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.http import HttpError
from odradek.rest import content, errors, jsoncodec
from odradek.rest.content import Format
from odradek.rest.fields import array, integer, obj, pointer, string
from odradek.rest.idempotency import Aborted, Answer, check_key, replayed_header, request_digest
from odradek.rest.kafka.producer import Delivery, OutRecord, ProducerService
from odradek.rest.produce import Refused, aborted, first_failure, kafka_failure, produce
from odradek.rest.records import parse_headers, parse_timestamp
from odradek.rest.schemas import SchemaRef
from odradek.rest.serde import BINARY, PLAIN, Serde
from odradek.rest.v2.metadata import partition_or_404, proxy_of, topic_or_404


async def produce_to_topic(request: Request) -> Response:
    return await _produce(request, None)


async def produce_to_partition(request: Request) -> Response:
    return await _produce(request, request.path_params["partition"])


async def _produce(request: Request, partition: int | None) -> Response:
    proxy = proxy_of(request)
    fmt = content.v2_produce_format(request)
    body = obj(await content.read_json(request), "")
    items = array(body.get("records"), "/records")
    topic = await topic_or_404(proxy, request.path_params["topic"])
    if partition is not None:
        partition_or_404(topic, partition)
    key_serde, value_serde, key_schema_id, value_schema_id = await serdes(proxy, fmt, body, topic.name, items)
    records: list[OutRecord | Refused] = [
        record_of(topic.name, partition, key_serde, value_serde, item, i) for i, item in enumerate(items)
    ]

    def answer_body(reports: list[Delivery | Refused]) -> bytes:
        return offsets_body(reports, key_schema_id, value_schema_id)

    key = request.headers.get("idempotency-key")
    if key is None:
        return Response(
            answer_body(await produce(proxy, records, len(topic.partitions))), media_type=content.V2
        )

    async def transactional(service: ProducerService) -> Answer:
        reports = await produce(proxy, records, len(topic.partitions), service)
        failure = first_failure(reports)
        if failure is not None:
            raise Aborted(Answer(200, answer_body(aborted(reports, failure)), content.V2))
        return Answer(200, answer_body(reports), content.V2)

    digest = request_digest(request.url.path, await request.body())
    try:
        answer, replayed = await proxy.idempotency.run(check_key(key), digest, transactional)
    except Aborted as exc:
        answer, replayed = exc.answer, False
    return Response(answer.body, answer.status, replayed_header(replayed), answer.media_type)


PLAIN_FIELDS = frozenset({"key", "value", "partition"})
INT32_MAX = 2**31 - 1


def record_of(
    topic: str, partition: int | None, key_serde: Serde, value_serde: Serde, item: Any, i: int
) -> OutRecord:
    """The record of ``records[i]``; a record of the common shape (key, value, partition) is taken
    with a few type tests, anything else (or anything wrong) by `checked_record`."""
    if type(item) is dict and PLAIN_FIELDS.issuperset(item):
        target = partition
        if target is None:
            raw = item.get("partition")
            target = -1 if raw is None else raw if type(raw) is int and 0 <= raw <= INT32_MAX else None
        if target is not None:
            try:
                key = key_serde.serialize(item.get("key"), "")
                value = value_serde.serialize(item.get("value"), "")
            except HttpError:
                pass  # again with the field's pointer
            else:
                return OutRecord(topic, target, key, value)
    return checked_record(topic, partition, key_serde, value_serde, item, i)


def checked_record(
    topic: str, partition: int | None, key_serde: Serde, value_serde: Serde, item: Any, i: int
) -> OutRecord:
    at = pointer("records", i)
    record = obj(item, at)
    target = partition
    if target is None:
        raw = record.get("partition")
        target = -1 if raw is None else integer(raw, at + "/partition", 0, INT32_MAX)
    return OutRecord(
        topic,
        target,
        key_serde.serialize(record.get("key"), at + "/key"),
        value_serde.serialize(record.get("value"), at + "/value"),
        parse_headers(record.get("headers"), at + "/headers"),
        parse_timestamp(record.get("timestamp"), at + "/timestamp"),
    )


async def serdes(
    proxy: Any, fmt: Format, body: Any, topic: str, items: list[Any]
) -> tuple[Serde, Serde, int | None, int | None]:
    """The key and value serdes of a v2 produce request, and the schema ids it answers."""
    if not fmt.schema_backed:
        serde = PLAIN[fmt]
        return serde, serde, None, None
    proxy.schemas.require()
    out: list[Serde] = []
    ids: list[int | None] = []
    for side, missing in (("key", errors.KEY_SCHEMA_MISSING), ("value", errors.VALUE_SCHEMA_MISSING)):
        text, schema_id = body.get(f"{side}_schema"), body.get(f"{side}_schema_id")
        if text is None and schema_id is None:
            if any(isinstance(r, dict) and r.get(side) is not None for r in items):
                raise HttpError(missing, f"Request includes {side}s but does not include {side} schema")
            out.append(BINARY)  # only nulls to write
            ids.append(None)
            continue
        ref = SchemaRef(
            text=None if text is None else string(text, f"/{side}_schema"),
            schema_id=None if schema_id is None else integer(schema_id, f"/{side}_schema_id", 1),
        )
        serde = await proxy.schemas.serde(fmt, ref, topic, side == "key")
        out.append(serde)
        ids.append(serde.schema_id)
    return out[0], out[1], ids[0], ids[1]


def offsets_body(
    reports: list[Delivery | Refused], key_schema_id: int | None, value_schema_id: int | None
) -> bytes:
    """The answer's JSON: ``{"offsets": [...], "key_schema_id", "value_schema_id"}``, a delivered
    record's entry written straight as bytes (what `offset_entry` and `jsoncodec.dumps` give)."""
    entries = [
        OFFSET_OK % (r.partition, r.offset)
        if type(r) is Delivery and r.error is None
        else jsoncodec.dumps(offset_entry(r))
        for r in reports
    ]
    return b"".join(
        (
            b'{"offsets":[',
            b",".join(entries),
            b'],"key_schema_id":',
            jsoncodec.dumps(key_schema_id),
            b',"value_schema_id":',
            jsoncodec.dumps(value_schema_id),
            b"}",
        )
    )


OFFSET_OK = b'{"partition":%d,"offset":%d,"error_code":null,"error":null}'


def offset_entry(report: Delivery | Refused) -> dict[str, Any]:
    if isinstance(report, Delivery) and report.error is not None:
        report = kafka_failure(report.error)
    if isinstance(report, Refused):
        return {"partition": None, "offset": None, "error_code": report.error_code, "error": report.message}
    return {"partition": report.partition, "offset": report.offset, "error_code": None, "error": None}


ROUTES = [
    Route("/topics/{topic}", produce_to_topic, methods=["POST"]),
    Route("/topics/{topic}/partitions/{partition:int}", produce_to_partition, methods=["POST"]),
]
