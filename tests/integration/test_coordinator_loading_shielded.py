"""A client that disconnects while its FindCoordinator waits for `__consumer_offsets` to load does
not cancel the load: the broker finishes loading and the next FindCoordinator is answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

from odradek.model.errors import ErrorCode
from odradek.testing.in_process import InProcessBroker


def test_a_cancelled_find_coordinator_does_not_cancel_the_load(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path, {"offsets.topic.num.partitions": "8"}) as b:
        groups = b.broker.groups

        async def cancelled_then_ready() -> ErrorCode:
            waiting = asyncio.create_task(groups.ensure_ready())
            await asyncio.sleep(0)
            waiting.cancel()  # the client went away
            await asyncio.wait([waiting])
            await groups.loaded()
            return await groups.ensure_ready()

        assert b.run(cancelled_then_ready()) == ErrorCode.NO_ERROR
        assert groups.ready
        assert all(groups.service.runtime.is_active(i) for i in range(8))  # none stuck loading
