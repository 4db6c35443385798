"""Idempotence and transactions over the wire, on a real `Broker` in process (raw requests, so each
error code Kafka defines can be provoked), including bad input: nothing committed may change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from odradek.model.errors import ErrorCode as E
from odradek.model.ids import BrokerId, Epoch
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import (
    add_partitions_to_txn as apt,
)
from odradek.protocol.messages import (
    describe_producers,
    describe_transactions,
    end_txn,
    fetch,
    find_coordinator,
    init_producer_id,
    list_offsets,
    list_transactions,
    produce,
    write_txn_markers,
)
from odradek.protocol.records import CONTROL_COMMIT, BatchSpec, build_batch, build_control_batch
from odradek.replication.replica_set import LeaderAndIsr
from odradek.testing.in_process import InMemoryConnection, InProcessBroker

TS = 1_700_000_000_000
READ_COMMITTED = 1


@pytest.fixture
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessBroker]:
    overrides = {"transaction.state.log.num.partitions": "3"}
    with InProcessBroker(tmp_path_factory.mktemp("txn"), overrides) as b:
        b.create_topic("t", 2)
        yield b


@pytest.fixture
def conn(broker: InProcessBroker) -> InMemoryConnection:
    return broker.connect()


def call_until_ready(conn: InMemoryConnection, api_key: int, version: int, request: Any) -> Any:
    """Retry while the producer id block or the coordinator is still being prepared (retriable)."""
    for _ in range(50):
        response = conn.call(api_key, version, request)
        if response.error_code not in (E.COORDINATOR_LOAD_IN_PROGRESS, E.CONCURRENT_TRANSACTIONS):
            return response
        conn.owner.run(_sleep())
    raise AssertionError("coordinator never ready")


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.02)


def init(conn: InMemoryConnection, txn_id: str | None, version: int = 4) -> tuple[int, int]:
    request = init_producer_id.InitProducerIdRequest(transactional_id=txn_id, transaction_timeout_ms=60_000)
    response = call_until_ready(conn, ApiKey.INIT_PRODUCER_ID, version, request)
    assert response.error_code == E.NO_ERROR
    return response.producer_id, response.producer_epoch


def add_partitions(
    conn: InMemoryConnection, txn_id: str, pid: int, epoch: int, parts: list[int], version: int = 3
) -> list[int]:
    request = apt.AddPartitionsToTxnRequest(
        v3_and_below_transactional_id=txn_id,
        v3_and_below_producer_id=pid,
        v3_and_below_producer_epoch=epoch,
        v3_and_below_topics=[apt.AddPartitionsToTxnTopic("t", parts)],
    )
    response = conn.call(ApiKey.ADD_PARTITIONS_TO_TXN, version, request)
    return [
        r.partition_error_code for t in response.results_by_topic_v3_and_below for r in t.results_by_partition
    ]


def end(conn: InMemoryConnection, txn_id: str, pid: int, epoch: int, commit: bool, version: int = 3) -> int:
    request = end_txn.EndTxnRequest(txn_id, pid, epoch, commit)
    return int(call_until_ready(conn, ApiKey.END_TXN, version, request).error_code)


def send(
    conn: InMemoryConnection,
    records: bytes,
    partition: int = 0,
    txn_id: str | None = None,
    version: int = 10,
) -> produce.PartitionProduceResponse:
    data = produce.TopicProduceData(
        name="t", partition_data=[produce.PartitionProduceData(partition, records)]
    )
    request = produce.ProduceRequest(transactional_id=txn_id, acks=-1, timeout_ms=1000, topic_data=[data])
    [[part]] = [t.partition_responses for t in conn.call(ApiKey.PRODUCE, version, request).responses]
    return part


def batch(pid: int, epoch: int, seq: int, count: int = 1, txn: bool = False) -> bytes:
    spec = BatchSpec(producer_id=pid, producer_epoch=epoch, base_sequence=seq, is_transactional=txn)
    return build_batch([(b"k", b"v%d" % (seq + i), [], TS + i) for i in range(count)], spec)


def read(conn: InMemoryConnection, partition: int = 0, isolation: int = 0) -> fetch.PartitionData:
    request = fetch.FetchRequest(
        max_wait_ms=0,
        isolation_level=isolation,
        topics=[
            fetch.FetchTopic(
                topic="t", partitions=[fetch.FetchPartition(partition=partition, partition_max_bytes=1 << 20)]
            )
        ],
    )
    [[part]] = [t.partitions for t in conn.call(ApiKey.FETCH, 12, request).responses]
    assert part.error_code == 0
    return part


def log_end(broker: InProcessBroker, partition: int = 0) -> int:
    found = broker.broker.partitions.get("t", partition)
    assert found is not None
    return found.log.log_end_offset


# --- idempotence -------------------------------------------------------------------------------


def test_a_fresh_broker_allocates_producer_ids_at_its_first_init_producer_id_and_answers_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The transaction coordinator starts with the first request needing it, not with the broker:
    no producer id block is taken from the metadata log at start, and the first idempotent
    InitProducerId waits for the block instead of answering COORDINATOR_LOAD_IN_PROGRESS."""
    with InProcessBroker(tmp_path_factory.mktemp("lazy-txn")) as broker:
        assert broker.broker.image.next_producer_id == 0
        request = init_producer_id.InitProducerIdRequest(transactional_id=None, transaction_timeout_ms=60_000)
        response = broker.connect().call(ApiKey.INIT_PRODUCER_ID, 4, request)
        assert (response.error_code, response.producer_epoch) == (E.NO_ERROR, 0)
        assert broker.broker.image.next_producer_id > response.producer_id >= 0


def test_idempotent_producer_ids_are_distinct_and_start_at_epoch_zero(conn: InMemoryConnection) -> None:
    first, second = init(conn, None), init(conn, None)
    assert first[1] == second[1] == 0
    assert first[0] != second[0]


def test_retries_are_answered_with_original_offsets_and_gaps_refused(
    broker: InProcessBroker, conn: InMemoryConnection
) -> None:
    pid, epoch = init(conn, None)
    assert send(conn, batch(pid, epoch, 0, 3)).base_offset == 0
    assert send(conn, batch(pid, epoch, 3, 2)).base_offset == 3
    retry = send(conn, batch(pid, epoch, 0, 3))
    assert (retry.error_code, retry.base_offset) == (E.NO_ERROR, 0)
    gap = send(conn, batch(pid, epoch, 9))
    assert gap.error_code == E.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert log_end(broker) == 5
    fenced = send(conn, batch(pid, epoch + 1, 0))  # a new epoch restarts at 0
    assert fenced.error_code == E.NO_ERROR
    old = send(conn, batch(pid, epoch, 5))
    assert old.error_code == E.INVALID_PRODUCER_EPOCH
    assert log_end(broker) == 6


def test_control_batches_from_clients_are_invalid_records(
    broker: InProcessBroker, conn: InMemoryConnection
) -> None:
    marker = build_control_batch(CONTROL_COMMIT, 5, 0, 0, TS)
    assert send(conn, marker, txn_id="writer").error_code == E.INVALID_RECORD
    # Markers are transactional batches: without a transactional.id Kafka refuses the request first.
    assert send(conn, marker).error_code == E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    assert log_end(broker) == 0


def test_describe_producers_lists_each_producer_of_a_partition(conn: InMemoryConnection) -> None:
    pid, epoch = init(conn, None)
    send(conn, batch(pid, epoch, 0, 4))
    request = describe_producers.DescribeProducersRequest(
        [describe_producers.TopicRequest("t", [0, 7]), describe_producers.TopicRequest("nope", [0])]
    )
    response = conn.call(ApiKey.DESCRIBE_PRODUCERS, 0, request)
    [[p0, p7], [missing]] = [t.partitions for t in response.topics]
    assert [
        (s.producer_id, s.producer_epoch, s.last_sequence, s.current_txn_start_offset)
        for s in p0.active_producers
    ] == [(pid, epoch, 3, -1)]
    assert p0.active_producers[0].last_timestamp == TS + 3
    assert (p7.error_code, missing.error_code) == (E.UNKNOWN_TOPIC_OR_PARTITION, E.UNKNOWN_TOPIC_OR_PARTITION)


# --- transactions ------------------------------------------------------------------------------


def test_find_coordinator_serves_transactions_batched_and_groups(conn: InMemoryConnection) -> None:
    request = find_coordinator.FindCoordinatorRequest(key_type=1, coordinator_keys=["a", "b"])
    response = conn.call(ApiKey.FIND_COORDINATOR, 4, request)
    assert [(c.key, c.error_code, c.node_id) for c in response.coordinators] == [("a", 0, 1), ("b", 0, 1)]
    assert all(c.port > 0 for c in response.coordinators)
    group = conn.call(
        ApiKey.FIND_COORDINATOR, 3, find_coordinator.FindCoordinatorRequest(key="g", key_type=0)
    )
    assert (group.error_code, group.node_id) == (E.NO_ERROR, 1)
    bad = conn.call(ApiKey.FIND_COORDINATOR, 3, find_coordinator.FindCoordinatorRequest(key="x", key_type=9))
    assert bad.error_code == E.INVALID_REQUEST


def test_a_committed_transaction_is_read_committed_and_an_aborted_one_is_listed(
    conn: InMemoryConnection,
) -> None:
    pid, epoch = init(conn, "tx")
    assert add_partitions(conn, "tx", pid, epoch, [0]) == [E.NO_ERROR]
    assert send(conn, batch(pid, epoch, 0, 2, txn=True), txn_id="tx").error_code == E.NO_ERROR
    open_read = read(conn, isolation=READ_COMMITTED)
    assert (open_read.high_watermark, open_read.last_stable_offset, open_read.records) == (2, 0, b"")
    offsets = list_offsets.ListOffsetsRequest(
        replica_id=-1,
        isolation_level=READ_COMMITTED,
        topics=[list_offsets.ListOffsetsTopic("t", [list_offsets.ListOffsetsPartition(0, timestamp=-1)])],
    )
    [[latest]] = [t.partitions for t in conn.call(ApiKey.LIST_OFFSETS, 7, offsets).topics]
    assert latest.offset == 0
    assert end(conn, "tx", pid, epoch, commit=False) == E.NO_ERROR
    conn.owner.run(_sleep())  # markers are written in the background after the answer
    done = read(conn, isolation=READ_COMMITTED)
    assert (done.high_watermark, done.last_stable_offset) == (3, 3)
    assert [(a.producer_id, a.first_offset) for a in done.aborted_transactions or []] == [(pid, 0)]
    assert read(conn).aborted_transactions is None
    # the next transaction commits: no aborted transaction overlaps its data
    assert add_partitions(conn, "tx", pid, epoch, [0]) == [E.NO_ERROR]
    assert send(conn, batch(pid, epoch, 2, 1, txn=True), txn_id="tx").error_code == E.NO_ERROR
    assert end(conn, "tx", pid, epoch, commit=True) == E.NO_ERROR
    conn.owner.run(_sleep())
    request = describe_transactions.DescribeTransactionsRequest(["tx", "unknown"])
    states = conn.call(ApiKey.DESCRIBE_TRANSACTIONS, 0, request).transaction_states
    assert [(s.transactional_id, s.error_code, s.transaction_state) for s in states] == [
        ("tx", E.NO_ERROR, "CompleteCommit"),
        ("unknown", E.TRANSACTIONAL_ID_NOT_FOUND, ""),
    ]
    assert read(conn, isolation=READ_COMMITTED).last_stable_offset == 5


def test_bad_transactional_requests_get_kafkas_errors_and_change_nothing(
    broker: InProcessBroker, conn: InMemoryConnection
) -> None:
    pid, epoch = init(conn, "tx")
    assert add_partitions(conn, "nobody", pid, epoch, [0]) == [E.INVALID_PRODUCER_ID_MAPPING]
    assert add_partitions(conn, "tx", pid, epoch + 1, [0]) == [E.PRODUCER_FENCED]
    assert add_partitions(conn, "tx", pid, epoch + 1, [0], version=1) == [E.INVALID_PRODUCER_EPOCH]
    assert add_partitions(conn, "tx", pid, epoch, [0, 9]) == [
        E.OPERATION_NOT_ATTEMPTED,
        E.UNKNOWN_TOPIC_OR_PARTITION,
    ]
    assert end(conn, "tx", pid, epoch, commit=True) == E.INVALID_TXN_STATE  # nothing to end
    assert end(conn, "nobody", pid, epoch, commit=True) == E.INVALID_PRODUCER_ID_MAPPING
    # transactional data for a partition not in the transaction
    unadded = send(conn, batch(pid, epoch, 0, txn=True), txn_id="tx", version=10)
    assert unadded.error_code == E.INVALID_TXN_STATE
    abortable = send(conn, batch(pid, epoch, 0, txn=True), txn_id="tx", version=11)
    assert abortable.error_code == E.TRANSACTION_ABORTABLE
    assert (log_end(broker, 0), log_end(broker, 1)) == (0, 0)
    states = conn.call(
        ApiKey.DESCRIBE_TRANSACTIONS, 0, describe_transactions.DescribeTransactionsRequest(["tx"])
    ).transaction_states
    assert [(s.transaction_state, s.producer_epoch, s.topics) for s in states] == [("Empty", epoch, [])]


def markers(pid: int, epoch: int, commit: bool, parts: dict[str, list[int]]) -> Any:
    return write_txn_markers.WriteTxnMarkersRequest(
        [
            write_txn_markers.WritableTxnMarker(
                producer_id=pid,
                producer_epoch=epoch,
                transaction_result=commit,
                topics=[write_txn_markers.WritableTxnMarkerTopic(t, ps) for t, ps in parts.items()],
                coordinator_epoch=0,
            )
        ]
    )


def marker_errors(response: Any) -> dict[tuple[str, int], int]:
    return {
        (t.name, p.partition_index): p.error_code
        for m in response.markers
        for t in m.topics
        for p in t.partitions
    }


def test_write_txn_markers_from_another_brokers_coordinator_ends_the_transaction_here(
    broker: InProcessBroker, conn: InMemoryConnection
) -> None:
    """What a coordinator on another broker sends this leader: the marker is written (the LSO
    passes the transaction) and answered once committed; a stale epoch and an unknown partition get
    Kafka's errors and write nothing."""
    pid, epoch = init(conn, "remote")
    assert add_partitions(conn, "remote", pid, epoch, [0]) == [E.NO_ERROR]
    assert send(conn, batch(pid, epoch, 0, 3, txn=True), txn_id="remote").error_code == E.NO_ERROR
    assert read(conn, isolation=READ_COMMITTED).last_stable_offset == 0
    stale = conn.call(ApiKey.WRITE_TXN_MARKERS, 1, markers(pid, epoch - 1, True, {"t": [0]}))
    assert marker_errors(stale) == {("t", 0): E.INVALID_PRODUCER_EPOCH}
    response = conn.call(ApiKey.WRITE_TXN_MARKERS, 1, markers(pid, epoch, True, {"t": [0], "nope": [0]}))
    assert marker_errors(response) == {("t", 0): E.NO_ERROR, ("nope", 0): E.UNKNOWN_TOPIC_OR_PARTITION}
    assert log_end(broker, 0) == 4  # three records and the COMMIT marker
    assert read(conn, isolation=READ_COMMITTED).last_stable_offset == 4


def test_write_txn_markers_needs_cluster_action(tmp_path_factory: pytest.TempPathFactory) -> None:
    overrides = {"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer"}
    with InProcessBroker(tmp_path_factory.mktemp("txn-authz"), overrides) as b:
        b.create_topic("t", 2)
        conn = b.connect()
        response = conn.call(ApiKey.WRITE_TXN_MARKERS, 1, markers(1000, 0, True, {"t": [0, 1]}))
        assert marker_errors(response) == {
            ("t", 0): E.CLUSTER_AUTHORIZATION_FAILED,
            ("t", 1): E.CLUSTER_AUTHORIZATION_FAILED,
        }
        assert (log_end(b, 0), log_end(b, 1)) == (0, 0)


def test_a_new_producer_with_the_same_id_fences_the_old_one_and_aborts_its_transaction(
    broker: InProcessBroker, conn: InMemoryConnection
) -> None:
    pid, epoch = init(conn, "zombie")
    add_partitions(conn, "zombie", pid, epoch, [1])
    assert send(conn, batch(pid, epoch, 0, 2, txn=True), partition=1, txn_id="zombie").error_code == 0
    new_pid, new_epoch = init(conn, "zombie")
    # the open transaction is aborted at epoch + 1 (the fence), then the new producer gets epoch + 2
    assert (new_pid, new_epoch) == (pid, epoch + 2)
    conn.owner.run(_sleep())
    assert read(conn, partition=1, isolation=READ_COMMITTED).last_stable_offset == 3  # aborted by a marker
    assert end(conn, "zombie", pid, epoch, commit=True) == E.PRODUCER_FENCED
    late = send(conn, batch(pid, epoch, 2, txn=True), partition=1, txn_id="zombie")
    assert late.error_code == E.INVALID_PRODUCER_EPOCH
    assert log_end(broker, 1) == 3


def test_produce_v12_adds_the_partition_to_the_transaction(conn: InMemoryConnection) -> None:
    pid, epoch = init(conn, "tv2")
    assert send(conn, batch(pid, epoch, 0, txn=True), txn_id="tv2", version=12).error_code == E.NO_ERROR
    request = describe_transactions.DescribeTransactionsRequest(["tv2"])
    [state] = conn.call(ApiKey.DESCRIBE_TRANSACTIONS, 0, request).transaction_states
    assert (state.transaction_state, [(t.topic, t.partitions) for t in state.topics]) == (
        "Ongoing",
        [("t", [0])],
    )
    listed = conn.call(
        ApiKey.LIST_TRANSACTIONS, 1, list_transactions.ListTransactionsRequest(state_filters=["Ongoing"])
    )
    assert [(s.transactional_id, s.producer_id) for s in listed.transaction_states] == [("tv2", pid)]


def test_produce_v12_refuses_a_batch_whose_partition_lost_its_leadership_while_it_was_added(
    broker: InProcessBroker, conn: InMemoryConnection
) -> None:
    """The partition is added to the transaction (an await on the coordinator's log) before the batch
    is appended: a leadership lost meanwhile answers NOT_LEADER_OR_FOLLOWER, with the current leader
    (KIP-951), and writes nothing (as Kafka's appendRecordsToLeader), rather than appending to what
    is now a follower's log."""
    pid, epoch = init(conn, "moved")
    partition = broker.broker.partitions.get("t", 0)
    assert partition is not None
    service = broker.broker.ports.transactions.service
    add = service.add_partitions
    me, other = partition.replicas.local, BrokerId(partition.replicas.local + 1)

    async def add_while_the_leadership_moves(*args: Any) -> E:
        error = await add(*args)
        state = LeaderAndIsr(other, Epoch(partition.leader_epoch + 1), (me, other), (me, other))
        partition.become(state, now_ms=0)  # (what a new image does: another broker leads now)
        return error

    service.add_partitions = add_while_the_leadership_moves  # type: ignore[method-assign]
    before = log_end(broker)
    answer = send(conn, batch(pid, epoch, 0, txn=True), txn_id="moved", version=12)
    assert answer.error_code == E.NOT_LEADER_OR_FOLLOWER
    assert log_end(broker) == before
    # KIP-951 (v10+): the answer names the leader the metadata knows, as the synchronous path does
    registration = broker.broker.ports.metadata.image.topic("t").partitions[0]  # type: ignore[union-attr]
    assert (answer.current_leader.leader_id, answer.current_leader.leader_epoch) == (
        registration.leader,
        registration.leader_epoch,
    )


def test_batched_add_partitions_verify_only(conn: InMemoryConnection) -> None:
    pid, epoch = init(conn, "v")
    add_partitions(conn, "v", pid, epoch, [0])
    request = apt.AddPartitionsToTxnRequest(
        transactions=[
            apt.AddPartitionsToTxnTransaction(
                "v", pid, epoch, True, [apt.AddPartitionsToTxnTopic("t", [0, 1])]
            ),
            apt.AddPartitionsToTxnTransaction("w", 77, 0, True, [apt.AddPartitionsToTxnTopic("t", [0])]),
        ]
    )
    response = conn.call(ApiKey.ADD_PARTITIONS_TO_TXN, 4, request)
    got = {
        (r.transactional_id, p.partition_index): p.partition_error_code
        for r in response.results_by_transaction
        for t in r.topic_results
        for p in t.results_by_partition
    }
    assert got == {
        ("v", 0): E.NO_ERROR,
        ("v", 1): E.TRANSACTION_ABORTABLE,
        ("w", 0): E.INVALID_PRODUCER_ID_MAPPING,
    }


def test_a_transaction_past_its_timeout_is_aborted_by_the_coordinator(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    overrides = {
        "transaction.state.log.num.partitions": "1",
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": "50",
    }
    with InProcessBroker(tmp_path_factory.mktemp("timeout"), overrides) as broker:
        broker.create_topic("t", 1)
        conn = broker.connect()
        request = init_producer_id.InitProducerIdRequest(transactional_id="slow", transaction_timeout_ms=100)
        response = call_until_ready(conn, ApiKey.INIT_PRODUCER_ID, 4, request)
        pid, epoch = response.producer_id, response.producer_epoch
        assert add_partitions(conn, "slow", pid, epoch, [0]) == [E.NO_ERROR]
        assert send(conn, batch(pid, epoch, 0, 3, txn=True), txn_id="slow").error_code == E.NO_ERROR
        assert read(conn, isolation=READ_COMMITTED).last_stable_offset == 0

        async def wait() -> None:
            import asyncio

            await asyncio.sleep(0.5)

        broker.run(wait())
        after = read(conn, isolation=READ_COMMITTED)
        assert (after.high_watermark, after.last_stable_offset) == (4, 4)  # an ABORT marker at 3
        assert [(a.producer_id, a.first_offset) for a in after.aborted_transactions or []] == [(pid, 0)]
        [state] = conn.call(
            ApiKey.DESCRIBE_TRANSACTIONS, 0, describe_transactions.DescribeTransactionsRequest(["slow"])
        ).transaction_states
        assert (state.transaction_state, state.producer_epoch) == ("CompleteAbort", epoch + 1)
        assert end(conn, "slow", pid, epoch, commit=True) == E.PRODUCER_FENCED


def test_the_coordinator_follows_the_topics_partition_count_after_a_config_change(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data = tmp_path_factory.mktemp("resize")
    with InProcessBroker(data, {"transaction.state.log.num.partitions": "2"}) as broker:
        broker.create_topic("t", 1)
        conn = broker.connect()
        pid, epoch = init(conn, "kept")
        assert add_partitions(conn, "kept", pid, epoch, [0]) == [E.NO_ERROR]
    with InProcessBroker(data, {"transaction.state.log.num.partitions": "5"}) as broker:
        conn = broker.connect()
        assert broker.broker.transactions.service.config.num_partitions == 2
        request = describe_transactions.DescribeTransactionsRequest(["kept"])
        [state] = conn.call(ApiKey.DESCRIBE_TRANSACTIONS, 0, request).transaction_states
        assert (state.error_code, state.transaction_state, state.producer_id) == (E.NO_ERROR, "Ongoing", pid)


def test_transaction_version_2_bumps_the_epoch_at_every_end(conn: InMemoryConnection) -> None:
    """KIP-890 part 2 as a transaction version 2 client speaks it: Produce v12 adds partitions
    itself, EndTxn v5 answers with the epoch of the next transaction."""
    pid, epoch = init(conn, "tv2", version=5)
    assert send(conn, batch(pid, epoch, 0, 2, txn=True), txn_id="tv2", version=12).error_code == E.NO_ERROR
    response = call_until_ready(
        conn, ApiKey.END_TXN, 5, end_txn.EndTxnRequest("tv2", pid, epoch, committed=True)
    )
    assert (response.error_code, response.producer_id, response.producer_epoch) == (
        E.NO_ERROR,
        pid,
        epoch + 1,
    )
    conn.owner.run(_sleep())
    epoch += 1
    second = send(conn, batch(pid, epoch, 0, 1, txn=True), txn_id="tv2", version=12)
    assert (second.error_code, second.base_offset) == (E.NO_ERROR, 3)
    stale = send(conn, batch(pid, epoch - 1, 2, txn=True), txn_id="tv2", version=12)
    assert stale.error_code == E.INVALID_PRODUCER_EPOCH
    response = call_until_ready(
        conn, ApiKey.END_TXN, 5, end_txn.EndTxnRequest("tv2", pid, epoch, committed=False)
    )
    assert (response.error_code, response.producer_epoch) == (E.NO_ERROR, epoch + 1)
    conn.owner.run(_sleep())
    done = read(conn, isolation=READ_COMMITTED)
    assert (done.high_watermark, done.last_stable_offset) == (5, 5)
    assert [(a.producer_id, a.first_offset) for a in done.aborted_transactions or []] == [(pid, 3)]


def test_without_verification_a_transactional_write_to_an_unadded_partition_is_taken(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    overrides = {
        "transaction.state.log.num.partitions": "1",
        "transaction.partition.verification.enable": "false",
    }
    with InProcessBroker(tmp_path_factory.mktemp("noverify"), overrides) as broker:
        broker.create_topic("t", 1)
        conn = broker.connect()
        pid, epoch = init(conn, "loose")
        assert send(conn, batch(pid, epoch, 0, txn=True), txn_id="loose").error_code == E.NO_ERROR
        assert log_end(broker) == 1


def test_txn_offset_commit_needs_the_offsets_partition_and_shows_after_the_commit(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from odradek.protocol.messages import add_offsets_to_txn, offset_fetch, txn_offset_commit

    overrides = {"transaction.state.log.num.partitions": "1", "offsets.topic.num.partitions": "2"}
    with InProcessBroker(tmp_path_factory.mktemp("txn-offsets"), overrides) as broker:
        broker.create_topic("t", 1)
        conn = broker.connect()
        found = conn.call(
            ApiKey.FIND_COORDINATOR, 3, find_coordinator.FindCoordinatorRequest(key="g", key_type=0)
        )
        assert found.error_code == E.NO_ERROR
        pid, epoch = init(conn, "tx")

        def commit_offsets(version: int = 3, producer_epoch: int = epoch, topic: str = "t") -> list[int]:
            request = txn_offset_commit.TxnOffsetCommitRequest(
                transactional_id="tx",
                group_id="g",
                producer_id=pid,
                producer_epoch=producer_epoch,
                topics=[
                    txn_offset_commit.TxnOffsetCommitRequestTopic(
                        topic, [txn_offset_commit.TxnOffsetCommitRequestPartition(0, 42, -1, "")]
                    )
                ],
            )
            response = conn.call(ApiKey.TXN_OFFSET_COMMIT, version, request)
            return [p.error_code for t in response.topics for p in t.partitions]

        def fetch_offset() -> tuple[int, int]:
            request = offset_fetch.OffsetFetchRequest(
                group_id="g",
                topics=[offset_fetch.OffsetFetchRequestTopic("t", [0])],
                require_stable=True,
            )
            [[part]] = [t.partitions for t in conn.call(ApiKey.OFFSET_FETCH, 7, request).topics]
            return part.committed_offset, part.error_code

        assert commit_offsets() == [E.INVALID_TXN_STATE]  # no AddOffsetsToTxn yet
        assert commit_offsets(version=4) == [E.TRANSACTION_ABORTABLE]
        add = add_offsets_to_txn.AddOffsetsToTxnRequest("tx", pid, epoch, "g")
        assert conn.call(ApiKey.ADD_OFFSETS_TO_TXN, 3, add).error_code == E.NO_ERROR
        assert commit_offsets(topic="nope") == [E.UNKNOWN_TOPIC_OR_PARTITION]
        assert commit_offsets(producer_epoch=epoch + 1) == [E.INVALID_PRODUCER_EPOCH]
        assert commit_offsets() == [E.NO_ERROR]
        assert fetch_offset() == (-1, E.UNSTABLE_OFFSET_COMMIT)
        assert end(conn, "tx", pid, epoch, commit=True) == E.NO_ERROR
        conn.owner.run(_sleep())  # the marker reaches __consumer_offsets in the background
        assert fetch_offset() == (42, E.NO_ERROR)


def test_an_init_producer_id_during_the_first_block_allocation_waits_for_it(tmp_path: Path) -> None:
    """The service is started (its runtime running) while its first block of producer ids is still
    being taken (at a cluster broker's start, or by another producer's request): an idempotent
    producer's InitProducerId arriving then waits for the block instead of being told
    COORDINATOR_LOAD_IN_PROGRESS."""
    import asyncio

    with InProcessBroker(tmp_path) as b:
        coordinator = b.broker.transactions
        taken = asyncio.Event()
        allocate = coordinator._allocate_block

        async def slowly() -> Any:
            await asyncio.sleep(0.3)
            block = await allocate()
            taken.set()
            return block

        coordinator._allocate_block = slowly  # type: ignore[method-assign]

        async def one(delay: float) -> E:
            await asyncio.sleep(delay)
            await coordinator.ensure_started()
            return (await coordinator.service.init_producer_id(None, 60_000)).error

        async def both() -> list[E]:
            return list(await asyncio.gather(one(0), one(0.15)))

        assert b.run(both()) == [E.NO_ERROR, E.NO_ERROR]
        assert taken.is_set()
