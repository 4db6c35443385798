"""v2 consumer instances: create, subscribe or assign, seek, fetch records, commit, delete.

All under ``/consumers/{group}/instances/{name}``; see `odradek.rest.consumers.instances` for the
settings and lifetime. Records answer in the instance's format (the Accept header, when it names a
format, must match it: 40601 otherwise); ``max_bytes`` is capped by ``consumer.request.max.bytes``.
"""

from __future__ import annotations

import re
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, KafkaException, TopicPartition
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.http import HttpError
from odradek.rest import content, errors
from odradek.rest.consumers.instances import ConsumerInstance
from odradek.rest.consumers.leases import subscription
from odradek.rest.content import v2_media
from odradek.rest.fields import array, integer, obj, pointer, string
from odradek.rest.records import v2_record
from odradek.rest.responses import base_url, no_content, v2_json
from odradek.rest.serde import PLAIN, SerdeError
from odradek.rest.v2.metadata import proxy_of


def instance_of(request: Request) -> ConsumerInstance:
    p = request.path_params
    return proxy_of(request).instances.get(p["group"], p["instance"])


async def create_instance(request: Request) -> Response:
    content.require_v2_plain(request)
    group = request.path_params["group"]
    body = await content.read_json(request, allow_empty=True)
    instance = await proxy_of(request).instances.create(group, body)
    return v2_json(
        {
            "instance_id": instance.name,
            "base_uri": f"{base_url(request)}/consumers/{group}/instances/{instance.name}",
        }
    )


async def delete_instance(request: Request) -> Response:
    p = request.path_params
    await proxy_of(request).instances.delete(p["group"], p["instance"])
    return no_content()


async def subscribe(request: Request) -> Response:
    content.require_v2_plain(request)
    instance = instance_of(request)
    body = obj(await content.read_json(request), "")
    topics = body.get("topics")
    pattern = body.get("topic_pattern")
    if (topics is None) == (pattern is None):
        raise errors.invalid_payload('Give exactly one of "topics" and "topic_pattern".', "")
    if topics is not None:
        names = [string(t, pointer("topics", i)) for i, t in enumerate(array(topics, "/topics"))]
        if not names:
            raise errors.invalid_payload("At least one topic is needed.", "/topics")
        pattern_text = None
    else:
        pattern_text = string(pattern, "/topic_pattern")
        try:
            re.compile(pattern_text)
        except re.error as exc:
            raise errors.invalid_payload(f"Invalid topic_pattern: {exc}", "/topic_pattern") from None
        names = None
    async with instance.handle.lock:
        if instance.manual:
            raise HttpError(
                errors.ILLEGAL_STATE,
                "Illegal state: Subscription to topics and manual assignment are exclusive.",
            )
        instance.handle.subscribe(subscription(names, pattern_text))
        instance.subscription, instance.pattern = names, pattern_text
    return no_content()


async def get_subscription(request: Request) -> Response:
    instance = instance_of(request)
    return v2_json({"topics": list(instance.subscription or [])})


async def unsubscribe(request: Request) -> Response:
    instance = instance_of(request)
    async with instance.handle.lock:
        await instance.handle.calls.run(instance.handle.consumer.unsubscribe)
        instance.handle.drop_pending()
        instance.handle.assigned.clear()
        instance.subscription = instance.pattern = None
    return no_content()


def partitions_of(body: Any, key: str) -> list[TopicPartition]:
    out = []
    for i, item in enumerate(array(obj(body, "").get(key), "/" + key)):
        at = pointer(key, i)
        entry = obj(item, at)
        topic = string(entry.get("topic"), at + "/topic")
        partition = integer(entry.get("partition"), at + "/partition", 0)
        offset = entry.get("offset")
        tp = TopicPartition(topic, partition)
        if offset is not None:
            tp.offset = integer(offset, at + "/offset", 0)
        elif key == "offsets":
            raise errors.invalid_payload("An offset is needed.", at + "/offset")
        out.append(tp)
    return out


async def assign(request: Request) -> Response:
    content.require_v2_plain(request)
    instance = instance_of(request)
    partitions = partitions_of(await content.read_json(request), "partitions")
    async with instance.handle.lock:
        if instance.subscription is not None or instance.pattern is not None:
            raise HttpError(
                errors.ILLEGAL_STATE,
                "Illegal state: Subscription to topics and manual assignment are exclusive.",
            )
        await instance.handle.calls.run(instance.handle.assign, partitions)
        instance.manual = bool(partitions)
    return no_content()


async def get_assignments(request: Request) -> Response:
    instance = instance_of(request)
    parts = [{"topic": t, "partition": p} for t, p in sorted(instance.handle.assigned)]
    return v2_json({"partitions": parts})


async def seek(request: Request) -> Response:
    content.require_v2_plain(request)
    instance = instance_of(request)
    await _seek(instance, partitions_of(await content.read_json(request), "offsets"))
    return no_content()


async def seek_beginning(request: Request) -> Response:
    return await _seek_to(request, OFFSET_BEGINNING)


async def seek_end(request: Request) -> Response:
    return await _seek_to(request, OFFSET_END)


async def _seek_to(request: Request, where: int) -> Response:
    content.require_v2_plain(request)
    instance = instance_of(request)
    partitions = partitions_of(await content.read_json(request), "partitions")
    consumer = instance.handle.consumer
    for tp in partitions:
        # resolved now, not when librdkafka gets round to it: "the end" is the end as of this
        # request, so a record produced right after the answer is read
        try:
            low, high = await instance.handle.calls.run(
                consumer.get_watermark_offsets, TopicPartition(tp.topic, tp.partition), 10.0
            )
        except KafkaException as exc:
            raise errors.kafka_error(exc) from None
        tp.offset = low if where == OFFSET_BEGINNING else high
    await _seek(instance, partitions)
    return no_content()


async def _seek(instance: ConsumerInstance, partitions: list[TopicPartition]) -> None:
    async with instance.handle.lock:
        for tp in partitions:
            if (tp.topic, tp.partition) not in instance.handle.assigned:
                raise HttpError(
                    errors.ILLEGAL_STATE,
                    f"Illegal state: No current assignment for partition {tp.topic}-{tp.partition}",
                )
        try:
            for tp in partitions:
                await instance.handle.seek(tp)
        except KafkaException as exc:
            raise errors.kafka_error(exc) from None


async def records(request: Request) -> Response:
    proxy = proxy_of(request)
    instance = instance_of(request)
    wanted = content.v2_accept_format(request)
    if wanted is not None and wanted != instance.format:
        raise HttpError(
            errors.CONSUMER_FORMAT_MISMATCH,
            f"The requested embedded data format ({wanted.value}) does not match the consumer's "
            f"format ({instance.format.value}).",
        )
    query = request.query_params
    limit = proxy.config.integer("consumer.request.max.bytes")
    max_bytes = min(limit, _query_int(query.get("max_bytes"), "max_bytes", limit))
    default_timeout = instance.request_timeout_s or proxy.config.seconds("consumer.request.timeout.ms")
    timeout_s = _query_int(query.get("timeout"), "timeout", int(default_timeout * 1000)) / 1000.0
    timeout_s = min(timeout_s, proxy.config.seconds("request.timeout.ms") * 0.8)
    key_serde = value_serde = PLAIN.get(instance.format) or proxy.schemas.deserializer(instance.format)
    async with instance.handle.lock:
        try:
            fetched = await instance.handle.fetch(max_bytes, timeout_s, instance.fetch_min_bytes)
        except KafkaException as exc:
            raise errors.kafka_error(exc) from None
        try:
            body = [v2_record(msg, key_serde, value_serde) for msg in fetched]
        except SerdeError as exc:
            instance.handle.unreturn(fetched)
            raise HttpError(errors.KAFKA_ERROR, f"Error deserializing a record: {exc}") from None
    return v2_json(body, media_type=v2_media(instance.format))


def _query_int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(f"Query parameter {name} must be an integer, got {raw!r}.") from None
    if value < 0:
        raise errors.bad_request(f"Query parameter {name} must not be negative, got {value}.")
    return value


async def commit(request: Request) -> Response:
    instance = instance_of(request)
    body = await content.read_json(request, allow_empty=True)
    offsets = None
    if body is not None and obj(body, "").get("offsets") is not None:
        offsets = partitions_of(body, "offsets")
        for tp in offsets:
            tp.offset += 1  # Confluent's v2: the body names the last consumed offset
    async with instance.handle.lock:
        try:
            await instance.handle.commit(offsets)
        except KafkaException as exc:
            raise errors.kafka_error(exc) from None
    return no_content()


async def committed(request: Request) -> Response:
    instance = instance_of(request)
    body = await content.read_json(request, allow_empty=True)
    if body is None:
        partitions = [TopicPartition(t, p) for t, p in sorted(instance.handle.assigned)]
    else:
        partitions = partitions_of(body, "partitions")
    async with instance.handle.lock:
        try:
            result = await instance.handle.committed(partitions) if partitions else []
        except KafkaException as exc:
            raise errors.kafka_error(exc) from None
    return v2_json(
        {
            "offsets": [
                {
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "offset": tp.offset,
                    "metadata": tp.metadata or "",
                }
                for tp in result
            ]
        }
    )


BASE = "/consumers/{group}/instances/{instance}"
ROUTES = [
    Route("/consumers/{group}", create_instance, methods=["POST"]),
    Route(BASE, delete_instance, methods=["DELETE"]),
    Route(BASE + "/subscription", subscribe, methods=["POST"]),
    Route(BASE + "/subscription", get_subscription, methods=["GET"]),
    Route(BASE + "/subscription", unsubscribe, methods=["DELETE"]),
    Route(BASE + "/assignments", assign, methods=["POST"]),
    Route(BASE + "/assignments", get_assignments, methods=["GET"]),
    Route(BASE + "/positions", seek, methods=["POST"]),
    Route(BASE + "/positions/beginning", seek_beginning, methods=["POST"]),
    Route(BASE + "/positions/end", seek_end, methods=["POST"]),
    Route(BASE + "/records", records, methods=["GET"]),
    Route(BASE + "/offsets", commit, methods=["POST"]),
    Route(BASE + "/offsets", committed, methods=["GET"]),
]
