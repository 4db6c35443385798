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
    """Each key has at most one heap entry that counts (`_queued`). Moving a key's deadline later
    (a session timeout pushed back by every heartbeat and offset commit) only updates `_live`: the
    entry stays where it is and, when it surfaces, moves to the live deadline. Moving it earlier
    pushes a new entry; the old one is dropped when it surfaces."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, K]] = []
        self._live: dict[K, tuple[int, int, object]] = {}
        self._queued: dict[K, tuple[int, int]] = {}
        """key -> (deadline, sequence number) of its heap entry; never later than its live deadline."""
        self._seq = 0

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: object) -> bool:
        return key in self._live

    def schedule(self, key: K, deadline_ms: int, data: object = None) -> None:
        self._seq += 1
        seq = self._seq
        self._live[key] = (deadline_ms, seq, data)
        queued = self._queued.get(key)
        if queued is not None and queued[0] <= deadline_ms:
            return  # its entry surfaces no later than needed, and moves then
        self._queued[key] = (deadline_ms, seq)
        heapq.heappush(self._heap, (deadline_ms, seq, key))

    def cancel(self, key: K) -> None:
        # The heap entry stays and is dropped when it surfaces (its key is no longer live).
        self._live.pop(key, None)

    def deadline(self, key: K) -> int | None:
        entry = self._live.get(key)
        return None if entry is None else entry[0]

    def keys(self) -> list[K]:
        return list(self._live)

    def next_deadline(self) -> int | None:
        self._settle_top()
        return self._heap[0][0] if self._heap else None

    def deadline_bound(self) -> int | None:
        """No later than `next_deadline` (None only when there are no timers), without settling the
        heap: a timer pushed back (a member's heartbeat, on every commit) still counts at the deadline
        its heap entry has."""
        heap = self._heap
        return heap[0][0] if heap else None

    def expire(self, now_ms: int) -> list[Expired[K]]:
        out: list[Expired[K]] = []
        while True:
            self._settle_top()
            if not self._heap or self._heap[0][0] > now_ms:
                return out
            deadline, _, key = heapq.heappop(self._heap)
            del self._queued[key]
            data = self._live.pop(key)[2]
            out.append(Expired(key, deadline, data))

    def _settle_top(self) -> None:
        """Make the top entry a live timer at its live deadline (or empty the heap): drop stale
        and cancelled entries, move those whose deadline was pushed back."""
        heap, queued, live = self._heap, self._queued, self._live
        while heap:
            _, seq, key = heap[0]
            entry = queued.get(key)
            if entry is None or entry[1] != seq:
                heapq.heappop(heap)  # superseded by an earlier entry of its key
                continue
            timer = live.get(key)
            if timer is None:
                heapq.heappop(heap)  # cancelled
                del queued[key]
                continue
            if timer[1] == seq:
                return
            heapq.heapreplace(heap, (timer[0], timer[1], key))  # pushed back: move it
            queued[key] = (timer[0], timer[1])
