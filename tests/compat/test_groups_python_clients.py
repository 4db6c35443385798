"""Classic consumer groups with kafka-python and aiokafka: their assignors' exact shares, a member
leaving, and commits that the next member of the group resumes from."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from compat_clients import KAFKA_PYTHON_WARNINGS, aiokafka, kafka
from group_clients import SESSION_MS, committed, create_topic, produce_values

pytestmark = [pytest.mark.compat, KAFKA_PYTHON_WARNINGS]

FRESH = [[0, 3], [1, 4], [2, 5]]
"""Round robin and sticky, members c0, c1, c2 joining together over six partitions."""
EXPECTED = {"range": [[0, 1], [2, 3], [4, 5]], "roundrobin": FRESH, "sticky": FRESH}


def kafka_python_assignor(name: str) -> Any:
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    from kafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor

    return {
        "range": RangePartitionAssignor,
        "roundrobin": RoundRobinPartitionAssignor,
        "sticky": StickyPartitionAssignor,
    }[name]


def aiokafka_assignor(name: str) -> Any:
    from aiokafka.coordinator.assignors.range import RangePartitionAssignor
    from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor

    return {
        "range": RangePartitionAssignor,
        "roundrobin": RoundRobinPartitionAssignor,
        "sticky": StickyPartitionAssignor,
    }[name]


class KafkaPythonMember:
    """A kafka-python consumer polling in its own thread, as applications run it.

    kafka-python only completes a rebalance inside ``poll``: a JoinGroup answered after a poll
    timed out is thrown away and sent again, which from the group leader starts yet another
    rebalance. Several consumers polled in turn from one thread with short timeouts can thus keep
    a group rebalancing; one thread each with a long poll cannot.
    """

    def __init__(self, bootstrap: str, topic: str, group: str, client_id: str, assignor: str) -> None:
        self.consumer = kafka.KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id=client_id,
            partition_assignment_strategy=[kafka_python_assignor(assignor)],
            session_timeout_ms=SESSION_MS,
            heartbeat_interval_ms=500,
        )
        self.owned: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.consumer.poll(timeout_ms=2000)
                self.owned = sorted(tp.partition for tp in self.consumer.assignment())
        finally:
            self.consumer.close()  # LeaveGroup

    def close(self) -> None:
        self._stop.set()
        self._thread.join(20)


def close_all(members: list[KafkaPythonMember]) -> None:
    for m in members:
        m._stop.set()  # all at once: each finishes its current poll first
    for m in members:
        m.close()


def wait_for(members: list[KafkaPythonMember], sizes: list[int], timeout: float = 20) -> float:
    started = time.monotonic()
    while sorted(len(m.owned) for m in members) != sizes:
        assert time.monotonic() - started < timeout, [m.owned for m in members]
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.mark.parametrize("assignor", sorted(EXPECTED))
def test_kafka_python_members_share_six_partitions(
    group_bootstrap: str, topic_name: str, assignor: str
) -> None:
    create_topic(group_bootstrap, topic_name, 6)
    group = f"g-{topic_name}"
    members = [KafkaPythonMember(group_bootstrap, topic_name, group, f"c{i}", assignor) for i in range(3)]
    try:
        wait_for(members, [2, 2, 2])
        assert [m.owned for m in members] == EXPECTED[assignor]
        members.pop().close()
        took = wait_for(members, [3, 3])
        assert took < SESSION_MS / 1000
        assert sorted(p for m in members for p in m.owned) == list(range(6))
    finally:
        close_all(members)


def test_kafka_python_commits_are_resumed_by_the_next_member(group_bootstrap: str, topic_name: str) -> None:
    create_topic(group_bootstrap, topic_name, 1)
    produce_values(group_bootstrap, topic_name, [b"v%d" % i for i in range(8)], partition=0)
    group = f"g-{topic_name}"

    def consume(count: int) -> list[int]:
        consumer = kafka.KafkaConsumer(
            topic_name,
            bootstrap_servers=group_bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            session_timeout_ms=SESSION_MS,
            heartbeat_interval_ms=500,
        )
        offsets: list[int] = []
        try:
            deadline = time.monotonic() + 20
            while len(offsets) < count:
                assert time.monotonic() < deadline
                for records in consumer.poll(timeout_ms=200, max_records=count - len(offsets)).values():
                    offsets += [r.offset for r in records]
            consumer.commit()
        finally:
            consumer.close()
        return offsets

    assert consume(3) == [0, 1, 2]
    assert committed(group_bootstrap, group, topic_name, 1) == [3]
    assert consume(5) == [3, 4, 5, 6, 7]
    assert committed(group_bootstrap, group, topic_name, 1) == [8]


@pytest.mark.parametrize("assignor", sorted(EXPECTED))
def test_aiokafka_members_share_six_partitions_and_commit(
    group_bootstrap: str, topic_name: str, assignor: str
) -> None:
    create_topic(group_bootstrap, topic_name, 6)
    group = f"g-{topic_name}"

    async def run() -> list[list[int]]:
        members = [
            aiokafka.AIOKafkaConsumer(
                topic_name,
                bootstrap_servers=group_bootstrap,
                group_id=group,
                client_id=f"c{i}",
                partition_assignment_strategy=[aiokafka_assignor(assignor)],
                session_timeout_ms=SESSION_MS,
                heartbeat_interval_ms=500,
                enable_auto_commit=False,
            )
            for i in range(3)
        ]
        try:
            await asyncio.gather(*(m.start() for m in members))
            deadline = time.monotonic() + 20
            while sorted(len(m.assignment()) for m in members) != [2, 2, 2]:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            layout = [sorted(tp.partition for tp in m.assignment()) for m in members]
            for m in members:  # each commits offset 10 + partition for what it owns
                await m.commit({tp: 10 + tp.partition for tp in m.assignment()})
            return layout
        finally:
            await asyncio.gather(*(m.stop() for m in members))

    assert asyncio.run(run()) == EXPECTED[assignor]
    assert committed(group_bootstrap, group, topic_name, 6) == [10, 11, 12, 13, 14, 15]
