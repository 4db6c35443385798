"""The stream thread's poll: records librdkafka already holds are taken without waiting; with none
held it waits for the first only (librdkafka's batch consume would wait for a full batch)."""

from __future__ import annotations

from typing import Any

from odradek.streams.runtime.stream_thread import poll_batch


class FakeConsumer:
    def __init__(self, queued: list[int], arriving: list[int]) -> None:
        self.queued = queued
        self.arriving = arriving
        self.calls: list[tuple[int, float]] = []

    def consume(self, num_messages: int, timeout: float) -> list[Any]:
        self.calls.append((num_messages, timeout))
        if not self.queued and timeout > 0:
            self.queued, self.arriving = self.arriving, []
        taken, self.queued = self.queued[:num_messages], self.queued[num_messages:]
        return taken


def test_queued_records_are_taken_without_waiting() -> None:
    consumer = FakeConsumer(list(range(7)), [])
    assert poll_batch(consumer, 5, 0.1) == [0, 1, 2, 3, 4]
    assert consumer.calls == [(5, 0)]
    assert poll_batch(consumer, 5, 0.1) == [5, 6]
    assert consumer.calls[-1] == (5, 0)


def test_with_nothing_queued_it_waits_for_the_first_record_only() -> None:
    consumer = FakeConsumer([], [10, 11, 12])
    assert poll_batch(consumer, 1000, 0.1) == [10, 11, 12]
    assert consumer.calls == [(1000, 0), (1, 0.1), (999, 0)]


def test_nothing_arriving_returns_nothing_after_the_timeout() -> None:
    consumer = FakeConsumer([], [])
    assert poll_batch(consumer, 1000, 0.1) == []
    assert consumer.calls == [(1000, 0), (1, 0.1)]
