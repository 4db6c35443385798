"""Committed offsets and group metadata survive broker restarts (SIGTERM and kill -9); a
consume-transform-commit loop resumes after a crash with no loss and no duplicate before its last commit."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from group_clients import (
    GROUP_BROKER,
    QUICK,
    committed,
    create_topic,
    member,
    owned,
    poll_until,
    produce_values,
)

from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat


def read(consumer: Consumer, count: int, timeout: float = 20) -> list[tuple[int, int, bytes]]:
    """`count` records as (partition, offset, value), polling the group member."""
    out: list[tuple[int, int, bytes]] = []
    poll_until([], lambda: _take(consumer, out, count), timeout, f"{count} records")
    return out


def _take(consumer: Consumer, out: list[tuple[int, int, bytes]], count: int) -> bool:
    if len(out) < count:
        message = consumer.poll(0.1)
        if message is not None and message.error() is None:
            out.append((message.partition(), message.offset(), message.value() or b""))
    return len(out) >= count


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "kill-9"])
def test_committed_offsets_survive_a_restart(
    broker_factory: Callable[..., BrokerProcess], topic_name: str, kill: bool
) -> None:
    broker = broker_factory(GROUP_BROKER)
    bootstrap = broker.bootstrap
    group = f"g-{topic_name}"
    create_topic(bootstrap, topic_name, 2)
    produce_values(bootstrap, topic_name, [b"a%d" % i for i in range(10)], partition=0)
    produce_values(bootstrap, topic_name, [b"b%d" % i for i in range(6)], partition=1)
    consumer = member(bootstrap, group, "c0", **QUICK, **{"enable.auto.commit": False})
    consumer.subscribe([topic_name])
    poll_until([consumer], lambda: owned(consumer) == [0, 1])
    consumer.commit(
        offsets=[TopicPartition(topic_name, 0, 4), TopicPartition(topic_name, 1, 3)], asynchronous=False
    )
    consumer.close()
    assert committed(bootstrap, group, topic_name, 2) == [4, 3]

    broker.restart(kill=kill)
    assert committed(bootstrap, group, topic_name, 2) == [4, 3]
    resumed = member(bootstrap, group, "c1", **QUICK, **{"enable.auto.commit": False})
    try:
        resumed.subscribe([topic_name])
        got = sorted(read(resumed, 9))
        assert got == [(0, o, b"a%d" % o) for o in range(4, 10)] + [(1, o, b"b%d" % o) for o in range(3, 6)]
    finally:
        resumed.close()


def test_a_consume_transform_loop_resumes_at_its_last_commit(
    broker_factory: Callable[..., BrokerProcess], topic_name: str
) -> None:
    """Copy `in` to `out` upper-cased, committing every 10 records; the loop and then the broker
    crash mid-batch; a new loop finishes. Every input arrives; only records after the last commit
    are copied twice."""
    broker = broker_factory(GROUP_BROKER)
    bootstrap = broker.bootstrap
    source, sink, group = f"{topic_name}-in", f"{topic_name}-out", f"g-{topic_name}"
    create_topic(bootstrap, source, 1)
    create_topic(bootstrap, sink, 1)
    produce_values(bootstrap, source, [b"r%02d" % i for i in range(60)], partition=0)

    def run_loop(stop_after: int | None) -> None:
        """Copy until `stop_after` records (a crash: no commit for the rest) or the last input."""
        consumer = member(bootstrap, group, "transformer", **QUICK, **{"enable.auto.commit": False})
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        consumer.subscribe([source])
        copied, last = 0, -1
        deadline = time.monotonic() + 20
        try:
            while last < 59 and copied != stop_after:
                assert time.monotonic() < deadline, f"stuck after offset {last}"
                message = consumer.poll(0.2)
                if message is None:
                    continue
                assert message.error() is None, message.error()
                producer.produce(sink, value=(message.value() or b"").upper(), partition=0)
                copied, last = copied + 1, message.offset()
                if (last + 1) % 10 == 0:
                    assert producer.flush(10) == 0  # outputs first, then the commit that covers them
                    consumer.commit(message=message, asynchronous=False)
            assert producer.flush(10) == 0
        finally:
            consumer.close()  # auto commit is off: nothing after the last commit is committed

    run_loop(stop_after=35)  # crashes after 35 records: committed up to 30
    assert committed(bootstrap, group, source, 1) == [30]
    broker.restart(kill=True)
    run_loop(stop_after=None)  # resumes at 30
    assert committed(bootstrap, group, source, 1) == [60]
    check = member(bootstrap, f"{group}-check", "check")
    try:
        check.assign([TopicPartition(sink, 0, 0)])
        values = [value for _, _, value in read(check, 65)]
    finally:
        check.close()
    expected = [b"R%02d" % i for i in range(35)] + [b"R%02d" % i for i in range(30, 60)]
    assert values == expected
