"""A pure set of timers keyed by name: schedule, cancel, and collect the expired ones at ``now``.

Shards keep their timeouts here (session timeouts, rebalance timeouts, the initial rebalance delay,
KIP-848 member timeouts, the offsets retention check). Scheduling a key that is already scheduled
replaces it, as Kafka's coordinator timer does. The runtime asks `next_deadline` when to wake up and
calls the shard, which calls `expire`; nothing here reads a clock.

Each timer may carry a small ``data`` value (e.g. the member epoch a rebalance timeout was set for).
Expired timers come out in deadline order, ties in scheduling order.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Expired(Generic[K]):
    key: K
    deadline_ms: int
    data: object


class TimerSet(Generic[K]):
    def __init__(self) -> None:
        self._heap: list[tuple[int, int, K]] = []
        self._live: dict[K, tuple[int, int, object]] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: object) -> bool:
        return key in self._live

    def schedule(self, key: K, deadline_ms: int, data: object = None) -> None:
        self._seq += 1
        self._live[key] = (deadline_ms, self._seq, data)
        heapq.heappush(self._heap, (deadline_ms, self._seq, key))

    def cancel(self, key: K) -> None:
        # The heap entry stays and is skipped when it surfaces (its sequence number no longer matches).
        self._live.pop(key, None)

    def deadline(self, key: K) -> int | None:
        entry = self._live.get(key)
        return None if entry is None else entry[0]

    def keys(self) -> list[K]:
        return list(self._live)

    def next_deadline(self) -> int | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def expire(self, now_ms: int) -> list[Expired[K]]:
        out: list[Expired[K]] = []
        while True:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now_ms:
                return out
            deadline, _, key = heapq.heappop(self._heap)
            data = self._live.pop(key)[2]
            out.append(Expired(key, deadline, data))

    def _drop_stale(self) -> None:
        heap = self._heap
        while heap:
            _, seq, key = heap[0]
            live = self._live.get(key)
            if live is not None and live[1] == seq:
                return
            heapq.heappop(heap)
