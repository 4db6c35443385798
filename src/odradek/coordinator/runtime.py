"""`CoordinatorRuntime`: the one asyncio shell of the group and transaction coordinators (Kafka's
CoordinatorRuntime shape).

It holds, per loaded partition of a coordinator topic, one pure shard and its `SnapshotRegistry`, and
writes through a `CoordinatorLog` port (`log.py`). The rules:

* **Write** (`write`, `write_deferred`): the operation runs at once on the shard (synchronously, so
  no lock: nothing else runs on the loop meanwhile) and applies its records to the state as it emits
  them; the records are appended to the partition, synchronously, and the changes are sealed into a
  snapshot ending at the records' end offset; then the runtime waits, holding nothing, until the
  partition's high watermark reaches that offset (and for the fsync when the topic asks for one).
  Only then is the answer sent, the completions of deferred requests delivered and the result's
  effects handed over. An operation without records is answered once every write before it is
  committed (its answer may depend on them). On a single node the high watermark moves inside the
  append, so a write is answered without a trip through the event loop.
  A transactional write (`write(..., verified=)`, TxnOffsetCommit) first checks that the
  transaction's KIP-890 verification still holds (the partition's guard), in that same step.
* **Read** (`read`): the operation sees only committed state (the registry's committed view), at
  once.
* **Failure**: when an append is refused, the operation's changes are undone (`revert_on_failure`
  shards) or the partition is unloaded (the others: its state can no longer be trusted; the owner
  loads it again). An operation that raises unloads the partition. Either way the caller gets
  `CoordinatorNotAvailable` with the coordinator's error for it (`map_error`).
* **Timers**: one owned task fires the shards' due timers (`fire_due_timers`), waking early only when
  an operation scheduled something sooner than it sleeps for.
* **Loading** (`load`): a separate step fed by the owner (sync or async iterable of
  `(offset, LogEntry)`, read from the log up to its end): entries below the high watermark are
  replayed as committed, the rest as one pending snapshot, so both coordinators load to the same
  offset and readers see only the committed part. Requests meanwhile get COORDINATOR_LOAD_IN_PROGRESS.
* **Background work** of the coordinator (marker writes, producer id blocks) runs in the runtime's
  TaskGroup (`spawn`), between `start()` and `stop()`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from odradek.coordinator.log import CoordinatorLog, CoordinatorLogError
from odradek.coordinator.result import Completion, CoordinatorResult, WaiterId
from odradek.coordinator.shard import CoordinatorShard, LogEntry, TransactionMarker
from odradek.coordinator.timeline import SnapshotRegistry, with_committed_view
from odradek.model.clock import Clock
from odradek.model.errors import ErrorCode

log = logging.getLogger(__name__)

S = TypeVar("S", bound=CoordinatorShard)
R = TypeVar("R")
NewShard = Callable[[int, int, SnapshotRegistry], S]
"""(partition, coordinator epoch, registry) -> an empty shard."""
Entries = Iterable[tuple[int, LogEntry]] | AsyncIterable[tuple[int, LogEntry]]
OnCommitted = Callable[[int, list[Any]], None]
BLOCKED_TIMER_RETRY_S = 0.1


class CoordinatorNotAvailable(Exception):
    """This broker cannot serve the partition now (not loaded, loading, or the write failed), or a
    transactional write's verification no longer holds (INVALID_TXN_STATE)."""

    def __init__(self, code: ErrorCode) -> None:
        super().__init__(code.name)
        self.code = code


def _not_coordinator(_: ErrorCode) -> ErrorCode:
    return ErrorCode.NOT_COORDINATOR


@dataclass(slots=True)
class _Commit:
    """What happens once the high watermark reaches `end_offset`."""

    end_offset: int
    result: CoordinatorResult[Any]
    future: asyncio.Future[None] | None
    durable: Awaitable[None] | None = None


@dataclass(slots=True)
class _Partition(Generic[S]):
    shard: S
    registry: SnapshotRegistry
    epoch: int
    loading: bool = True
    last_written: int = 0
    """End offset of everything appended (or loaded) so far."""
    committed: int = 0
    """The partition's high watermark, as last heard."""
    waiting: collections.deque[_Commit] = field(default_factory=collections.deque)
    waiters: set[WaiterId] = field(default_factory=set)
    unwatch: Callable[[], None] | None = None


class CoordinatorRuntime(Generic[S]):
    def __init__(
        self,
        clock: Clock,
        coordinator_log: CoordinatorLog,
        new_shard: NewShard[S],
        *,
        on_committed: OnCommitted | None = None,
        map_error: Callable[[ErrorCode], ErrorCode] = _not_coordinator,
        name: str = "coordinator",
    ) -> None:
        self._clock = clock
        self._log = coordinator_log
        self._new_shard = new_shard
        self._on_committed = on_committed
        self._map_error = map_error
        self._name = name
        self._partitions: dict[int, _Partition[S]] = {}
        self._futures: dict[WaiterId, asyncio.Future[Any]] = {}
        self._last_waiter = 0
        self._wakeup = asyncio.Event()
        self._sleeping_until: int | None = None
        """The deadline the timer task waits for (None: no timer at all)."""
        self._runner: asyncio.Task[None] | None = None
        self._group: asyncio.TaskGroup | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            return
        ready = asyncio.Event()
        self._runner = asyncio.create_task(self._run(ready), name=f"{self._name}-runtime")
        await ready.wait()

    async def _run(self, ready: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as group:
            self._group = group
            group.create_task(self._run_timers(), name=f"{self._name}-timers")
            ready.set()
            await asyncio.Event().wait()  # until stop() cancels us, and with us every child

    async def stop(self) -> None:
        """Stop the timers and background work, and unload every partition (waiting requests answer
        NOT_COORDINATOR)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            # asyncio.wait: our own caller's cancellation still propagates, the task's is not re-raised.
            await asyncio.wait([runner])
            if not runner.cancelled() and runner.exception() is not None:
                log.error("%s runtime failed", self._name, exc_info=runner.exception())
        self._group = None
        for partition in list(self._partitions):
            self.unload(partition)

    @property
    def started(self) -> bool:
        return self._group is not None

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run background work of this coordinator until it ends or the runtime stops."""
        if self._group is None:
            coro.close()
            raise RuntimeError(f"the {self._name} runtime is not started")
        self._group.create_task(self._logged(coro))

    async def sleep(self, seconds: float) -> None:
        """For background work that retries (the coordinator packages do not touch asyncio)."""
        await asyncio.sleep(seconds)

    async def _logged(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except Exception:
            log.exception("%s background work failed", self._name)

    # -- loading -------------------------------------------------------------------------------

    async def load(
        self, partition: int, epoch: int, entries: Entries, end_offset: int = 0, *, in_thread: bool = False
    ) -> None:
        """Become the coordinator of `partition` at `epoch`: replay its log (replacing any loaded
        shard), then serve it. `end_offset`: the log end the entries were read up to.

        `in_thread`: replay the (synchronous) entries in a worker thread, off the event loop. Nothing
        on the loop touches a shard while its partition is loading, so the thread has it alone; the
        entries must then be safe to read from that thread (`PartitionLog.reader`)."""
        self.unload(partition)
        registry = SnapshotRegistry()
        p = _Partition(self._new_shard(partition, epoch, registry), registry, epoch)
        self._partitions[partition] = p
        committed = self._log.high_watermark(partition)
        registry.tracking = False
        skipped = 0
        last = 0
        if in_thread and not isinstance(entries, AsyncIterable):
            try:
                skipped, last = await asyncio.to_thread(self._replay_all, partition, p, entries, committed)
            except asyncio.CancelledError:
                # The thread stops at its next check; the partition must not stay "loading" forever.
                if self._partitions.get(partition) is p:
                    self.unload(partition)
                raise
        elif isinstance(entries, AsyncIterable):
            async for offset, entry in entries:
                if self._partitions.get(partition) is not p:
                    return
                skipped += self._replay(partition, p, offset, entry, committed, skipped)
                last = offset + 1
        else:
            for offset, entry in entries:
                skipped += self._replay(partition, p, offset, entry, committed, skipped)
                last = offset + 1
        if self._partitions.get(partition) is not p:
            return  # unloaded or loaded again meanwhile
        if skipped:
            log.warning("skipped %d unreadable records of partition %d", skipped, partition)
        end = max(end_offset, last, committed)
        registry.tracking = True
        registry.seal(end)
        p.last_written = end
        p.loading = False
        try:
            result = p.shard.on_loaded(self._clock.now_ms())
        except Exception:
            log.exception("%s: finishing the load of partition %d failed", self._name, partition)
            self.unload(partition)
            raise
        p.committed = self._log.high_watermark(partition)
        if end > p.committed:
            self._watch(partition, p)  # the loaded tail is not committed yet
        if result.records:
            self._append(partition, p, result, answer=False)
        else:
            registry.settle()
            p.waiting.append(_Commit(end, result, None))
            self._on_high_watermark(partition, p, p.committed)
        self._wakeup.set()

    def _replay_all(
        self, partition: int, p: _Partition[S], entries: Iterable[tuple[int, LogEntry]], committed: int
    ) -> tuple[int, int]:
        """(skipped, end) after replaying every entry (in a worker thread: only `p` is touched)."""
        skipped = last = 0
        for offset, entry in entries:
            skipped += self._replay(partition, p, offset, entry, committed, skipped)
            last = offset + 1
            if not offset % 4096 and self._partitions.get(partition) is not p:
                break  # unloaded meanwhile
        return skipped, last

    def _replay(
        self, partition: int, p: _Partition[S], offset: int, entry: LogEntry, committed: int, skipped: int
    ) -> int:
        """Replay one entry; 1 if it was skipped (the first one skipped is logged with its traceback)."""
        if offset >= committed:
            p.registry.tracking = True  # the tail above the high watermark: one pending snapshot
        try:
            p.shard.replay(entry)
        except Exception:
            # A record this coordinator cannot read (another version's, or inconsistent) must not
            # keep every other group or transaction of the partition from loading.
            if not skipped:
                log.warning(
                    "skipping unreadable records of partition %d from %d", partition, offset, exc_info=True
                )
            return 1
        return 0

    def unload(self, partition: int) -> None:
        """Stop serving `partition`; requests waiting on it answer NOT_COORDINATOR."""
        p = self._partitions.pop(partition, None)
        if p is None:
            return
        if p.unwatch is not None:
            p.unwatch()
        failure = CoordinatorNotAvailable(ErrorCode.NOT_COORDINATOR)
        for commit in p.waiting:
            if commit.future is not None and not commit.future.done():
                commit.future.set_exception(failure)
        p.waiting.clear()
        for waiter in p.waiters:
            future = self._futures.pop(waiter, None)
            if future is not None and not future.done():
                future.set_exception(failure)

    def partitions(self) -> list[int]:
        """The partitions loaded (or loading)."""
        return sorted(self._partitions)

    def is_active(self, partition: int) -> bool:
        p = self._partitions.get(partition)
        return p is not None and not p.loading

    def epoch(self, partition: int) -> int | None:
        p = self._partitions.get(partition)
        return None if p is None else p.epoch

    def shard(self, partition: int) -> S:
        """The loaded shard's live state (tests, diagnostics)."""
        return self._active(partition).shard

    # -- operations ------------------------------------------------------------------------------

    async def write(
        self,
        partition: int,
        op: Callable[[S, int], CoordinatorResult[R]],
        verified: Callable[[], ErrorCode] | None = None,
    ) -> R:
        """`verified` (a transactional write, Kafka's scheduleTransactionalWriteOperation): the
        transaction's verification, asked before the write, must still hold when its records are
        appended (Kafka passes the VerificationGuard to the append); it is checked right before the
        operation runs, in the same step as the append (nothing else runs on the loop in between),
        and its error (INVALID_TXN_STATE) is the answer, with nothing run or written."""
        if verified is not None:
            error = verified()
            if error is not ErrorCode.NO_ERROR:
                raise CoordinatorNotAvailable(error)
        response, waiting = self.write_now(partition, op)
        if waiting is not None:
            await waiting
        return response

    def write_now(
        self, partition: int, op: Callable[[S, int], CoordinatorResult[R]]
    ) -> tuple[R, Awaitable[None] | None]:
        """`write` without a coroutine: the operation runs and its records are appended now; returns
        its response and None when they are committed already (one replica), else what to await
        before the response may be sent (raising `CoordinatorNotAvailable` when the commit fails)."""
        p = self._writable(partition)
        try:
            result = op(p.shard, self._clock.now_ms())
        except Exception:
            self._op_failed(partition)
            raise
        waiting = self._append(partition, p, result)
        if result.response is None:
            raise AssertionError("a non-deferred coordinator operation returned no response")
        return result.response, waiting

    async def write_deferred(
        self, partition: int, op: Callable[[S, WaiterId, int], CoordinatorResult[R]]
    ) -> R:
        p = self._writable(partition)
        self._last_waiter += 1
        waiter = WaiterId(self._last_waiter)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._futures[waiter] = future
        p.waiters.add(waiter)
        try:
            result = self._run_op(partition, p, lambda: op(p.shard, waiter, self._clock.now_ms()))
            waiting = self._append(partition, p, result)
            if waiting is not None:
                await waiting
            if result.response is not None:
                return result.response
            response: R = await future
            return response
        finally:
            self._futures.pop(waiter, None)
            p.waiters.discard(waiter)
            if future.done() and not future.cancelled():
                # Unloading answers every parked request NOT_COORDINATOR through its future, also
                # when this request already failed otherwise (its append refused, its commit
                # abandoned, its operation raised): it is retrieved here, never left to be logged
                # as "Future exception was never retrieved".
                future.exception()

    def read(self, partition: int, op: Callable[[S], R]) -> R:
        """Run a read-only operation on the committed state."""
        p = self._active(partition)
        return with_committed_view(p.registry, lambda: op(p.shard))

    async def write_marker(
        self, partition: int, producer_id: int, producer_epoch: int, committed: bool, coordinator_epoch: int
    ) -> ErrorCode:
        """Write a transaction's COMMIT/ABORT marker to `partition` and apply it as loading would (the
        transaction's pending records become visible, or vanish); NO_ERROR once it is committed. A
        marker the log refuses (a newer producer epoch) changes nothing and returns the log's error."""
        p = self._active(partition)
        try:
            end_offset, durable, high_watermark = self._log.append_marker(
                partition, producer_id, producer_epoch, committed, coordinator_epoch
            )
        except CoordinatorLogError as exc:
            return exc.code
        result: CoordinatorResult[None] = CoordinatorResult()
        try:
            p.shard.replay(TransactionMarker(producer_id, committed))
        except Exception:
            log.exception("replaying a transaction marker failed on partition %d; unloading it", partition)
            self.unload(partition)
            return ErrorCode.NO_ERROR  # the marker is written: loading applies it
        p.registry.seal(end_offset)
        p.committed = max(p.committed, high_watermark)
        waiting = self._await_commit(partition, p, end_offset, durable, result)
        if waiting is not None:
            try:
                await waiting
            except CoordinatorNotAvailable:
                return ErrorCode.NO_ERROR  # written; whoever loads the partition next applies it
        return ErrorCode.NO_ERROR

    async def fire_due_timers(self) -> bool:
        """Run every shard's timers that are due now (their records commit in the background);
        False when some were due on a partition that cannot take writes now."""
        fired_all = True
        for partition, p in list(self._partitions.items()):
            if p.loading or self._partitions.get(partition) is not p:
                continue
            deadline = p.shard.next_deadline()
            if deadline is None or deadline > self._clock.now_ms():
                continue
            if self._log.writable(partition) is not ErrorCode.NO_ERROR:
                fired_all = False
                continue
            with contextlib.suppress(CoordinatorNotAvailable):
                result = self._run_op(
                    partition, p, functools.partial(p.shard.expire_timers, self._clock.now_ms())
                )
                self._append(partition, p, result, answer=False)
        return fired_all

    # -- internals -------------------------------------------------------------------------------

    def _active(self, partition: int) -> _Partition[S]:
        p = self._partitions.get(partition)
        if p is None:
            raise CoordinatorNotAvailable(ErrorCode.NOT_COORDINATOR)
        if p.loading:
            raise CoordinatorNotAvailable(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
        return p

    def _writable(self, partition: int) -> _Partition[S]:
        p = self._partitions.get(partition)
        if p is None or p.loading:
            p = self._active(partition)  # raises the right error
        error = self._log.writable(partition)
        if error is not ErrorCode.NO_ERROR:
            raise CoordinatorNotAvailable(self._map_error(error))
        return p

    def _run_op(
        self, partition: int, p: _Partition[S], op: Callable[[], CoordinatorResult[R]]
    ) -> CoordinatorResult[R]:
        try:
            return op()
        except Exception:
            self._op_failed(partition)
            raise

    def _op_failed(self, partition: int) -> None:
        log.exception("%s operation failed on partition %d; unloading it", self._name, partition)
        self.unload(partition)

    def _append(
        self, partition: int, p: _Partition[S], result: CoordinatorResult[Any], answer: bool = True
    ) -> Awaitable[None] | None:
        """Append the result's records now; None when it is committed already (or nobody waits for
        the answer: timers), else what to await."""
        if not result.records:
            p.registry.settle()
            return self._await_commit(partition, p, p.last_written, None, result, answer)
        encode = p.shard.encode
        records = result.records
        batch = [encode(records[0])] if len(records) == 1 else [encode(record) for record in records]
        producer = (result.producer_id, result.producer_epoch) if result.producer_id >= 0 else None
        try:
            end_offset, durable, high_watermark = self._log.append(partition, batch, producer)
        except CoordinatorLogError as exc:
            self._write_failed(partition, p, exc)
            raise CoordinatorNotAvailable(self._map_error(exc.code)) from exc
        registry = p.registry
        p.last_written = max(p.last_written, end_offset)
        p.committed = max(p.committed, high_watermark)
        if end_offset <= p.committed and durable is None and not p.waiting:
            # committed inside the append (one replica): nothing to hide, nothing to wait for
            registry.committed_through()
            if result.completions or result.effects:
                self._delivered(partition, p, result)
            else:
                self._wake_if_sooner(p)
            return None
        registry.seal(end_offset)
        return self._await_commit(partition, p, end_offset, durable, result, answer)

    def _write_failed(self, partition: int, p: _Partition[S], exc: CoordinatorLogError) -> None:
        if type(p.shard).revert_on_failure:
            log.warning("%s append to partition %d failed (%s); reverted", self._name, partition, exc)
            p.registry.revert()
        else:
            log.warning("%s append to partition %d failed (%s); unloading it", self._name, partition, exc)
            self.unload(partition)

    def _await_commit(
        self,
        partition: int,
        p: _Partition[S],
        end_offset: int,
        durable: Awaitable[None] | None,
        result: CoordinatorResult[Any],
        answer: bool = True,
    ) -> Awaitable[None] | None:
        registry = p.registry
        if registry.pending:
            registry.commit(p.committed)
        if end_offset <= p.committed and durable is None and not p.waiting:
            if result.completions or result.effects:
                self._delivered(partition, p, result)
            else:
                self._wake_if_sooner(p)
            return None
        future = asyncio.get_running_loop().create_future() if answer else None
        p.waiting.append(_Commit(end_offset, result, future, durable))
        self._watch(partition, p)
        self._complete_committed(partition, p)
        return future

    def _watch(self, partition: int, p: _Partition[S]) -> None:
        """Hear the partition's high watermark move, from the first write that has to wait for it
        (never while every append commits inside itself, as on one node)."""
        if p.unwatch is None:
            p.unwatch = self._log.watch(partition, functools.partial(self._on_high_watermark, partition, p))
            p.committed = max(p.committed, self._log.high_watermark(partition))

    def _on_high_watermark(self, partition: int, p: _Partition[S], high_watermark: int) -> None:
        if self._partitions.get(partition) is not p:
            return
        if high_watermark > p.committed:
            p.committed = high_watermark
            if p.registry.pending:
                p.registry.commit(high_watermark)
        if p.waiting:
            self._complete_committed(partition, p)

    def _complete_committed(self, partition: int, p: _Partition[S]) -> None:
        waiting = p.waiting
        while waiting and waiting[0].end_offset <= p.committed:
            commit = waiting.popleft()
            if commit.durable is None:
                self._delivered(partition, p, commit.result)
                if commit.future is not None and not commit.future.done():
                    commit.future.set_result(None)
            else:
                self._after_durable(partition, p, commit, commit.durable)

    def _after_durable(
        self, partition: int, p: _Partition[S], commit: _Commit, durable: Awaitable[None]
    ) -> None:
        def done(task: asyncio.Future[None]) -> None:
            future = commit.future
            error = None if task.cancelled() else task.exception()
            if task.cancelled() or error is not None:
                log.warning("%s: the fsync of partition %d failed; unloading it", self._name, partition)
                self.unload(partition)
                if future is not None and not future.done():
                    future.set_exception(CoordinatorNotAvailable(ErrorCode.NOT_COORDINATOR))
                return
            self._delivered(partition, p, commit.result)
            if future is not None and not future.done():
                future.set_result(None)

        asyncio.ensure_future(durable).add_done_callback(done)

    def _delivered(self, partition: int, p: _Partition[S], result: CoordinatorResult[Any]) -> None:
        """The result's records are committed: complete its deferred answers, start its effects."""
        self._deliver(result.completions)
        if result.effects and self._on_committed is not None:
            self._on_committed(partition, result.effects)
        self._wake_if_sooner(p)

    def _deliver(self, completions: list[Completion]) -> None:
        for completion in completions:
            future = self._futures.get(completion.waiter)
            if future is not None and not future.done():
                future.set_result(completion.response)

    def _wake_if_sooner(self, p: _Partition[S]) -> None:
        # Waking the timer task costs a scan of every shard: only when this one now has a timer due
        # before the one the task sleeps until (most operations only push their timers later).
        shard, sleeping = p.shard, self._sleeping_until
        bound = shard.deadline_bound()
        if bound is None or (sleeping is not None and bound >= sleeping):
            return  # nothing sooner (the usual case: a commit only pushed its member's timer back)
        deadline = shard.next_deadline()
        if deadline is not None and (sleeping is None or deadline < sleeping):
            self._wakeup.set()

    def _next_deadline(self) -> int | None:
        deadlines = [
            d
            for p in self._partitions.values()
            if not p.loading and (d := p.shard.next_deadline()) is not None
        ]
        return min(deadlines, default=None)

    async def _run_timers(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                fired_all = await self.fire_due_timers()
            except Exception:
                log.exception("%s timers failed", self._name)
                fired_all = False
            deadline = self._sleeping_until = self._next_deadline()
            timeout = None if deadline is None else max(0.0, (deadline - self._clock.now_ms()) / 1000)
            if not fired_all:
                # timers still due where writes are refused (or that failed): later, not in a spin
                timeout = max(timeout or 0.0, BLOCKED_TIMER_RETRY_S)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()
