"""One supervised child process: start it, learn when it is ready, stop it.

Each child runs in its own process group, so the terminal's Ctrl-C reaches only the supervisor,
which then stops the children in order (services first, broker last). Each child also asks the
kernel to send it SIGTERM if the supervisor dies (``PR_SET_PDEATHSIG``), so a supervisor killed
with ``kill -9`` leaves no orphans behind. Readiness arrives on a pipe (`odradek.process.readiness`):
the child writes one JSON line once it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
from collections.abc import Mapping, Sequence

from odradek.process import readiness

PR_SET_PDEATHSIG = 1
EXIT_AFTER_EOF_S = 5.0
"""How long a child that closed its readiness pipe unannounced gets to be seen exiting (its exit code
is then reported, rather than "not ready")."""
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent(parent: int) -> None:
    # runs in the child between fork and exec: only async-signal-safe work
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


class ChildProcess:
    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.proc: asyncio.subprocess.Process | None = None
        self._ready_reader: asyncio.StreamReader | None = None
        self._ready_transport: asyncio.BaseTransport | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc is not None else None

    async def start(self) -> None:
        read_fd, write_fd = os.pipe()
        env = dict(os.environ if self.env is None else self.env)
        env[readiness.ENV] = str(write_fd)
        parent = os.getpid()
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                env=env,
                pass_fds=(write_fd,),
                process_group=0,
                preexec_fn=lambda: _die_with_parent(parent),
                stdin=asyncio.subprocess.DEVNULL,
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=readiness.MAX_ANNOUNCEMENT * 2)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
        )
        self._ready_reader, self._ready_transport = reader, transport

    async def ready(self, within_s: float) -> dict[str, object] | None:
        """The child's announcement; None if it exited (or closed the pipe) first or took too long."""
        assert self._ready_reader is not None and self.proc is not None
        try:
            line = await asyncio.wait_for(self._ready_reader.readline(), within_s)
        except (TimeoutError, ValueError):
            return None
        finally:
            self._close_ready_pipe()
        if not line:  # the pipe closed: the child is exiting; wait until it is reaped
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), EXIT_AFTER_EOF_S)
            return None
        return readiness.parse(line)

    def _close_ready_pipe(self) -> None:
        if self._ready_transport is not None:
            self._ready_transport.close()
            self._ready_transport = None

    async def wait(self) -> int:
        assert self.proc is not None
        return await self.proc.wait()

    def send_signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)

    async def stop(self, grace_s: float) -> int | None:
        """SIGTERM, then SIGKILL after ``grace_s`` seconds; the exit code."""
        if self.proc is None:
            return None
        self._close_ready_pipe()
        self.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(asyncio.shield(self.proc.wait()), max(grace_s, 0.0))
        except TimeoutError:
            self.send_signal(signal.SIGKILL)
            return await self.proc.wait()
