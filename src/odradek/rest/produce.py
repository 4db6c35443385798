"""Producing records for v2 and v3 alike: topic checks, per-record size check, delivery.

A request's records are checked against the topic before anything is sent: the partition must
exist (else that record fails with 40402) and the record must fit the topic's
``max.message.bytes`` (else it fails with Kafka's MESSAGE_TOO_LARGE, code 10). Records that pass go
to the shared producer; each gets its own delivery report, so one bad record never fails the
others of the request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from confluent_kafka import KafkaError
from confluent_kafka.admin import ConfigResource, ResourceType

from odradek.rest.kafka.producer import Delivery, DeliveryBatch, OutRecord, ProducerService

if TYPE_CHECKING:
    from odradek.rest.service import RestProxy

BATCH_OVERHEAD = 61 + 21  # record batch header + one record's varints at most
HEADER_OVERHEAD = 10
DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
LIMIT_TTL_S = 30.0


@dataclass(frozen=True, slots=True)
class Refused:
    """A record the proxy refused before producing it (its report's error)."""

    error_code: int
    message: str
    kafka_code: int | None = None


def record_bytes(record: OutRecord) -> int:
    size = BATCH_OVERHEAD + len(record.key or b"") + len(record.value or b"")
    for name, value in record.headers or ():
        size += HEADER_OVERHEAD + len(name) + len(value or b"")
    return size


class TopicLimits:
    """``max.message.bytes`` per topic, from DescribeConfigs, cached for ``LIMIT_TTL_S``."""

    def __init__(self, proxy: RestProxy) -> None:
        self.proxy = proxy
        self.cache: dict[str, tuple[float, int]] = {}

    async def max_message_bytes(self, topic: str) -> int:
        now = time.monotonic()
        hit = self.cache.get(topic)
        if hit is not None and now - hit[0] < LIMIT_TTL_S:
            return hit[1]
        try:
            configs = await self.proxy.admin.describe_configs(ConfigResource(ResourceType.TOPIC, topic))
            entry = configs.get("max.message.bytes")
            limit = int(entry.value) if entry is not None and entry.value else DEFAULT_MAX_MESSAGE_BYTES
        except Exception:  # the broker decides anyway; the check only spares the other records
            limit = DEFAULT_MAX_MESSAGE_BYTES
        self.cache[topic] = (now, limit)
        return limit


async def produce(
    proxy: RestProxy,
    records: list[OutRecord | Refused],
    partitions: int,
    producer: ProducerService | None = None,
) -> list[Delivery | Refused]:
    """Deliver ``records`` (refused entries pass through) and return one report per entry.

    ``producer`` is the shared producer unless an idempotent request brings its transactional one.
    """
    producer = producer or proxy.producer
    batch: DeliveryBatch = producer.batch()
    order: list[int | Refused] = []
    limit: int | None = None
    for record in records:
        if isinstance(record, Refused):
            order.append(record)
            continue
        if record.partition >= partitions or record.partition < -1:
            order.append(Refused(40402, f"Partition {record.partition} of topic {record.topic} not found."))
            continue
        if limit is None:
            limit = await proxy.topic_limits.max_message_bytes(record.topic)
        size = record_bytes(record)
        if size > limit:
            order.append(
                Refused(
                    50002,
                    f"Kafka error: MSG_SIZE_TOO_LARGE (10): the record is {size} bytes, more than the "
                    f"topic's max.message.bytes ({limit})",
                    KafkaError.MSG_SIZE_TOO_LARGE,
                )
            )
            continue
        order.append(len(batch.reports))
        if not producer.try_send(batch, record):  # librdkafka's queue is full: wait for room
            await producer.send_one(batch, record)  # takes the same index again
    reports = await batch.wait_all() if batch.reports else []
    return [entry if isinstance(entry, Refused) else reports[entry] for entry in order]


def kafka_failure(error: KafkaError) -> Refused:
    code = 50003 if error.retriable() else 50002
    return Refused(code, f"Kafka error: {error.name()} ({error.code()}): {error.str()}", error.code())


def first_failure(reports: list[Delivery | Refused]) -> KafkaError | None:
    for report in reports:
        if isinstance(report, Delivery) and report.error is not None:
            return report.error
    return None


def aborted(reports: list[Delivery | Refused], error: KafkaError) -> list[Delivery | Refused]:
    """Every record of an aborted idempotent request fails (none was written)."""
    failure = kafka_failure(error)
    message = failure.message + " (the idempotent request was aborted: none of its records was written)"
    return [
        r if isinstance(r, Refused) else Refused(failure.error_code, message, failure.kafka_code)
        for r in reports
    ]
