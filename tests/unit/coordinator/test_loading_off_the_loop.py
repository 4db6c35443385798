"""Coordinator partitions load in worker threads, several at once: the event loop keeps serving while a
partition replays, and requests for it get COORDINATOR_LOAD_IN_PROGRESS until it is loaded."""

from __future__ import annotations

import asyncio
import random
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from odradek.broker.coordinator_loader import entries_of, load_in_parallel
from odradek.coordinator.context import RequestContext
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.coordinator.group.service import GroupCoordinatorService
from odradek.coordinator.group.topics import StaticTopics
from odradek.coordinator.shard import LogEntry
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.messages import offset_commit as oc
from odradek.protocol.messages import offset_fetch as of
from odradek.protocol.records import LOG_OVERHEAD, BatchSpec, build_batch, iter_headers, validate_batches
from odradek.replication.partition import Partition
from odradek.storage.log_config import LogConfig
from odradek.storage.partition_log import PartitionLog
from odradek.testing.clock import FakeClock
from odradek.testing.coordinator_log import MemoryCoordinatorLog

V9 = RequestContext("client", "/127.0.0.1", 9)
WAIT_S = 10.0


def commit_request(group: str, offset: int) -> oc.OffsetCommitRequest:
    partition = oc.OffsetCommitRequestPartition(partition_index=0, committed_offset=offset)
    return oc.OffsetCommitRequest(
        group_id=group, topics=[oc.OffsetCommitRequestTopic(name="t", partitions=[partition])]
    )


def fetch_request(group: str) -> of.OffsetFetchRequest:
    topic = of.OffsetFetchRequestTopics(name="t", partition_indexes=[0])
    return of.OffsetFetchRequest(groups=[of.OffsetFetchRequestGroup(group_id=group, topics=[topic])])


def new_service(log: MemoryCoordinatorLog) -> GroupCoordinatorService:
    config = GroupCoordinatorConfig(offsets_topic_num_partitions=1)
    return GroupCoordinatorService.create(FakeClock(), log, StaticTopics(), config, random.Random(1))


def test_a_partition_replays_in_a_thread_while_the_loop_serves() -> None:
    async def scenario() -> None:
        log = MemoryCoordinatorLog()
        writer = new_service(log)
        await writer.load(0, 0, log.entries(0), log.log_end(0))
        for offset in range(5):
            await writer.offset_commit(V9, commit_request("g", offset))
        written = list(log.entries(0))

        loop_ran = threading.Event()
        replay_threads: set[int] = set()

        def blocking_entries() -> Iterator[tuple[int, LogEntry]]:
            for i, entry in enumerate(written):
                replay_threads.add(threading.get_ident())
                if i == 1:  # half-way: the loop must be free to run a callback now
                    assert loop_ran.wait(WAIT_S), "the event loop was blocked by the replay"
                yield entry

        reader = new_service(log)
        load = asyncio.create_task(reader.load(0, 0, blocking_entries(), log.log_end(0), in_thread=True))
        await asyncio.sleep(0)
        busy = await reader.offset_fetch(V9, fetch_request("g"))  # answered while loading
        assert busy.groups[0].error_code == ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
        loop_ran.set()
        await asyncio.wait_for(load, WAIT_S)
        assert threading.get_ident() not in replay_threads
        fetched = await reader.offset_fetch(V9, fetch_request("g"))
        assert fetched.groups[0].topics[0].partitions[0].committed_offset == 4

    asyncio.run(scenario())


def commit_log(directory: Path, tp: TopicPartition, batches: int) -> PartitionLog:
    log = PartitionLog.create(directory, tp, uuid.UUID(int=5), LogConfig(segment_bytes=4096), now_ms=0)
    for i in range(batches):
        buf = bytearray(build_batch([(b"k%d" % i, b"v" * 100, [], 0)], BatchSpec()))
        log.append(buf, validate_batches(buf), 0, 0)
    log.high_watermark = log.log_end_offset
    return log


def test_partitions_load_several_at_once_each_from_a_reader_of_its_own(tmp_path: Path) -> None:
    tps = [TopicPartition("__consumer_offsets", i) for i in range(4)]
    logs = [commit_log(tmp_path / f"p{i}", tp, 20 + i) for i, tp in enumerate(tps)]
    together = threading.Barrier(len(tps), timeout=WAIT_S)  # passes only if all four replay at once
    seen: dict[int, list[int]] = {}

    async def load(index: int, epoch: int, entries: Iterator[tuple[int, LogEntry]], end: int) -> None:
        def replay() -> None:
            together.wait()
            seen[index] = [offset for offset, _ in entries]
            assert end == logs[index].log_end_offset and epoch == 7

        await asyncio.to_thread(replay)

    partitions = [
        (i, cast(Partition, SimpleNamespace(log=log, tp=log.tp, leader_epoch=7)))
        for i, log in enumerate(logs)
    ]
    assert asyncio.run(load_in_parallel(load, partitions, workers=len(tps)))
    assert seen == {i: list(range(20 + i)) for i in range(len(tps))}
    for log in logs:
        log.close()


def test_a_partition_that_cannot_be_read_fails_the_load_and_the_others_still_load(tmp_path: Path) -> None:
    good = commit_log(tmp_path / "good", TopicPartition("__consumer_offsets", 0), 3)
    bad = commit_log(tmp_path / "bad", TopicPartition("__consumer_offsets", 1), 3)
    bad.close()  # reader() raises: the log is closed
    loaded: list[int] = []

    async def load(index: int, epoch: int, entries: Iterator[tuple[int, LogEntry]], end: int) -> None:
        loaded.append(len(list(entries)))

    partitions: list[tuple[int, Any]] = [
        (0, SimpleNamespace(log=good, tp=good.tp, leader_epoch=0)),
        (1, SimpleNamespace(log=bad, tp=bad.tp, leader_epoch=0)),
    ]
    assert not asyncio.run(load_in_parallel(load, partitions))
    assert loaded == [3]
    good.close()


def test_entries_from_a_reader_match_the_log_and_survive_a_roll(tmp_path: Path) -> None:
    log = commit_log(tmp_path / "p", TopicPartition("__consumer_offsets", 0), 60)
    assert len(log.segments) > 1
    reader = log.reader()
    buf = bytearray(build_batch([(b"late", b"x", [], 0)], BatchSpec()))
    log.append(buf, validate_batches(buf), 0, 0)  # after the reader was made: not read
    log.roll(0)
    offsets = [offset for offset, _ in entries_of(reader, log.tp)]
    reader.close()
    assert offsets == list(range(60))
    log.close()


def test_the_reader_returns_whole_batches_even_larger_than_a_chunk(tmp_path: Path) -> None:
    log = PartitionLog.create(
        tmp_path / "p", TopicPartition("t", 0), uuid.UUID(int=5), LogConfig(segment_bytes=4096), now_ms=0
    )
    raws = []
    for size in (10, 3000, 20, 20, 900, 5):
        buf = bytearray(build_batch([(b"k", b"v" * size, [], 0)], BatchSpec()))
        log.append(buf, validate_batches(buf), 0, 0)
        raws.append(bytes(buf))
    with log.reader() as reader:
        chunks = list(reader.chunks(chunk_bytes=512))
    assert b"".join(chunks) == b"".join(raws)
    for chunk in chunks:  # whole batches only: the sizes they announce add up to the chunk
        assert sum(h.batch_length + LOG_OVERHEAD for _, h in iter_headers(chunk)) == len(chunk)
    big = next(raw for raw in raws if len(raw) > 3000)
    assert big in chunks  # alone in its chunk, whole
    log.close()


def test_a_cancelled_load_leaves_the_partition_to_be_loaded_again() -> None:
    async def scenario() -> None:
        log = MemoryCoordinatorLog()
        writer = new_service(log)
        await writer.load(0, 0, log.entries(0), log.log_end(0))
        await writer.offset_commit(V9, commit_request("g", 7))
        written = list(log.entries(0))
        release = threading.Event()

        def slow_entries() -> Iterator[tuple[int, LogEntry]]:
            release.wait(WAIT_S)
            yield from written

        reader = new_service(log)
        load = asyncio.create_task(reader.load(0, 0, slow_entries(), log.log_end(0), in_thread=True))
        await asyncio.sleep(0.05)
        load.cancel()
        await asyncio.wait([load])
        release.set()
        assert reader.runtime.partitions() == []  # not stuck "loading": the next load takes it
        await reader.load(0, 0, log.entries(0), log.log_end(0), in_thread=True)
        fetched = await reader.offset_fetch(V9, fetch_request("g"))
        assert fetched.groups[0].topics[0].partitions[0].committed_offset == 7

    asyncio.run(scenario())
