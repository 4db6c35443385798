"""Keeps one child running: starts it, restarts it with back-off when it dies, stops it on request.

`KeptChild.run` is the child's whole life as one task (owned by the supervisor's TaskGroup); the
callbacks tell the supervisor when the child is ready (its announcement) and when it died (exit code
and the delay before the next start). `stop` asks for SIGTERM and escalates to SIGKILL after its
timeout; when it returns, no process of this child is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from odradek.supervisor.backoff import BackoffPolicy, RestartBackoff
from odradek.supervisor.child import ChildProcess

log = logging.getLogger("odradek.supervisor")

Announcement = dict[str, object]


class KeptChild:
    def __init__(
        self,
        name: str,
        argv: Callable[[], list[str]],
        *,
        on_ready: Callable[[KeptChild, Announcement], None],
        on_exit: Callable[[KeptChild, int, float], None],
        policy: BackoffPolicy | None = None,
        ready_timeout_s: float = 60.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.on_ready = on_ready
        self.on_exit = on_exit
        self.backoff = RestartBackoff(policy)
        self.ready_timeout_s = ready_timeout_s
        self.clock = clock
        self.current: ChildProcess | None = None
        self.starts = 0
        self._stop = asyncio.Event()
        self._finished = asyncio.Event()
        self._stop_timeout = 2.0

    def _now(self) -> float:
        return self.clock() if self.clock is not None else asyncio.get_running_loop().time()

    async def run(self) -> None:
        try:
            while not self._stop.is_set():
                child = ChildProcess(self.name, self.argv())
                await child.start()
                self.current = child
                self.starts += 1
                self.backoff.started(self._now())
                if self._stop.is_set():
                    break
                announcement = await child.ready(self.ready_timeout_s)
                if announcement is not None and not self._stop.is_set():
                    self.on_ready(self, announcement)
                elif child.returncode is None and not self._stop.is_set():
                    log.warning("%s not ready after %.0f s; restarting it", self.name, self.ready_timeout_s)
                    await child.stop(self._stop_timeout)
                code = await child.wait()
                if self._stop.is_set():
                    break
                delay = self.backoff.exited(self._now())
                self.on_exit(self, code, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
        finally:
            if self.current is not None and self.current.returncode is None:
                await self.current.stop(self._stop_timeout)
            self._finished.set()

    async def stop(self, grace_s: float) -> None:
        """Stop the child (SIGTERM, SIGKILL after ``grace_s``) and keep it stopped."""
        self._stop_timeout = grace_s
        self._stop.set()
        if self.current is not None:
            self.current.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self._finished.wait(), grace_s)
        except TimeoutError:
            if self.current is not None:
                self.current.send_signal(signal.SIGKILL)
            await self._finished.wait()
