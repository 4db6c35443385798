"""KIP-890 verification against a transaction coordinator on another broker (Kafka's
AddPartitionsToTxnManager).

Before appending the first transactional batch of a transaction on a partition, its leader asks the
transaction's coordinator whether the partition is in the transaction. When the coordinator is this
broker the answer is read locally; when it is another broker, the leader sends it AddPartitionsToTxn
v4 with `verify_only` (one request per produce request, on one connection per coordinator broker,
one request in flight at a time). A connection failure answers COORDINATOR_NOT_AVAILABLE for every
partition, which the produce path turns into the retriable NOT_ENOUGH_REPLICAS: the client sends
again and the leader asks again (of whichever broker coordinates by then).

Part 2 (transaction version 2 producers, Produce v12+, which never send AddPartitionsToTxn): the
leader adds the partitions to the transaction itself, with AddPartitionsToTxn v5 without
`verify_only` (`add=True`), and appends once the coordinator has them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from odradek.broker.broker_client import BrokerConnection, BrokerConnectionError
from odradek.broker.txn_marker_channel import ConnectionFactory
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import add_partitions_to_txn as msg

log = logging.getLogger("odradek.broker.transactions")
VERIFY_VERSION = 4
ADD_VERSION = 5
"""v5: the partitions are added on behalf of a transaction version 2 producer (KIP-890 part 2)."""


def verification_request(
    transactional_id: str,
    producer_id: int,
    producer_epoch: int,
    partitions: Iterable[TopicPartition],
    *,
    verify_only: bool = True,
) -> msg.AddPartitionsToTxnRequest:
    topics: dict[str, list[int]] = {}
    for tp in sorted(partitions):
        topics.setdefault(tp.topic, []).append(tp.partition)
    return msg.AddPartitionsToTxnRequest(
        transactions=[
            msg.AddPartitionsToTxnTransaction(
                transactional_id=transactional_id,
                producer_id=producer_id,
                producer_epoch=producer_epoch,
                verify_only=verify_only,
                topics=[msg.AddPartitionsToTxnTopic(name, parts) for name, parts in topics.items()],
            )
        ]
    )


def verification_errors(
    response: msg.AddPartitionsToTxnResponse, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, ErrorCode]:
    """Each partition's answer; a partition the answer does not name is retriable."""
    wanted = list(partitions)
    if response.error_code:
        return dict.fromkeys(wanted, ErrorCode(response.error_code))
    errors = dict.fromkeys(wanted, ErrorCode.COORDINATOR_NOT_AVAILABLE)
    for transaction in response.results_by_transaction:
        for topic in transaction.topic_results:
            for p in topic.results_by_partition:
                tp = TopicPartition(topic.name, p.partition_index)
                if tp in errors:
                    errors[tp] = ErrorCode(p.partition_error_code)
    return errors


class RemoteVerifier:
    """One connection per coordinator broker, replaced when its endpoint changes."""

    def __init__(self, node_id: int, timeout_s: float, connect: ConnectionFactory = BrokerConnection) -> None:
        self.client_id = f"broker-{node_id}-txn-verification"
        self.timeout_s = timeout_s
        self._connect = connect
        self._connections: dict[int, tuple[tuple[str, int], BrokerConnection, asyncio.Lock]] = {}

    async def verify(
        self,
        broker_id: int,
        endpoint: tuple[str, int],
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        partitions: list[TopicPartition],
        *,
        add: bool = False,
    ) -> dict[TopicPartition, ErrorCode]:
        """Are `partitions` in the transaction (`add`: add them to it, then the same answer)?"""
        found = self._connections.get(broker_id)
        if found is not None and found[0] != endpoint:
            del self._connections[broker_id]
            await found[1].close()
            found = None
        if found is None:
            connection = self._connect(*endpoint, self.client_id, self.timeout_s)
            found = self._connections[broker_id] = (endpoint, connection, asyncio.Lock())
        _, connection, lock = found
        request = verification_request(
            transactional_id, producer_id, producer_epoch, partitions, verify_only=not add
        )
        version = ADD_VERSION if add else VERIFY_VERSION
        try:
            async with lock:
                response = await connection.call(ApiKey.ADD_PARTITIONS_TO_TXN, version, request)
        except BrokerConnectionError as exc:
            log.warning("verifying %s with broker %d failed: %s", transactional_id, broker_id, exc)
            return dict.fromkeys(partitions, ErrorCode.COORDINATOR_NOT_AVAILABLE)
        return verification_errors(response, partitions)

    async def stop(self) -> None:
        connections, self._connections = self._connections, {}
        for _, connection, _ in connections.values():
            await connection.close()
