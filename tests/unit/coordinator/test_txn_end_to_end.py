"""The coordinator service and a partition's producer state and `.txnindex`, wired the way the broker
will wire them (single node): real batch bytes, markers written as control batches, no sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from odradek.coordinator.transaction.config import TransactionConfig
from odradek.coordinator.transaction.producer_ids import ProducerIdBlock
from odradek.coordinator.transaction.records import decode_record
from odradek.coordinator.transaction.results import MarkerToWrite
from odradek.coordinator.transaction.service import TransactionCoordinatorService
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import (
    CONTROL_ABORT,
    CONTROL_COMMIT,
    BatchSpec,
    build_batch,
    build_control_batch,
    read_header,
    validate_batches,
)
from odradek.storage.producer_snapshot import read_marker
from odradek.storage.producer_state import AppendOrigin, ProducerStateManager, VerdictKind
from odradek.storage.txn_index import AbortedTxn, TransactionIndex, collect_aborted, txn_index_path
from odradek.testing.clock import FakeClock
from odradek.testing.coordinator_log import MemoryCoordinatorLog

TP = TopicPartition("orders", 0)


class Partition:
    """A single-segment partition: producer state, `.txnindex`, and a high watermark equal to the LEO."""

    def __init__(self, directory: Path) -> None:
        self.state = ProducerStateManager()
        self.index = TransactionIndex(txn_index_path(directory, 0))
        self.leo = 0

    def produce(self, data: bytes) -> tuple[ErrorCode, int]:
        headers = validate_batches(data)
        verdict = self.state.check_and_prepare(headers, AppendOrigin.CLIENT)
        if verdict.kind is VerdictKind.DUPLICATE:
            assert verdict.duplicate is not None
            return ErrorCode.NO_ERROR, verdict.duplicate.first_offset
        if not verdict.accepted:
            return verdict.error, -1
        first = self.leo
        self.state.on_append_all(headers, first)
        self.leo += sum(h.last_offset_delta + 1 for h in headers)
        self.state.on_high_watermark_updated(self.leo)
        return ErrorCode.NO_ERROR, first

    def write_marker(self, marker: MarkerToWrite, now_ms: int) -> ErrorCode:
        control = CONTROL_COMMIT if marker.committed else CONTROL_ABORT
        data = build_control_batch(
            control, marker.producer_id, marker.producer_epoch, marker.coordinator_epoch, now_ms
        )
        header = read_header(data)
        end_marker = read_marker(data, header)
        assert end_marker is not None
        verdict = self.state.check_marker(marker.producer_id, marker.producer_epoch, end_marker)
        if not verdict.accepted:
            return verdict.error
        done = self.state.on_append(header, self.leo, end_marker)
        self.leo += 1
        self.state.on_high_watermark_updated(self.leo)
        if done is not None and done.is_aborted:
            self.index.append(AbortedTxn.of(done))
        return ErrorCode.NO_ERROR


def data_batch(pid: int, epoch: int, seq: int, n: int, ts: int) -> bytes:
    spec = BatchSpec(producer_id=pid, producer_epoch=epoch, base_sequence=seq, is_transactional=True)
    return build_batch([(b"k", b"v%d" % i, [], ts) for i in range(n)], spec)


def test_abort_then_commit_through_the_partition(tmp_path: Path):
    clock = FakeClock()
    partition = Partition(tmp_path)
    memory = MemoryCoordinatorLog()

    async def write_markers(marker: MarkerToWrite) -> Mapping[TopicPartition, ErrorCode]:
        return {tp: partition.write_marker(marker, clock.now_ms()) for tp in marker.partitions}

    async def allocate() -> ProducerIdBlock:
        return ProducerIdBlock(4000)

    async def main() -> None:
        service = TransactionCoordinatorService(TransactionConfig(), clock, memory, write_markers, allocate)
        await service.start()
        for p in range(50):
            await service.load(p, 0, [])
        for _ in range(5):
            await asyncio.sleep(0)
        init = await service.init_producer_id("app", 60_000)
        pid, epoch = init.producer_id, init.producer_epoch
        assert (init.error, pid, epoch) == (ErrorCode.NO_ERROR, 4000, 0)
        # KIP-890 part 1: the first transactional write is verified with the coordinator
        first = data_batch(pid, epoch, 0, 3, clock.now_ms())
        assert partition.state.needs_verification(read_header(first))
        assert service.verify_partitions("app", pid, epoch, [TP]) == {TP: ErrorCode.TRANSACTION_ABORTABLE}
        assert await service.add_partitions("app", pid, epoch, [TP]) is ErrorCode.NO_ERROR
        assert service.verify_partitions("app", pid, epoch, [TP]) == {TP: ErrorCode.NO_ERROR}
        assert partition.produce(first) == (ErrorCode.NO_ERROR, 0)  # offsets 0..2
        assert partition.produce(first) == (ErrorCode.NO_ERROR, 0)  # a retry: the original offsets
        assert partition.state.last_stable_offset(partition.leo) == 0
        assert (await service.end_txn("app", pid, epoch, committed=False)).error is ErrorCode.NO_ERROR
        for _ in range(20):
            await asyncio.sleep(0)
        assert partition.leo == 4  # the ABORT marker at 3
        assert partition.state.last_stable_offset(partition.leo) == 4
        assert collect_aborted([partition.index], 0, 4) == [AbortedTxn(pid, 0, 3, 4)]
        # the next transaction commits; the aborted one stays in the index
        assert await service.add_partitions("app", pid, epoch, [TP]) is ErrorCode.NO_ERROR
        assert partition.produce(data_batch(pid, epoch, 3, 2, clock.now_ms())) == (ErrorCode.NO_ERROR, 4)
        assert (await service.end_txn("app", pid, epoch, committed=True)).error is ErrorCode.NO_ERROR
        for _ in range(20):
            await asyncio.sleep(0)
        assert partition.leo == 7 and partition.state.last_stable_offset(7) == 7
        assert collect_aborted([partition.index], 4, 7) == []
        # a new producer instance fences the old one on the partition too
        assert await service.add_partitions("app", pid, epoch, [TP]) is ErrorCode.NO_ERROR
        assert partition.produce(data_batch(pid, epoch, 5, 1, clock.now_ms()))[0] is ErrorCode.NO_ERROR
        assert (await service.init_producer_id("app", 60_000)).error is ErrorCode.CONCURRENT_TRANSACTIONS
        for _ in range(20):
            await asyncio.sleep(0)
        assert collect_aborted([partition.index], 7, 100) == [AbortedTxn(pid, 7, 8, 9)]
        zombie = partition.produce(data_batch(pid, epoch, 6, 1, clock.now_ms()))
        assert zombie == (ErrorCode.INVALID_PRODUCER_EPOCH, -1)
        await service.stop()

    asyncio.run(main())
    log = [decode_record(k, v) for p in range(50) for k, v in memory.key_values(p)]
    assert [r.value.state.state_name for r in log if r and r.value] == [
        "Empty",
        "Ongoing",
        "PrepareAbort",
        "CompleteAbort",
        "Ongoing",
        "PrepareCommit",
        "CompleteCommit",
        "Ongoing",
        "PrepareAbort",
        "CompleteAbort",
    ]
