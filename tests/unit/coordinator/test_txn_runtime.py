"""TransactionCoordinatorService on the shared runtime, with an in-memory log, a fake marker writer and
block allocator (no sockets, fake clock)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any

from odradek.coordinator.partitioning import coordinator_partition as partition_for
from odradek.coordinator.shard import LogEntry
from odradek.coordinator.transaction.config import TransactionConfig
from odradek.coordinator.transaction.producer_ids import ProducerIdBlock
from odradek.coordinator.transaction.records import TxnLogRecord, decode_record
from odradek.coordinator.transaction.results import EndTxnResult, InitProducerIdResult, MarkerToWrite
from odradek.coordinator.transaction.service import TransactionCoordinatorService
from odradek.coordinator.transaction.states import TransactionState as S
from odradek.model.errors import ErrorCode as E
from odradek.model.topic_partition import TopicPartition
from odradek.testing.clock import FakeClock
from odradek.testing.coordinator_log import MemoryCoordinatorLog

A, B = TopicPartition("a", 0), TopicPartition("b", 1)
TXN = "txn"


class Fakes:
    def __init__(self, memory: MemoryCoordinatorLog | None = None) -> None:
        self.clock = FakeClock()
        self.memory = memory or MemoryCoordinatorLog()
        self.markers: list[MarkerToWrite] = []
        self.marker_errors: list[dict[TopicPartition, E]] = []
        self.marker_gate: asyncio.Event | None = None
        self.next_block = 0
        self.block_failures = 0

    @property
    def append_errors(self) -> list[E]:
        return self.memory.failures

    @append_errors.setter
    def append_errors(self, errors: list[E]) -> None:
        self.memory.failures = errors

    @property
    def log(self) -> dict[int, list[TxnLogRecord]]:
        return {
            p: [r for k, v in self.memory.key_values(p) if (r := decode_record(k, v)) is not None]
            for p in self.memory.logs
        }

    async def write_markers(self, marker: MarkerToWrite) -> Mapping[TopicPartition, E]:
        if self.marker_gate is not None:
            await self.marker_gate.wait()
        self.markers.append(marker)
        scripted = self.marker_errors.pop(0) if self.marker_errors else {}
        return {tp: scripted.get(tp, E.NO_ERROR) for tp in marker.partitions}

    async def allocate(self) -> ProducerIdBlock:
        if self.block_failures:
            self.block_failures -= 1
            raise OSError("metadata store unavailable")
        block = ProducerIdBlock(self.next_block, 10)
        self.next_block += 10
        return block

    async def sleep(self, seconds: float) -> None:
        if seconds >= 1:  # the timer: tests call run_timers() themselves
            await asyncio.Event().wait()
        await asyncio.sleep(0)

    def states(self, txn_id: str = TXN) -> list[S | None]:
        partition = partition_for(txn_id, 50)
        return [
            r.value.state if r.value else None
            for r in self.log.get(partition, [])
            if r.transactional_id == txn_id
        ]


def run(
    test: Callable[[TransactionCoordinatorService, Fakes], Coroutine[Any, Any, None]],
    memory: MemoryCoordinatorLog | None = None,
    **config: Any,
) -> Fakes:
    fakes = Fakes(memory)

    async def main() -> None:
        service = TransactionCoordinatorService(
            TransactionConfig(**config), fakes.clock, fakes.memory, fakes.write_markers, fakes.allocate,
            sleep=fakes.sleep,
        )  # fmt: skip
        await service.start()
        for partition in range(50):
            if partition not in fakes.memory.logs:
                await service.load(partition, 3, [])
        await settle(lambda: fakes.next_block >= 10)  # the first producer id block
        try:
            await test(service, fakes)
        finally:
            await service.stop()

    asyncio.run(main())
    return fakes


async def settle(done: Callable[[], bool] = lambda: False, rounds: int = 200) -> None:
    for _ in range(rounds):
        if done():
            return
        await asyncio.sleep(0)


def test_a_committed_transaction_writes_markers_then_completes():
    async def scenario(service: TransactionCoordinatorService, fakes: Fakes) -> None:
        assert await service.init_producer_id(TXN, 60_000) == InitProducerIdResult(E.NO_ERROR, 0, 0)
        assert await service.add_partitions(TXN, 0, 0, [A, B]) is E.NO_ERROR
        assert await service.end_txn(TXN, 0, 0, committed=True) == EndTxnResult(E.NO_ERROR)
        await settle(lambda: len(fakes.states()) == 4)
        assert fakes.states() == [S.EMPTY, S.ONGOING, S.PREPARE_COMMIT, S.COMPLETE_COMMIT]
        assert fakes.markers == [MarkerToWrite(TXN, 0, 0, True, frozenset({A, B}), 3, 0)]
        assert service.shard_for(TXN).transactions[TXN].pending_state is None

    run(scenario)


def test_failed_marker_partitions_are_retried_alone_and_superseded_markers_abandoned():
    async def scenario(service: TransactionCoordinatorService, fakes: Fakes) -> None:
        fakes.marker_errors = [{A: E.NOT_LEADER_OR_FOLLOWER}, {}]
        await service.init_producer_id(TXN, 60_000)
        await service.add_partitions(TXN, 0, 0, [A, B])
        await service.end_txn(TXN, 0, 0, committed=False)
        await settle(lambda: len(fakes.states()) == 4)
        assert [m.partitions for m in fakes.markers] == [frozenset({A, B}), frozenset({A})]
        assert fakes.states()[-1] is S.COMPLETE_ABORT
        fakes.marker_errors = [{B: E.INVALID_PRODUCER_EPOCH}]
        await service.add_partitions(TXN, 0, 0, [B])
        await service.end_txn(TXN, 0, 0, committed=True)
        await settle(lambda: len(fakes.markers) == 3)
        await settle()
        md = service.shard_for(TXN).transactions[TXN]
        assert (md.state, md.pending_state) == (S.PREPARE_COMMIT, None)
        assert fakes.states()[-1] is S.PREPARE_COMMIT

    run(scenario)


def test_append_failures_map_to_coordinator_errors_and_change_nothing():
    async def scenario(service: TransactionCoordinatorService, fakes: Fakes) -> None:
        await service.init_producer_id(TXN, 60_000)
        fakes.append_errors = [E.NOT_LEADER_OR_FOLLOWER]
        assert await service.add_partitions(TXN, 0, 0, [A]) is E.NOT_COORDINATOR
        fakes.append_errors = [E.REQUEST_TIMED_OUT]
        assert await service.init_producer_id(TXN, 60_000) == InitProducerIdResult(
            E.COORDINATOR_NOT_AVAILABLE
        )
        md = service.shard_for(TXN).transactions[TXN]
        assert (md.state, md.producer_epoch, md.pending_state) == (S.EMPTY, 0, None)
        assert await service.add_partitions(TXN, 0, 0, [A]) is E.NO_ERROR
        # the Complete record is retried until it is written
        await service.end_txn(TXN, 0, 0, committed=True)
        fakes.append_errors = [E.NOT_ENOUGH_REPLICAS, E.NOT_ENOUGH_REPLICAS]
        await settle(lambda: len(fakes.states()) == 4)
        assert fakes.states() == [S.EMPTY, S.ONGOING, S.PREPARE_COMMIT, S.COMPLETE_COMMIT]

    run(scenario)


def test_requests_of_one_shard_apply_at_once_and_are_answered_once_committed():
    async def scenario(service: TransactionCoordinatorService, fakes: Fakes) -> None:
        await service.init_producer_id(TXN, 60_000)
        fakes.memory.auto_commit = False  # the followers are slow
        partition = partition_for(TXN, 50)
        add = asyncio.ensure_future(service.add_partitions(TXN, 0, 0, [A]))
        end = asyncio.ensure_future(service.end_txn(TXN, 0, 0, committed=True))
        await settle()
        assert not add.done() and not end.done()  # no lock: both planned and appended
        assert fakes.states() == [S.EMPTY, S.ONGOING, S.PREPARE_COMMIT]
        [described] = service.describe_transactions([TXN])
        assert described.transaction_state == "Empty"  # readers see only what is committed
        fakes.memory.commit(partition, fakes.memory.log_end(partition) - 1)
        assert await add is E.NO_ERROR
        assert not end.done() and fakes.markers == []  # markers only after the decision commits
        fakes.memory.auto_commit = True
        fakes.memory.commit(partition)
        assert await end == EndTxnResult(E.NO_ERROR)
        await settle(lambda: len(fakes.states()) == 4)
        assert fakes.states()[-1] is S.COMPLETE_COMMIT

    run(scenario)


def test_load_replays_and_finishes_pending_transactions():
    previous = run(_leave_a_prepared_transaction)

    async def scenario(service: TransactionCoordinatorService, fakes: Fakes) -> None:
        partition = partition_for(TXN, 50)
        gate = asyncio.Event()

        async def records() -> AsyncIterator[tuple[int, LogEntry]]:
            for offset, entry in previous.memory.entries(partition):
                yield offset, entry
                await gate.wait()

        fakes.memory.logs.clear()
        loading = asyncio.ensure_future(service.load(partition, 4, records()))
        await settle()
        assert await service.end_txn(TXN, 0, 0, committed=True) == EndTxnResult(
            E.COORDINATOR_LOAD_IN_PROGRESS
        )
        gate.set()
        await loading
        await settle(lambda: bool(fakes.log.get(partition)))
        assert fakes.markers == [MarkerToWrite(TXN, 0, 0, True, frozenset({A}), 4, 0)]
        assert fakes.states() == [S.COMPLETE_COMMIT]

    run(scenario, memory=_copy(previous.memory))


def _copy(memory: MemoryCoordinatorLog) -> MemoryCoordinatorLog:
    """The same log, on the broker that loads it next."""
    copied = MemoryCoordinatorLog()
    copied.logs = {p: list(entries) for p, entries in memory.logs.items()}
    copied.ends = dict(memory.ends)
    copied.high_watermarks = dict(memory.high_watermarks)
    return copied


async def _leave_a_prepared_transaction(service: TransactionCoordinatorService, fakes: Fakes) -> None:
    await service.init_producer_id(TXN, 60_000)
    await service.add_partitions(TXN, 0, 0, [A])
    fakes.marker_gate = asyncio.Event()  # the broker dies before writing the markers
    await service.end_txn(TXN, 0, 0, committed=True)


def test_timers_abort_timed_out_transactions_and_expire_ids():
    async def scenario(service: TransactionCoordinatorService, fakes: Fakes) -> None:
        await service.init_producer_id(TXN, 1000)
        await service.init_producer_id("idle", 1000)
        await service.add_partitions(TXN, 0, 0, [A])
        fakes.clock.advance(1001)
        await service.run_timers()
        await settle(lambda: fakes.states()[-1:] == [S.COMPLETE_ABORT])
        assert fakes.states() == [S.EMPTY, S.ONGOING, S.PREPARE_ABORT, S.COMPLETE_ABORT]
        assert fakes.markers == [MarkerToWrite(TXN, 0, 2, False, frozenset({A}), 3, 2)]
        fakes.clock.advance(TransactionConfig().transactional_id_expiration_ms)
        await service.run_timers()
        assert fakes.states("idle")[-1] is None and fakes.states()[-1] is None
        assert service.describe_transactions(["idle"])[0].error_code == E.TRANSACTIONAL_ID_NOT_FOUND

    run(scenario)


def test_idempotent_producers_get_ids_from_blocks_fetched_ahead():
    async def scenario(service: TransactionCoordinatorService, fakes: Fakes) -> None:
        ids = []
        for _ in range(12):
            ids.append(await service.init_producer_id(None, 0))
            await settle(rounds=3)  # requests arrive from the network: the prefetch gets its turn
        assert [r.producer_id for r in ids] == list(range(12)) and {r.producer_epoch for r in ids} == {0}
        assert fakes.next_block == 20  # the second block was fetched at 90% of the first

    run(scenario)


def test_no_block_yet_is_retriable_and_failed_allocations_are_retried():
    fakes = Fakes()
    fakes.block_failures = 2

    async def main() -> None:
        service = TransactionCoordinatorService(
            TransactionConfig(),
            fakes.clock,
            fakes.memory,
            fakes.write_markers,
            fakes.allocate,
            sleep=fakes.sleep,
        )
        assert await service.init_producer_id(None, 0) == InitProducerIdResult(E.COORDINATOR_LOAD_IN_PROGRESS)
        await service.start()
        assert await service.init_producer_id(None, 0) == InitProducerIdResult(E.COORDINATOR_LOAD_IN_PROGRESS)
        await settle(lambda: fakes.next_block == 10)
        assert await service.init_producer_id(None, 0) == InitProducerIdResult(E.NO_ERROR, 0, 0)
        assert await service.init_producer_id(TXN, 60_000) == InitProducerIdResult(E.NOT_COORDINATOR)
        fakes.marker_gate = asyncio.Event()
        await service.stop()  # nothing left running
        await service.stop()

    asyncio.run(main())


def test_stop_cancels_marker_writes_in_flight():
    async def scenario(service: TransactionCoordinatorService, fakes: Fakes) -> None:
        await service.init_producer_id(TXN, 60_000)
        await service.add_partitions(TXN, 0, 0, [A])
        fakes.marker_gate = asyncio.Event()
        await service.end_txn(TXN, 0, 0, committed=True)
        await settle()

    fakes = run(scenario)
    assert fakes.states() == [S.EMPTY, S.ONGOING, S.PREPARE_COMMIT]


def test_describe_list_and_verify_through_the_service():
    async def scenario(service: TransactionCoordinatorService, fakes: Fakes) -> None:
        await service.init_producer_id(TXN, 60_000)
        await service.add_offsets(TXN, 0, 0, "group")
        offsets = TopicPartition("__consumer_offsets", partition_for("group", 50))
        assert service.verify_partitions(TXN, 0, 0, [offsets, A]) == {
            offsets: E.NO_ERROR,
            A: E.TRANSACTION_ABORTABLE,
        }
        [described] = service.describe_transactions([TXN])
        assert (described.transaction_state, described.producer_id) == ("Ongoing", 0)
        listed = service.list_transactions(state_filters=["Ongoing"])
        assert [(s.transactional_id, s.transaction_state) for s in listed.transaction_states] == [
            (TXN, "Ongoing")
        ]

    run(scenario)


def test_a_start_waiting_for_its_first_block_answers_ids_and_survives_being_cancelled():
    """A coordinator started by its first InitProducerId waits for the first producer id block; if
    that wait is cancelled (the client went away), the next InitProducerId asks for a block again
    instead of answering COORDINATOR_LOAD_IN_PROGRESS for ever."""
    fakes = Fakes()
    gate = asyncio.Event()

    async def slow_allocate() -> ProducerIdBlock:
        await gate.wait()
        return await fakes.allocate()

    async def main() -> None:
        service = TransactionCoordinatorService(
            TransactionConfig(),
            fakes.clock,
            fakes.memory,
            fakes.write_markers,
            slow_allocate,
            sleep=fakes.sleep,
        )
        starting = asyncio.ensure_future(service.start(wait_for_ids=True))
        await settle()
        assert not starting.done()  # waiting for the block
        starting.cancel()
        await asyncio.wait([starting])
        try:
            gate.set()
            assert (await service.init_producer_id(None, 60_000)).error == E.COORDINATOR_LOAD_IN_PROGRESS
            await settle(lambda: fakes.next_block >= 10)
            assert await service.init_producer_id(None, 60_000) == InitProducerIdResult(E.NO_ERROR, 0, 0)
        finally:
            await service.stop()
        fresh = TransactionCoordinatorService(
            TransactionConfig(),
            fakes.clock,
            fakes.memory,
            fakes.write_markers,
            fakes.allocate,
            sleep=fakes.sleep,
        )
        await fresh.start(wait_for_ids=True)
        try:
            assert await fresh.init_producer_id(None, 60_000) == InitProducerIdResult(E.NO_ERROR, 10, 0)
        finally:
            await fresh.stop()

    asyncio.run(main())
