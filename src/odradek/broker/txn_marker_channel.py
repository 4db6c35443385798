"""Transaction markers for partitions led by other brokers (Kafka's TransactionMarkerChannelManager).

When a transaction ends, its coordinator writes a COMMIT/ABORT marker on every partition of it. A
partition this broker leads gets its marker here, locally; one led by another broker gets it through
WriteTxnMarkers (API 27) sent to that leader, which appends the marker as leader and answers once
it is committed (as an acks=all produce).

There is one `MarkerChannel` per destination broker: one connection, one request in flight, and the
markers of every transaction that queued meanwhile travel together in the next request (Kafka's
batching per broker). Each caller gets the error of each of its partitions; a connection failure
answers NETWORK_EXCEPTION for all of them. Retrying is the transaction coordinator's business
(`TransactionCoordinatorService._complete_transaction`): partitions not written are sent again
after a backoff, to whichever broker leads them then, and the transaction completes only when every
marker is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from odradek.broker.broker_client import BrokerConnection, BrokerConnectionError
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import write_txn_markers as msg

log = logging.getLogger("odradek.broker.transactions")

WRITE_TXN_MARKERS_VERSION = 1
ConnectionFactory = Callable[[str, int, str, float], BrokerConnection]
"""`(host, port, client_id, timeout_s)` -> a connection to another broker."""


@dataclass(frozen=True, slots=True)
class Markers:
    """One transaction's markers for the partitions one broker leads."""

    producer_id: int
    producer_epoch: int
    committed: bool
    coordinator_epoch: int
    partitions: frozenset[TopicPartition]

    def request_entry(self) -> msg.WritableTxnMarker:
        topics: dict[str, list[int]] = {}
        for tp in sorted(self.partitions):
            topics.setdefault(tp.topic, []).append(tp.partition)
        return msg.WritableTxnMarker(
            producer_id=self.producer_id,
            producer_epoch=self.producer_epoch,
            transaction_result=self.committed,
            topics=[msg.WritableTxnMarkerTopic(name, indexes) for name, indexes in topics.items()],
            coordinator_epoch=self.coordinator_epoch,
        )


def partition_errors(
    markers: Markers, result: msg.WritableTxnMarkerResult | None
) -> dict[TopicPartition, ErrorCode]:
    """Each partition's error in a response entry (None: no answer); a partition it does not name
    failed."""
    if result is None:
        return dict.fromkeys(markers.partitions, ErrorCode.NETWORK_EXCEPTION)
    errors = dict.fromkeys(markers.partitions, ErrorCode.UNKNOWN_SERVER_ERROR)
    if result.producer_id != markers.producer_id:
        return errors
    for topic in result.topics:
        for p in topic.partitions:
            tp = TopicPartition(topic.name, p.partition_index)
            if tp in errors:
                errors[tp] = ErrorCode(p.error_code)
    return errors


class MarkerChannel:
    """Markers for one destination broker: queued, sent together, one request in flight."""

    def __init__(self, endpoint: tuple[str, int], connection: BrokerConnection) -> None:
        self.endpoint = endpoint
        self._connection = connection
        self._queue: list[tuple[Markers, asyncio.Future[dict[TopicPartition, ErrorCode]]]] = []
        self._task: asyncio.Task[None] | None = None

    async def send(self, markers: Markers) -> dict[TopicPartition, ErrorCode]:
        future: asyncio.Future[dict[TopicPartition, ErrorCode]] = asyncio.get_running_loop().create_future()
        self._queue.append((markers, future))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="txn-markers")
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            # an entry left None (no answer: the connection failed, or this task was cancelled)
            # answers NETWORK_EXCEPTION for its partitions
            results: list[msg.WritableTxnMarkerResult | None] = [None] * len(batch)
            request = msg.WriteTxnMarkersRequest([markers.request_entry() for markers, _ in batch])
            try:
                response = await self._connection.call(
                    ApiKey.WRITE_TXN_MARKERS, WRITE_TXN_MARKERS_VERSION, request
                )
                results[: len(response.markers)] = response.markers[: len(batch)]
            except BrokerConnectionError as exc:
                log.warning("sending transaction markers to %s:%d failed: %s", *self.endpoint, exc)
            finally:
                for (markers, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(partition_errors(markers, result))

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
        for markers, future in self._queue:
            if not future.done():
                future.set_result(dict.fromkeys(markers.partitions, ErrorCode.NETWORK_EXCEPTION))
        self._queue = []
        await self._connection.close()


class MarkerChannelManager:
    """One `MarkerChannel` per destination broker, replaced when the broker's endpoint changes."""

    def __init__(self, node_id: int, timeout_s: float, connect: ConnectionFactory = BrokerConnection) -> None:
        self.client_id = f"broker-{node_id}-txn-markers"
        self.timeout_s = timeout_s
        self._connect = connect
        self._channels: dict[int, MarkerChannel] = {}

    async def send(
        self, broker_id: int, endpoint: tuple[str, int], markers: Markers
    ) -> Mapping[TopicPartition, ErrorCode]:
        channel = self._channels.get(broker_id)
        if channel is not None and channel.endpoint != endpoint:
            del self._channels[broker_id]
            await channel.close()
            channel = None
        if channel is None:
            connection = self._connect(*endpoint, self.client_id, self.timeout_s)
            channel = self._channels[broker_id] = MarkerChannel(endpoint, connection)
        return await channel.send(markers)

    async def stop(self) -> None:
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            await channel.close()
