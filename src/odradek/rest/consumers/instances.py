"""v2 consumer instances (Confluent's model): named consumers living in one proxy instance.

``POST /consumers/{group}`` creates one: a librdkafka consumer in ``group`` with the instance's
embedded format and settings. The instance is addressed by ``/consumers/{group}/instances/{name}``
on this proxy (Confluent's ``base_uri``) and is closed after ``consumer.instance.timeout.ms``
without a request, or by ``DELETE``. At most ``consumer.max.instances`` live at once (together
with v3 leases): each costs a librdkafka consumer, about half a megabyte idle.

Settings accepted at creation (Confluent's names): ``format``, ``auto.offset.reset``
(earliest/latest/none), ``auto.commit.enable``, ``fetch.min.bytes``,
``consumer.request.timeout.ms``, plus odradek's ``isolation.level`` (read_committed by default,
as librdkafka) and ``auto.commit.interval.ms``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from odradek.http import HttpError
from odradek.rest import errors
from odradek.rest.content import V2_FORMATS, Format
from odradek.rest.fields import boolean, integer, obj, string
from odradek.rest.kafka.consumer import ConsumerHandle

if TYPE_CHECKING:
    from odradek.rest.service import RestProxy

REAP_EVERY_S = 1.0
OFFSET_RESETS = {
    "earliest": "earliest",
    "smallest": "earliest",
    "latest": "latest",
    "largest": "latest",
    "none": "error",
}
ISOLATION_LEVELS = ("read_committed", "read_uncommitted")


@dataclass(slots=True)
class ConsumerInstance:
    group: str
    name: str
    format: Format
    handle: ConsumerHandle
    auto_commit: bool
    fetch_min_bytes: int
    request_timeout_s: float | None
    last_used: float = field(default_factory=time.monotonic)
    subscription: list[str] | None = None
    pattern: str | None = None
    manual: bool = False

    def touch(self) -> None:
        self.last_used = time.monotonic()


def invalid_config(message: str) -> HttpError:
    return HttpError(errors.INVALID_CONSUMER_CONFIG, f"Invalid consumer configuration: {message}")


class ConsumerInstances:
    def __init__(self, proxy: RestProxy) -> None:
        self.proxy = proxy
        self.instances: dict[tuple[str, str], ConsumerInstance] = {}
        self.timeout_s = proxy.config.seconds("consumer.instance.timeout.ms")

    def count(self) -> int:
        return len(self.instances)

    async def create(self, group: str, body: Any) -> ConsumerInstance:
        spec = obj(body if body is not None else {}, "")
        name = spec.get("name") or spec.get("id") or f"rest-consumer-{uuid.uuid4()}"
        name = string(name, "/name")
        if not name or "/" in name:
            raise invalid_config("name must be a non-empty string without '/'")
        if (group, name) in self.instances:
            raise HttpError(
                errors.CONSUMER_ALREADY_EXISTS,
                f"Consumer with specified consumer ID already exists in the specified consumer group: {name}",
            )
        fmt_name = str(spec.get("format") or "binary").lower()
        try:
            fmt = Format(fmt_name)
        except ValueError:
            raise invalid_config(
                f"format {fmt_name!r} is not one of binary, json, avro, jsonschema, protobuf"
            ) from None
        if fmt not in V2_FORMATS:
            raise invalid_config(f"format {fmt_name!r} is not a v2 format")
        if fmt.schema_backed:
            self.proxy.schemas.require()
        reset = str(spec.get("auto.offset.reset") or "latest").lower()
        if reset not in OFFSET_RESETS:
            raise invalid_config(f"auto.offset.reset {reset!r} is not one of earliest, latest, none")
        try:
            auto_commit = boolean(spec.get("auto.commit.enable", True), "/auto.commit.enable")
            min_bytes = integer(spec.get("fetch.min.bytes", -1) or -1, "/fetch.min.bytes", minimum=-1)
            timeout = spec.get("consumer.request.timeout.ms")
            timeout_ms = None if timeout is None else integer(timeout, "/consumer.request.timeout.ms", 0)
            interval = integer(spec.get("auto.commit.interval.ms", 5000), "/auto.commit.interval.ms", 1)
        except HttpError as exc:
            raise invalid_config(exc.message) from None
        isolation = str(spec.get("isolation.level") or "read_committed").lower()
        if isolation not in ISOLATION_LEVELS:
            raise invalid_config(f"isolation.level {isolation!r} is not read_committed or read_uncommitted")
        self.proxy.leases.check_capacity()
        config = self.proxy.consumer_config(
            group,
            **{
                "auto.offset.reset": OFFSET_RESETS[reset],
                "enable.auto.commit": auto_commit,
                "auto.commit.interval.ms": interval,
                "isolation.level": isolation,
                "client.id": f"odradek-rest-{name}",
            },
        )
        handle = await asyncio.to_thread(ConsumerHandle, config, self.proxy.calls)
        instance = ConsumerInstance(
            group,
            name,
            fmt,
            handle,
            auto_commit,
            max(min_bytes, 1),
            None if timeout_ms is None else timeout_ms / 1000.0,
        )
        self.instances[(group, name)] = instance
        return instance

    def get(self, group: str, name: str) -> ConsumerInstance:
        instance = self.instances.get((group, name))
        if instance is None:
            raise errors.consumer_not_found(group, name)
        instance.touch()
        return instance

    async def delete(self, group: str, name: str) -> None:
        instance = self.instances.pop((group, name), None)
        if instance is None:
            raise errors.consumer_not_found(group, name)
        async with instance.handle.lock:
            await instance.handle.close()

    async def reap_forever(self) -> None:
        while True:
            await asyncio.sleep(REAP_EVERY_S)
            await self.reap(time.monotonic())

    async def reap(self, now: float) -> None:
        expired = [key for key, inst in self.instances.items() if now - inst.last_used > self.timeout_s]
        for key in expired:
            instance = self.instances.get(key)
            if instance is None or instance.handle.lock.locked():
                continue
            del self.instances[key]
            await instance.handle.close()

    async def close_all(self) -> None:
        instances = list(self.instances.values())
        self.instances.clear()
        await asyncio.gather(*(inst.handle.close() for inst in instances), return_exceptions=True)
