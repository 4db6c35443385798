"""A background job run every N milliseconds by one owned task (start()/stop(), no stray tasks)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("odradek.broker.periodic")


class Periodic:
    def __init__(self, name: str, interval_ms: int, job: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self.interval = max(interval_ms, 1) / 1000
        self.job = job
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic job %s failed", self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # asyncio.wait, not `await task` under suppress(CancelledError): that would also swallow
            # a cancellation of the caller arriving while the job winds down.
            await asyncio.wait([task])
