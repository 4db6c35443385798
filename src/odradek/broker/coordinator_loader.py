"""What both coordinator shells do with their internal topic before serving (Kafka's `CoordinatorLoader`).

create   `__consumer_offsets` / `__transaction_state` is created on first use, with Kafka's
         internal-topic settings (`internal_topic`); TOPIC_ALREADY_EXISTS counts as created (a
         concurrent creation won the race).
batches  a partition's record batches from the log start offset up to an end offset (the log
         end or the high watermark), in offset order, read whole in 1 MiB chunks, for the shard's
         replay. Batches straddling the log start are returned whole: the caller skips their
         records below `log_start_offset`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from odradek.metadata.controller.internal_topics import internal_topic
from odradek.metadata.image import TopicImage
from odradek.model.errors import ErrorCode
from odradek.protocol.records import BatchHeader, iter_headers
from odradek.storage.partition_log import PartitionLog

if TYPE_CHECKING:
    from odradek.broker.app import Broker

log = logging.getLogger("odradek.broker.coordinators")
READ_CHUNK_BYTES = 1 << 20
_CREATED = frozenset({ErrorCode.NO_ERROR, ErrorCode.TOPIC_ALREADY_EXISTS})


async def create_coordinator_topic(broker: Broker, name: str) -> TopicImage | None:
    """Create internal topic `name`; its image, or None (logged) when it could not be created."""
    creatable = internal_topic(broker.image, broker.config.static, name)
    assert creatable is not None
    (result,) = await broker.create_topics([creatable])
    topic = broker.image.topic(name)
    if result.error_code not in _CREATED or topic is None:
        log.warning("creating %s failed: %s", name, result.error_message)
        return None
    log.info("created %s with %d partitions", name, len(topic.partitions))
    return topic


def batches(log_: PartitionLog, end: int) -> Iterator[tuple[bytes, int, BatchHeader]]:
    """`(chunk, position, header)` of every batch from the log start offset below `end`."""
    offset = log_.log_start_offset
    while offset < end:
        read = log_.read(offset, READ_CHUNK_BYTES, end)
        if not read.chunks:
            return
        for chunk in read.chunks:
            for pos, header in iter_headers(chunk):
                offset = header.next_offset
                yield chunk, pos, header
