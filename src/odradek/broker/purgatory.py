"""Requests that wait for something to happen on partitions (Kafka's DelayedOperationPurgatory).

A `DelayedOperation` names the keys it waits on (partitions) and says, in `try_complete`, whether
it can finish now. `Purgatory.try_complete_else_watch(op, timeout_ms)` tries it once; if it cannot
finish, the operation is watched under each of its keys until an event on one of them
(`check_and_complete(key)`, from a partition listener: the high watermark moved, the partition went
away) lets `try_complete` succeed, or its timeout expires (`on_expiration` then fills the answer,
e.g. REQUEST_TIMED_OUT). Either way `completed` resolves once, and the request's coroutine, which
awaited `op.wait()`, answers.

The operation that can finish at once never touches the event loop: no future, no timer, so a
request answerable now (an acks=all produce on a single node, whose high watermark moved during the
append) stays on the synchronous path. `try_complete` runs inside the event that triggers it (an
append's listener call), so it must be cheap and must not raise.

`DelayedProduce` (acks=all, completed by the high watermark) and `DelayedFetch` (long polling, woken
by the high watermark) are the two kinds today; follower fetches will be a third.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger("odradek.broker.purgatory")

K = TypeVar("K", bound=Hashable)


class DelayedOperation(Generic[K]):
    """Subclasses implement `watched_keys` and `try_complete` (and, if needed, `on_expiration`)."""

    __slots__ = ("_future", "_timer", "done")

    def __init__(self) -> None:
        self.done = False
        self._future: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def watched_keys(self) -> Sequence[K]:
        """What the operation waits on (asked only when it has to wait)."""
        raise NotImplementedError

    def try_complete(self) -> bool:
        """Can the operation finish now? If so, its answer is ready (called once more per event)."""
        raise NotImplementedError

    def on_expiration(self) -> None:
        """The timeout expired first: fill in the answer for what did not complete."""

    async def wait(self) -> None:
        """Until completed or expired (returns at once if already done).

        The future is awaited directly, not through `asyncio.shield`: a shield puts one more turn
        of the event loop between the completing event and the waiter (its callback completes an
        outer future, whose callback then wakes the task), and every wake-up of a replicated write
        (the followers' fetches, the produce, the consumer's fetch) would pay it. Nothing else
        awaits the future; if the waiter is cancelled, the future is cancelled with it and
        `_finish` leaves it so."""
        future = self._future
        if future is not None and not future.done():
            await future

    def _finish(self) -> None:
        self.done = True
        if self._timer is not None:
            self._timer.cancel()
        if self._future is not None and not self._future.done():
            self._future.set_result(None)


class Purgatory(Generic[K]):
    def __init__(self, name: str) -> None:
        self.name = name
        self.watchers: dict[K, dict[DelayedOperation[K], None]] = {}
        """key -> the operations watching it (read-only outside)."""

    def try_complete_else_watch(self, op: DelayedOperation[K], timeout_ms: int) -> bool:
        """True when `op` completed at once; else it is watched until an event or `timeout_ms`."""
        if op.try_complete():
            op.done = True
            return True
        loop = asyncio.get_running_loop()
        op._future = loop.create_future()
        for key in op.watched_keys():
            self.watchers.setdefault(key, {})[op] = None
        op._timer = loop.call_later(max(0, timeout_ms) / 1000, self._expire, op)
        return False

    def check_and_complete(self, key: K) -> int:
        """An event on `key`: complete every operation watching it that can finish now."""
        watching = self.watchers.get(key)
        if not watching:
            return 0
        completed = 0
        for op in list(watching):
            if op.done:
                continue
            try:
                ready = op.try_complete()
            except Exception:
                log.exception("%s: a delayed operation failed to check; completing it", self.name)
                ready = True
            if ready:
                self._complete(op)
                completed += 1
        return completed

    def watched(self) -> int:
        """How many operations wait now (for metrics and tests)."""
        return len({op for ops in self.watchers.values() for op in ops})

    def _complete(self, op: DelayedOperation[K]) -> None:
        self._unwatch(op)
        op._finish()

    def _expire(self, op: DelayedOperation[K]) -> None:
        if op.done:
            return
        try:
            op.on_expiration()
        finally:
            self._complete(op)

    def _unwatch(self, op: DelayedOperation[K]) -> None:
        for key in op.watched_keys():
            watching = self.watchers.get(key)
            if watching is not None:
                watching.pop(op, None)
                if not watching:
                    del self.watchers[key]
