"""A transaction whose coordinator and data partition are on different brokers, over raw requests
(two real brokers in this process): the data partition's leader verifies the first transactional
batch with the coordinator on the other broker (KIP-890 part 1, AddPartitionsToTxn v4 verify_only),
the coordinator accepts partitions it does not host, and its COMMIT marker reaches the other
broker (WriteTxnMarkers): the last stable offset passes the transaction there. A transaction
version 2 producer's Produce v12 (KIP-890 part 2, no AddPartitionsToTxn of its own) has the leader
add the partition on the coordinator's broker (AddPartitionsToTxn v5). The leader's verification
state (Kafka's VerificationStateEntry) lasts until the transaction starts there or its marker is
appended: a batch above a sequence that failed verification must wait for it, and a real
transactional producer (confluent-kafka) runs transaction after transaction through it. The same
holds for TxnOffsetCommit on the group coordinator's `__consumer_offsets` partition, when the
transaction's coordinator is the other broker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as KafkaPartition

from odradek.metadata.topic_names import GROUP_METADATA_TOPIC_NAME
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import (
    add_offsets_to_txn,
    describe_transactions,
    end_txn,
    fetch,
    find_coordinator,
    init_producer_id,
    produce,
    txn_offset_commit,
)
from odradek.protocol.messages import add_partitions_to_txn as apt
from odradek.protocol.records import CONTROL_ABORT, BatchHeader, BatchSpec, build_batch, validate_batches
from odradek.replication.partition import Partition
from odradek.storage.producer_state import EndTxnMarker
from odradek.testing.cluster import LocalCluster
from odradek.testing.raw_client import RawClient

OVERRIDES = {
    "replica.fetch.wait.max.ms": "100",
    "transaction.state.log.num.partitions": "1",
    "transaction.state.log.min.isr": "1",
}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path, 2, OVERRIDES) as running:
        yield running


def call(cluster: LocalCluster, node: int, api: int, version: int, request: Any) -> Any:
    with RawClient.connect(cluster.brokers[node].bootstrap) as client:
        return client.call(api, version, request)


def until_ready(cluster: LocalCluster, node: int, api: int, version: int, request: Any) -> Any:
    retriable = (ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE)
    for _ in range(100):
        response = call(cluster, node, api, version, request)
        if response.error_code not in retriable:
            return response
        time.sleep(0.05)
    raise AssertionError("coordinator never ready")


def send(cluster: LocalCluster, node: int, pid: int, epoch: int, seq: int, version: int = 10) -> int:
    spec = BatchSpec(producer_id=pid, producer_epoch=epoch, base_sequence=seq, is_transactional=True)
    data = produce.TopicProduceData(
        name="t",
        partition_data=[produce.PartitionProduceData(0, build_batch([(None, b"v", [], 0)] * 2, spec))],
    )
    request = produce.ProduceRequest(transactional_id="tx", acks=-1, timeout_ms=5000, topic_data=[data])
    response = call(cluster, node, ApiKey.PRODUCE, version, request)
    code: int = response.responses[0].partition_responses[0].error_code
    return code


def last_stable_offset(cluster: LocalCluster, node: int) -> int:
    return read_offsets(cluster, node)[0]


def read_offsets(cluster: LocalCluster, node: int) -> tuple[int, int]:
    """(last stable offset, high watermark) of t-0 on `node`."""
    request = fetch.FetchRequest(
        max_wait_ms=0,
        isolation_level=1,
        topics=[
            fetch.FetchTopic(
                topic="t", partitions=[fetch.FetchPartition(partition=0, partition_max_bytes=1 << 20)]
            )
        ],
    )
    [data] = call(cluster, node, ApiKey.FETCH, 10, request).responses[0].partitions
    return int(data.last_stable_offset), int(data.high_watermark)


def transaction_on_another_broker(cluster: LocalCluster, init_version: int) -> tuple[int, int, int, int]:
    """Transaction "tx" started on its coordinator, topic "t" made with its one partition on the other
    broker only: (coordinator, leader of "t", producer id, producer epoch)."""
    found = until_ready(
        cluster, 1, ApiKey.FIND_COORDINATOR, 3, find_coordinator.FindCoordinatorRequest("tx", key_type=1)
    )
    coordinator = found.node_id
    leader = 3 - coordinator
    cluster.create_topic("t", [(leader,)])
    init = until_ready(
        cluster,
        coordinator,
        ApiKey.INIT_PRODUCER_ID,
        init_version,
        init_producer_id.InitProducerIdRequest(transactional_id="tx", transaction_timeout_ms=60_000),
    )
    return coordinator, leader, init.producer_id, init.producer_epoch


def add_to_transaction(cluster: LocalCluster, coordinator: int, pid: int, epoch: int) -> None:
    """AddPartitionsToTxn v3 of t-0 to "tx" on its coordinator."""
    added = call(
        cluster,
        coordinator,
        ApiKey.ADD_PARTITIONS_TO_TXN,
        3,
        apt.AddPartitionsToTxnRequest(
            v3_and_below_transactional_id="tx",
            v3_and_below_producer_id=pid,
            v3_and_below_producer_epoch=epoch,
            v3_and_below_topics=[apt.AddPartitionsToTxnTopic("t", [0])],
        ),
    )
    assert added.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code == 0


def test_a_transaction_with_its_coordinator_on_another_broker(cluster: LocalCluster) -> None:
    coordinator, leader, pid, epoch = transaction_on_another_broker(cluster, init_version=4)
    # not added to the transaction: the leader asks the coordinator and refuses the batch
    assert send(cluster, leader, pid, epoch, 0) == ErrorCode.INVALID_TXN_STATE
    # the coordinator accepts a partition it does not host (it is in the cluster's metadata)
    add_to_transaction(cluster, coordinator, pid, epoch)
    assert send(cluster, leader, pid, epoch, 0) == ErrorCode.NO_ERROR
    assert last_stable_offset(cluster, leader) == 0
    ended = until_ready(
        cluster, coordinator, ApiKey.END_TXN, 3, end_txn.EndTxnRequest("tx", pid, epoch, committed=True)
    )
    assert ended.error_code == ErrorCode.NO_ERROR
    cluster.wait_for(lambda: last_stable_offset(cluster, leader) == 3, what="the marker on the other broker")


def test_produce_v12_adds_the_partition_on_the_coordinators_broker(cluster: LocalCluster) -> None:
    coordinator, leader, pid, epoch = transaction_on_another_broker(cluster, init_version=5)
    # no AddPartitionsToTxn: the leader adds the partition to the transaction on the coordinator
    assert send(cluster, leader, pid, epoch, 0, version=12) == ErrorCode.NO_ERROR
    described = call(
        cluster,
        coordinator,
        ApiKey.DESCRIBE_TRANSACTIONS,
        0,
        describe_transactions.DescribeTransactionsRequest(["tx"]),
    )
    [state] = described.transaction_states
    assert (state.transaction_state, [(t.topic, t.partitions) for t in state.topics]) == (
        "Ongoing",
        [("t", [0])],
    )
    # a fenced epoch is refused by the coordinator, and nothing is appended for it
    assert send(cluster, leader, pid, epoch - 1 if epoch else epoch + 5, 2, version=12) != ErrorCode.NO_ERROR
    assert last_stable_offset(cluster, leader) == 0
    ended = until_ready(
        cluster, coordinator, ApiKey.END_TXN, 5, end_txn.EndTxnRequest("tx", pid, epoch, committed=True)
    )
    assert (ended.error_code, ended.producer_epoch) == (ErrorCode.NO_ERROR, epoch + 1)
    cluster.wait_for(lambda: last_stable_offset(cluster, leader) == 3, what="the marker on the other broker")


def test_a_marker_written_while_the_remote_coordinator_answers_voids_its_answer(
    cluster: LocalCluster,
) -> None:
    """Kafka's VerificationGuard: the coordinator said yes, but the transaction ended on the partition
    (its ABORT marker appended) before the answer came back; the batch must not be appended (it would
    open a transaction nobody ends, holding the last stable offset back for ever)."""
    coordinator, leader, pid, epoch = transaction_on_another_broker(cluster, init_version=4)
    add_to_transaction(cluster, coordinator, pid, epoch)
    broker = cluster.brokers[leader].broker
    transactions = broker.transactions
    asked = transactions.verify

    async def answered_after_an_abort(*args: Any, **kwargs: Any) -> Any:
        answer = await asked(*args, **kwargs)
        partition = broker.partitions.leader("t", 0)
        assert isinstance(partition, Partition)
        partition.append_marker_as_leader(pid, epoch, EndTxnMarker(CONTROL_ABORT, 0), broker.clock.now_ms())
        return answer

    transactions.verify = answered_after_an_abort  # type: ignore[method-assign]
    assert send(cluster, leader, pid, epoch, 0) == ErrorCode.INVALID_TXN_STATE
    cluster.wait_for(lambda: read_offsets(cluster, leader) == (1, 1), what="only the marker on the partition")


def test_a_failed_verification_holds_its_sequence_until_the_batch_is_written(cluster: LocalCluster) -> None:
    """Kafka's VerificationStateEntry outlives the request: the batch at sequence 0 failed verification
    (the partition was not in the transaction yet), so a batch at sequence 2 is refused with
    OUT_OF_ORDER_SEQUENCE_NUMBER even once the partition is in the transaction, until 0 is written;
    then the transaction has started there and the entry is gone."""
    coordinator, leader, pid, epoch = transaction_on_another_broker(cluster, init_version=4)
    assert send(cluster, leader, pid, epoch, 0) == ErrorCode.INVALID_TXN_STATE
    add_to_transaction(cluster, coordinator, pid, epoch)
    assert send(cluster, leader, pid, epoch, 2) == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert read_offsets(cluster, leader) == (0, 0)
    assert send(cluster, leader, pid, epoch, 0) == ErrorCode.NO_ERROR
    assert cluster.partition(leader, "t")(lambda p: dict(p.verification_states)) == {}
    assert send(cluster, leader, pid, epoch, 2) == ErrorCode.NO_ERROR  # in the transaction: in sequence
    ended = until_ready(
        cluster, coordinator, ApiKey.END_TXN, 3, end_txn.EndTxnRequest("tx", pid, epoch, committed=False)
    )
    assert ended.error_code == ErrorCode.NO_ERROR
    cluster.wait_for(lambda: read_offsets(cluster, leader) == (5, 5), what="the ABORT marker")


def test_a_marker_ends_a_verification_left_by_an_earlier_request(cluster: LocalCluster) -> None:
    """The entry a failed verification left is ended by the producer's marker: an answer given under
    the old guard (a zombie's, still on its way) is void while no transaction is ongoing there; a
    request that asks afterwards takes a new guard. Once a new transaction has started on the
    partition, a batch joins it without a guard (Kafka checks none then; sequences decide)."""
    coordinator, leader, pid, epoch = transaction_on_another_broker(cluster, init_version=4)
    assert send(cluster, leader, pid, epoch, 0) == ErrorCode.INVALID_TXN_STATE
    [old_guard] = cluster.partition(leader, "t")(lambda p: [e.guard for e in p.verification_states.values()])
    broker = cluster.brokers[leader].broker

    def abort_marker(partition: Partition) -> None:
        partition.append_marker_as_leader(pid, epoch, EndTxnMarker(CONTROL_ABORT, 0), broker.clock.now_ms())

    cluster.partition(leader, "t")(abort_marker)
    assert cluster.partition(leader, "t")(lambda p: dict(p.verification_states)) == {}
    _, [header] = _headers(pid, epoch, 2)
    assert cluster.partition(leader, "t")(lambda p: p.verification_error(header, old_guard)) == (
        ErrorCode.INVALID_TXN_STATE
    )
    add_to_transaction(cluster, coordinator, pid, epoch)
    assert send(cluster, leader, pid, epoch, 0) == ErrorCode.NO_ERROR
    assert cluster.partition(leader, "t")(lambda p: p.verification_error(header, old_guard)) == (
        ErrorCode.NO_ERROR
    )


def _headers(pid: int, epoch: int, seq: int) -> tuple[bytearray, list[BatchHeader]]:
    spec = BatchSpec(producer_id=pid, producer_epoch=epoch, base_sequence=seq, is_transactional=True)
    data = bytearray(build_batch([(None, b"v", [], 0)], spec))
    return data, validate_batches(data)


def test_a_transactional_producer_with_its_coordinator_on_another_broker(cluster: LocalCluster) -> None:
    """librdkafka, coordinator on one broker and the partition on the other: every transaction's first
    batch is verified remotely and its entry ends with the transaction's start, so the next
    transaction (sequences going on in the same epoch) is not refused; read_committed sees exactly
    the committed records."""
    _, leader, _, _ = transaction_on_another_broker(cluster, init_version=4)
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "transactional.id": "tx", "linger.ms": 5})
    producer.init_transactions(30)
    for n, commit in enumerate((True, False, True, True)):
        producer.begin_transaction()
        for i in range(5):
            producer.produce("t", f"{n}-{i}".encode(), partition=0)
        producer.flush(30)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
    assert cluster.partition(leader, "t")(lambda p: dict(p.verification_states)) == {}
    assert read_committed(cluster, "t", 15) == [f"{n}-{i}" for n in (0, 2, 3) for i in range(5)]


# --- TxnOffsetCommit: the group's offsets partition verified with the coordinator on another broker --


def group_coordinated_by(cluster: LocalCluster, node: int) -> tuple[str, int]:
    """A group id whose `__consumer_offsets` partition `node` leads: (group id, partition)."""
    for n in range(200):
        group = f"g{n}"
        found = until_ready(
            cluster, node, ApiKey.FIND_COORDINATOR, 3, find_coordinator.FindCoordinatorRequest(group)
        )
        if found.node_id == node:
            return group, cluster.brokers[node].broker.groups.service.partition_for(group)
    raise AssertionError(f"no group coordinated by broker {node}")


def offsets_partition_state(cluster: LocalCluster, node: int, index: int) -> tuple[list[int], int]:
    """(producers with a transaction open on the offsets partition, how many verification entries)"""
    return cluster.partition(node, GROUP_METADATA_TOPIC_NAME, index)(
        lambda p: (
            [pid for _, pid in p.log.producer_state.ongoing_transactions()],
            len(p.verification_states),
        )
    )


def test_a_marker_written_while_the_remote_coordinator_answers_voids_txn_offset_commit(
    cluster: LocalCluster,
) -> None:
    """Kafka's scheduleTransactionalWriteOperation: the group coordinator's broker takes the offsets
    partition's verification guard, asks the transaction coordinator (the other broker), and appends
    the offsets only if the guard still holds. Here the transaction's ABORT marker reaches the offsets
    partition while the answer (yes) is on its way: INVALID_TXN_STATE, and no transaction is left open
    on `__consumer_offsets` (it would hold its last stable offset back for ever)."""
    coordinator, leader, pid, epoch = transaction_on_another_broker(cluster, init_version=4)
    group, index = group_coordinated_by(cluster, leader)
    added = call(
        cluster,
        coordinator,
        ApiKey.ADD_OFFSETS_TO_TXN,
        3,
        add_offsets_to_txn.AddOffsetsToTxnRequest("tx", pid, epoch, group),
    )
    assert added.error_code == ErrorCode.NO_ERROR
    broker = cluster.brokers[leader].broker
    transactions = broker.transactions
    asked = transactions.verify
    aborted: list[ErrorCode] = []

    async def answered_after_an_abort(*args: Any, **kwargs: Any) -> Any:
        answer = await asked(*args, **kwargs)
        aborted.append(await broker.groups.service.complete_transaction(index, pid, epoch, False, 0))
        return answer

    transactions.verify = answered_after_an_abort  # type: ignore[method-assign]
    request = txn_offset_commit.TxnOffsetCommitRequest(
        "tx",
        group,
        pid,
        epoch,
        topics=[
            txn_offset_commit.TxnOffsetCommitRequestTopic(
                "t", [txn_offset_commit.TxnOffsetCommitRequestPartition(0, 7, -1, "")]
            )
        ],
    )
    response = call(cluster, leader, ApiKey.TXN_OFFSET_COMMIT, 3, request)
    assert aborted == [ErrorCode.NO_ERROR]  # the coordinator was asked, and the marker went first
    assert response.topics[0].partitions[0].error_code == ErrorCode.INVALID_TXN_STATE
    assert offsets_partition_state(cluster, leader, index) == ([], 0)


def test_consume_transform_produce_with_the_group_and_transaction_coordinators_apart(
    cluster: LocalCluster,
) -> None:
    """librdkafka's send_offsets_to_transaction with the group's coordinator on one broker and the
    transaction's on the other: each transaction's first TxnOffsetCommit is verified remotely (once:
    the second joins the transaction already started on the offsets partition), an aborted round is
    redone from the committed offsets, and the output read_committed and the group's committed
    offsets show every input processed exactly once."""
    _, leader, _, _ = transaction_on_another_broker(cluster, init_version=4)
    group, index = group_coordinated_by(cluster, leader)
    cluster.create_topic("out", [(3 - leader,)])
    feeder = Producer({"bootstrap.servers": cluster.bootstrap})
    for i in range(12):
        feeder.produce("t", str(i).encode(), partition=0)
    feeder.flush(30)
    broker = cluster.brokers[leader].broker
    asked = broker.transactions.verify
    verified: list[list[Any]] = []

    async def counted(*args: Any, **kwargs: Any) -> Any:
        verified.append(list(args[3]))
        return await asked(*args, **kwargs)

    broker.transactions.verify = counted  # type: ignore[method-assign]
    consumer = Consumer(
        {
            "bootstrap.servers": cluster.bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe(["t"])
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "transactional.id": "tx", "linger.ms": 5})
    producer.init_transactions(30)
    for commit in (True, False, True, True):
        producer.begin_transaction()
        taken = poll_values(consumer, 4)
        for value in taken:
            producer.produce("out", f"out-{value}".encode(), partition=0)
        producer.send_offsets_to_transaction(
            consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30
        )
        producer.send_offsets_to_transaction(  # again: joins the transaction started there
            consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30
        )
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
            for tp in consumer.committed(consumer.assignment(), 30):
                consumer.seek(KafkaPartition(tp.topic, tp.partition, max(tp.offset, 0)))
    [committed] = consumer.committed([KafkaPartition("t", 0)], 30)
    consumer.close()
    assert committed.offset == 12
    offsets_partition = TopicPartition(GROUP_METADATA_TOPIC_NAME, index)
    assert [tps for tps in verified if offsets_partition in tps] == [[offsets_partition]] * 4
    assert offsets_partition_state(cluster, leader, index) == ([], 0)
    assert read_committed(cluster, "out", 12) == [f"out-{i}" for i in range(12)]


def read_committed(cluster: LocalCluster, topic: str, count: int) -> list[str]:
    """The first `count` values of `topic` a read_committed consumer sees."""
    consumer = Consumer(
        {
            "bootstrap.servers": cluster.bootstrap,
            "group.id": "reader",
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    try:
        return poll_values(consumer, count)
    finally:
        consumer.close()


def poll_values(consumer: Consumer, count: int) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while len(seen) < count and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            seen.append(message.value().decode())
    assert len(seen) == count, seen
    return seen
