"""The log cleaner as a broker background service: every `log.cleaner.backoff.ms`, compact what needs it.

Each pass picks the dirtiest compacted log (on the loop: sizes and timestamps), runs its cleaning
job's blocking steps (reading, the offset map, writing `.cleaned` files, fsync) in a worker thread
with `asyncio.to_thread`, and its swaps on the loop (they change a log's segment list, which only
the loop touches), then picks the next one: one partition at a time, dirtiest first, each at most
once per pass (`odradek.storage.log_cleaner`, `odradek.storage.cleaner`).

`stop()` asks the running job to abort (it stops at its next batch) and waits for the pass to wind
down, so no worker thread is left writing into a log directory when the logs are closed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from odradek.broker.periodic import Periodic
from odradek.model.clock import Clock
from odradek.model.topic_partition import TopicPartition
from odradek.storage.log_cleaner import LogCleaner

if TYPE_CHECKING:
    from odradek.storage.cleaner import CleanStats  # imported by the first cleaning

log = logging.getLogger("odradek.broker.cleaner")


class LogCleanerService:
    def __init__(self, cleaner: LogCleaner, clock: Clock, backoff_ms: int) -> None:
        self.cleaner = cleaner
        self.clock = clock
        self._periodic = Periodic("log-cleaner", backoff_ms, self._tick)
        self._pass: asyncio.Task[list[CleanStats]] | None = None

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        self.cleaner.abort()
        running = self._pass
        if running is not None:
            await asyncio.wait({running})
        await self._periodic.stop()

    async def _tick(self) -> None:
        # The pass is its own task so that cancelling the periodic loop never strands a job
        # between its thread steps; stop() waits for it instead.
        self._pass = asyncio.get_running_loop().create_task(self.run_pass(), name="log-cleaner-pass")
        try:
            await asyncio.shield(self._pass)
        finally:
            if self._pass.done():
                self._pass = None

    async def run_pass(self) -> list[CleanStats]:
        """Clean every compacted log that needs it now, dirtiest first."""
        cleaner = self.cleaner
        now = self.clock.now_ms()
        done: set[TopicPartition] = set()
        results = []
        while not cleaner.aborted and (todo := cleaner.grab_filthiest(now, done)) is not None:
            done.add(todo.tp)
            job = cleaner.begin(todo, now)
            if job is None:
                continue
            try:
                for step in job.steps():
                    if step.blocking:
                        await asyncio.to_thread(step.run)
                    else:
                        step.run()
            except Exception as exc:
                await asyncio.to_thread(cleaner.failed, job, exc)
                continue
            stats = job.stats
            results.append(stats)
            log.info(
                "cleaned %s up to offset %d: %d of %d records kept, %d bytes read, %d written, %d swaps",
                todo.tp,
                stats.end_offset,
                stats.records_kept,
                stats.records_read,
                stats.bytes_read,
                stats.bytes_written,
                stats.groups_swapped,
            )
        return results
