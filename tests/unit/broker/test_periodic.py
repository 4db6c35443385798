"""Periodic.stop stops its job and leaves the caller's own cancellation alone."""

from __future__ import annotations

import asyncio
import contextlib

from odradek.broker.periodic import Periodic


def test_stop_cancels_the_job_and_returns() -> None:
    runs = 0

    async def main() -> tuple[int, int]:
        twice = asyncio.Event()

        async def job() -> None:
            nonlocal runs
            runs += 1
            if runs == 2:
                twice.set()

        periodic = Periodic("job", 1, job)
        periodic.start()
        await twice.wait()
        await periodic.stop()
        seen = runs
        await asyncio.sleep(0.01)
        return seen, runs

    seen, later = asyncio.run(main())
    assert later == seen


def test_a_cancelled_caller_stays_cancelled_while_the_job_winds_down() -> None:
    async def main() -> bool:
        started = asyncio.Event()

        async def slow_job() -> None:
            started.set()
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                await asyncio.sleep(0.05)  # the job takes a while to wind down
                raise

        periodic = Periodic("slow", 1, slow_job)
        periodic.start()
        await started.wait()
        stopper = asyncio.get_running_loop().create_task(periodic.stop())
        await asyncio.sleep(0.01)
        stopper.cancel()  # whoever called stop() is itself cancelled meanwhile
        with contextlib.suppress(asyncio.CancelledError):
            await stopper
        return stopper.cancelled()

    assert asyncio.run(main())
