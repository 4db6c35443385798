"""CoordinatorRuntime: a partition unloaded (or failing) under a parked request leaves no future
whose NOT_COORDINATOR nobody retrieves ("Future exception was never retrieved" at garbage collection)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

import pytest

from odradek.coordinator.result import CoordinatorResult, WaiterId
from odradek.coordinator.runtime import CoordinatorNotAvailable, CoordinatorRuntime
from odradek.coordinator.shard import KeyValue, LogEntry
from odradek.coordinator.timeline import SnapshotRegistry
from odradek.model.errors import ErrorCode
from odradek.testing.clock import FakeClock
from odradek.testing.coordinator_log import MemoryCoordinatorLog


class _Shard:
    revert_on_failure: ClassVar[bool] = False

    def __init__(self, partition: int, epoch: int, registry: SnapshotRegistry) -> None:
        pass

    def encode(self, record: Any) -> KeyValue:
        return (b"k", b"v")

    def replay(self, entry: LogEntry) -> None:
        pass

    def on_loaded(self, now_ms: int) -> CoordinatorResult[None]:
        return CoordinatorResult()

    def next_deadline(self) -> int | None:
        return None

    def deadline_bound(self) -> int | None:
        return None

    def expire_timers(self, now_ms: int) -> CoordinatorResult[None]:
        return CoordinatorResult()


def _parked(shard: _Shard, waiter: WaiterId, now_ms: int) -> CoordinatorResult[str]:
    return CoordinatorResult(records=["r"])  # deferred: no response, answered by a later completion


def _never_retrieved(caplog: pytest.LogCaptureFixture) -> list[str]:
    caplog.clear()  # (the records it holds keep tracebacks, and through them the futures, alive)
    gc.collect()
    return [r.getMessage() for r in caplog.records if "never retrieved" in r.getMessage()]


def _unretrieved(created: list[asyncio.Future[Any]]) -> list[asyncio.Future[Any]]:
    """Futures holding an exception nobody retrieved (asyncio logs "Future exception was never
    retrieved" when they are collected; log records holding tracebacks may keep them alive longer)."""
    return [f for f in created if f.done() and not f.cancelled() and f._log_traceback]


def _record_futures() -> list[asyncio.Future[Any]]:
    loop = asyncio.get_running_loop()
    created: list[asyncio.Future[Any]] = []
    create = loop.create_future

    def recorded() -> asyncio.Future[Any]:
        future = create()
        created.append(future)
        return future

    loop.create_future = recorded  # type: ignore[method-assign]
    return created


def _check(caplog: pytest.LogCaptureFixture, scenario: Callable[[], Coroutine[Any, Any, int]]) -> None:
    """Run the scenario; no future may hold an exception nobody retrieved (counted by the scenario,
    and asyncio's own log line once everything is collected)."""
    caplog.set_level(logging.ERROR, logger="asyncio")
    assert asyncio.run(scenario()) == 0
    assert _never_retrieved(caplog) == []


async def _runtime(log: MemoryCoordinatorLog) -> CoordinatorRuntime[_Shard]:
    runtime = CoordinatorRuntime(FakeClock(), log, _Shard)
    await runtime.start()
    await runtime.load(0, 0, [])
    return runtime


def test_unloading_under_a_deferred_write_waiting_for_its_commit(caplog: pytest.LogCaptureFixture) -> None:
    _check(caplog, _unloading_under_a_deferred_write)


async def _unloading_under_a_deferred_write() -> int:
    created = _record_futures()
    log = MemoryCoordinatorLog(auto_commit=False)
    runtime = await _runtime(log)
    pending = asyncio.create_task(runtime.write_deferred(0, _parked))
    await asyncio.sleep(0)
    runtime.unload(0)  # leadership moved away
    with pytest.raises(CoordinatorNotAvailable) as raised:
        await pending
    assert raised.value.code is ErrorCode.NOT_COORDINATOR
    await runtime.stop()
    return len(_unretrieved(created))


def test_a_refused_append_of_a_deferred_write(caplog: pytest.LogCaptureFixture) -> None:
    _check(caplog, _a_refused_append)


async def _a_refused_append() -> int:
    created = _record_futures()
    log = MemoryCoordinatorLog()
    runtime = await _runtime(log)
    log.failures = [ErrorCode.NOT_LEADER_OR_FOLLOWER]
    with pytest.raises(CoordinatorNotAvailable):
        await runtime.write_deferred(0, _parked)
    await runtime.stop()
    return len(_unretrieved(created))


def test_an_operation_that_raises(caplog: pytest.LogCaptureFixture) -> None:
    _check(caplog, _an_operation_that_raises)


async def _an_operation_that_raises() -> int:
    created = _record_futures()
    runtime = await _runtime(MemoryCoordinatorLog())

    def broken(shard: _Shard, waiter: WaiterId, now_ms: int) -> CoordinatorResult[str]:
        raise ValueError("bug")

    with pytest.raises(ValueError):
        await runtime.write_deferred(0, broken)
    await runtime.stop()
    return len(_unretrieved(created))
