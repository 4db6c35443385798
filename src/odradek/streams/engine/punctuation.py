"""Punctuation schedules of one task: a heap of (next time, schedule) per punctuation type.

A schedule first fires at `start + interval`; after firing at `t` it next fires at the first
`start + k * interval` after `t`, so a jump in time fires it once, not once per missed interval
(Kafka Streams' rule).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(order=True)
class Schedule:
    next_time: int
    seq: int
    interval: int = field(compare=False)
    callback: Callable[[int], None] = field(compare=False)
    node: str = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class PunctuationQueue:
    def __init__(self) -> None:
        self._heap: list[Schedule] = []
        self._seq = itertools.count()

    def schedule(self, start: int, interval: int, callback: Callable[[int], None], node: str) -> Schedule:
        if interval < 1:
            raise ValueError("a punctuation interval must be at least 1 ms")
        entry = Schedule(start + interval, next(self._seq), interval, callback, node)
        heapq.heappush(self._heap, entry)
        return entry

    def next_time(self) -> int | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].next_time if self._heap else None

    def due(self, now: int) -> list[Schedule]:
        """Pop the schedules due at `now` and push them back for their next time."""
        fired = []
        while self._heap and self._heap[0].next_time <= now:
            entry = heapq.heappop(self._heap)
            if entry.cancelled:
                continue
            fired.append(entry)
        for entry in fired:
            missed = (now - entry.next_time) // entry.interval + 1
            entry.next_time += missed * entry.interval
            entry.seq = next(self._seq)
            heapq.heappush(self._heap, entry)
        return fired

    def __len__(self) -> int:
        return sum(1 for e in self._heap if not e.cancelled)
