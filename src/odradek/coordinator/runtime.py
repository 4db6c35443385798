"""`CoordinatorRuntime`: the asyncio shell that drives coordinator shards (the only asyncio code here).

It owns one shard per loaded partition of the coordinator topic and, per shard, runs operations one
at a time under a lock: run the pure operation, append its records through the injected ``append``
(and wait until they are written, even if the requester goes away meanwhile), then answer. Deferred
requests get a `WaiterId` and wait on a future that a later result's completions resolve. One owned
task (`start`/`stop`) fires the shards' timers when due; an operation wakes it only when it made a
deadline sooner than the one the task waits for. `load` replays a partition's log into a fresh shard
(skipping, with a warning, records it cannot replay); `unload` drops it and fails its waiting
requests. When an append fails, or an operation raises, the shard's memory can no longer be trusted:
it is unloaded (the broker reloads it from the log) and the caller gets NOT_COORDINATOR.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from odradek.coordinator.result import Completion, CoordinatorResult, WaiterId
from odradek.coordinator.shard import CoordinatorShard, LogEntry, TransactionMarker
from odradek.model.clock import Clock
from odradek.model.errors import ErrorCode

log = logging.getLogger(__name__)

S = TypeVar("S", bound=CoordinatorShard)
R = TypeVar("R")
AppendFn = Callable[..., Awaitable[None] | None]
"""``append(partition, records)``, or ``append(partition, records, (producer_id, producer_epoch))`` for
the records of a producer's transaction (they go in one transactional batch of that producer). Returns
None when the records are already written, else an awaitable that completes (or fails) once they are."""


class CoordinatorNotAvailable(Exception):
    """This broker cannot serve the partition now (not loaded, or its state was just discarded)."""

    def __init__(self, code: ErrorCode) -> None:
        super().__init__(code.name)
        self.code = code


@dataclass(slots=True)
class _Partition(Generic[S]):
    shard: S
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiters: set[WaiterId] = field(default_factory=set)


class CoordinatorRuntime(Generic[S]):
    def __init__(self, clock: Clock, append: AppendFn, new_shard: Callable[[int], S]) -> None:
        self._clock = clock
        self._append = append
        self._new_shard = new_shard
        self._partitions: dict[int, _Partition[S]] = {}
        self._futures: dict[WaiterId, asyncio.Future[Any]] = {}
        self._last_waiter = 0
        self._wakeup = asyncio.Event()
        self._sleeping_until: int | None = None
        """The deadline the timer task waits for (None: no timer at all)."""
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run_timers(), name="coordinator-timers")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # asyncio.wait: our own caller's cancellation still propagates, the task's is not re-raised.
            await asyncio.wait([task])
            if not task.cancelled() and task.exception() is not None:
                log.error("coordinator timer task failed", exc_info=task.exception())
        for partition in list(self._partitions):
            self.unload(partition)

    def load(self, partition: int, entries: Iterable[LogEntry]) -> None:
        """Rebuild the partition's shard from its log (replacing any loaded one) and start serving it."""
        self.unload(partition)
        shard = self._new_shard(partition)
        skipped = 0
        for entry in entries:
            try:
                shard.replay(entry)
            except Exception:
                # A record this coordinator cannot read (another version's, or inconsistent) must not
                # keep every other group of the partition from loading.
                skipped += 1
                if skipped == 1:
                    log.warning("skipping an unreadable record of partition %d", partition, exc_info=True)
        if skipped:
            log.warning("skipped %d unreadable records of partition %d", skipped, partition)
        shard.on_loaded(self._clock.now_ms())
        self._partitions[partition] = _Partition(shard)
        self._wakeup.set()

    def unload(self, partition: int) -> None:
        p = self._partitions.pop(partition, None)
        if p is None:
            return
        for waiter in p.waiters:
            future = self._futures.pop(waiter, None)
            if future is not None and not future.done():
                future.set_exception(CoordinatorNotAvailable(ErrorCode.NOT_COORDINATOR))

    def partitions(self) -> list[int]:
        return sorted(self._partitions)

    def shard(self, partition: int) -> S:
        """The loaded shard (read-only use: tests, diagnostics)."""
        return self._get(partition).shard

    # -- operations ------------------------------------------------------------------------------

    async def write(self, partition: int, op: Callable[[S, int], CoordinatorResult[R]]) -> R:
        p = self._get(partition)
        async with p.lock:
            self._check_loaded(partition, p)
            result = self._run(partition, p, lambda: op(p.shard, self._clock.now_ms()))
            await self._commit(partition, p, result)
        if result.response is None:
            raise AssertionError("a non-deferred coordinator operation returned no response")
        return result.response

    async def write_deferred(
        self, partition: int, op: Callable[[S, WaiterId, int], CoordinatorResult[R]]
    ) -> R:
        p = self._get(partition)
        self._last_waiter += 1
        waiter = WaiterId(self._last_waiter)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._futures[waiter] = future
        p.waiters.add(waiter)
        try:
            async with p.lock:
                self._check_loaded(partition, p)
                result = self._run(partition, p, lambda: op(p.shard, waiter, self._clock.now_ms()))
                await self._commit(partition, p, result)
            if result.response is not None:
                return result.response
            response: R = await future
            return response
        finally:
            self._futures.pop(waiter, None)
            p.waiters.discard(waiter)

    async def read(self, partition: int, op: Callable[[S], R]) -> R:
        p = self._get(partition)
        async with p.lock:
            self._check_loaded(partition, p)
            return op(p.shard)

    async def replay_marker(self, partition: int, marker: TransactionMarker) -> None:
        """A transaction marker was just written to `partition`: apply it as loading would (the
        transaction's pending offsets become committed, or vanish). Nothing to do if the partition
        is not loaded: loading reads the marker from the log."""
        p = self._partitions.get(partition)
        if p is None:
            return
        async with p.lock:
            if self._partitions.get(partition) is not p:
                return
            try:
                p.shard.replay(marker)
            except Exception:
                log.exception(
                    "replaying a transaction marker failed on partition %d; unloading it", partition
                )
                self.unload(partition)

    async def fire_due_timers(self) -> None:
        """Run every shard's timers that are due now."""
        for partition, p in list(self._partitions.items()):
            deadline = p.shard.next_deadline()
            if deadline is None or deadline > self._clock.now_ms():
                continue
            async with p.lock:
                if self._partitions.get(partition) is not p:
                    continue
                with contextlib.suppress(CoordinatorNotAvailable):
                    result = self._run(
                        partition, p, functools.partial(p.shard.expire_timers, self._clock.now_ms())
                    )
                    await self._commit(partition, p, result)

    # -- internals -------------------------------------------------------------------------------

    def _get(self, partition: int) -> _Partition[S]:
        p = self._partitions.get(partition)
        if p is None:
            raise CoordinatorNotAvailable(ErrorCode.NOT_COORDINATOR)
        return p

    def _check_loaded(self, partition: int, p: _Partition[S]) -> None:
        if self._partitions.get(partition) is not p:
            raise CoordinatorNotAvailable(ErrorCode.NOT_COORDINATOR)

    def _run(
        self, partition: int, p: _Partition[S], op: Callable[[], CoordinatorResult[R]]
    ) -> CoordinatorResult[R]:
        try:
            return op()
        except CoordinatorNotAvailable:
            raise
        except Exception:
            log.exception("coordinator operation failed on partition %d; unloading it", partition)
            self.unload(partition)
            raise

    async def _commit(self, partition: int, p: _Partition[S], result: CoordinatorResult[Any]) -> None:
        if result.records:
            batch = [p.shard.encode(record) for record in result.records]
            if result.producer_id >= 0:
                appending = self._append(partition, batch, (result.producer_id, result.producer_epoch))
            else:
                appending = self._append(partition, batch)
            if appending is not None:
                await self._wait_for_append(partition, p, result, appending)
                return
        self._deliver(result.completions)
        self._wake_if_sooner(p)

    async def _wait_for_append(
        self, partition: int, p: _Partition[S], result: CoordinatorResult[Any], appending: Awaitable[None]
    ) -> None:
        append = asyncio.ensure_future(appending)
        cancelled = False
        # The state already includes these records: wait for the append even if our caller is
        # cancelled (asyncio.wait never cancels it), so the next operation cannot overtake it.
        while not append.done():
            try:
                await asyncio.wait([append])
            except asyncio.CancelledError:
                cancelled = True
        error = None if append.cancelled() else append.exception()
        if append.cancelled() or error is not None:
            log.warning("append to partition %d failed; unloading it", partition, exc_info=error)
            self.unload(partition)
            raise CoordinatorNotAvailable(ErrorCode.NOT_COORDINATOR)
        if cancelled:
            self._deliver(result.completions)
            self._wake_if_sooner(p)
            raise asyncio.CancelledError
        self._deliver(result.completions)
        self._wake_if_sooner(p)

    def _wake_if_sooner(self, p: _Partition[S]) -> None:
        # Waking the timer task costs a scan of every shard: only when this one now has a timer due
        # before the one the task sleeps until (most operations only push their timers later).
        deadline = p.shard.next_deadline()
        if deadline is not None and (self._sleeping_until is None or deadline < self._sleeping_until):
            self._wakeup.set()

    def _deliver(self, completions: list[Completion]) -> None:
        for completion in completions:
            future = self._futures.get(completion.waiter)
            if future is not None and not future.done():
                future.set_result(completion.response)

    def _next_deadline(self) -> int | None:
        deadlines = [d for p in self._partitions.values() if (d := p.shard.next_deadline()) is not None]
        return min(deadlines, default=None)

    async def _run_timers(self) -> None:
        while True:
            self._wakeup.clear()
            await self.fire_due_timers()
            deadline = self._sleeping_until = self._next_deadline()
            timeout = None if deadline is None else max(0.0, (deadline - self._clock.now_ms()) / 1000)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()
