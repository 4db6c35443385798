"""What every `python -m odradek …` child process of the tests shares.

A child is started with a parent-death signal (so a test run that is itself killed leaves nothing
running), its stderr lines are kept in `lines` as they come (and appended to `log_path`, if
given, when it ends) (a subclass's `_on_line` looks for the
line saying it is ready), `stop()` sends SIGTERM and waits (SIGKILL after `timeout`), `kill()`
sends SIGKILL. Services that announce their URL through the supervisor's readiness pipe
(`odradek.process.readiness`) start with `_spawn_service`.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Self

from odradek.process import readiness


class ChildProcess:
    def __init__(self, log_path: Path | None = None) -> None:
        self.log_path = log_path
        """Where the child's stderr lines are appended once it ended (for a post-mortem)."""
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self._pump_thread: threading.Thread | None = None

    def _spawn(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        pass_fds: Sequence[int] = (),
        preexec_fn: Callable[[], None] | None = None,
    ) -> subprocess.Popen[str]:
        """Start `python -m odradek ARGS…`, its stderr pumped into `lines` (and `_on_line`)."""
        argv = [sys.executable, "-m", "odradek", *args]
        self.lines = []
        self.proc = subprocess.Popen(
            _dies_with_this_process() + argv,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            pass_fds=tuple(pass_fds),
            preexec_fn=preexec_fn,  # noqa: PLW1509 (setrlimit only)
        )
        self._pump_thread = threading.Thread(target=self._pump, args=(self.proc,), daemon=True)
        self._pump_thread.start()
        return self.proc

    def _spawn_service(self, args: Sequence[str], timeout: float) -> dict[str, object]:
        """Start a service that announces itself through the readiness pipe; its announcement
        (with its `url`). SIGKILL and RuntimeError if none came within `timeout` seconds."""
        read_fd, write_fd = os.pipe()
        try:
            self._spawn(args, env={readiness.ENV: str(write_fd)}, pass_fds=(write_fd,))
        finally:
            os.close(write_fd)
        announcement = _read_announcement(read_fd, timeout)
        if announcement is None:
            self.kill()
            raise RuntimeError(f"{args[0]} did not start:\n" + "\n".join(self.lines[-30:]))
        return announcement

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line.rstrip())
            self._on_line(line)

    def _on_line(self, line: str) -> None:
        """Called from the pump thread for each stderr line (as written, newline included)."""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then SIGKILL after `timeout` seconds; the exit code (0 if it was not running)."""
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._close()
        return code

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self._close()

    def _close(self) -> None:
        if self._pump_thread is not None:
            self._pump_thread.join(5)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        if self.log_path is not None and self.proc is not None:
            with self.log_path.open("a") as log:
                log.writelines(line + "\n" for line in self.lines)
        self.proc = None

    def start(self) -> Self:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_announcement(read_fd: int, timeout: float) -> dict[str, object] | None:
    """The announcement read from the readiness pipe, or None if none came within `timeout` seconds
    (or the child closed the pipe first). Closes `read_fd`."""
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(read_fd, 4096)
            if not chunk:
                return None
            data += chunk
    finally:
        os.close(read_fd)
    return readiness.parse(data)


def _dies_with_this_process() -> list[str]:
    """A prefix giving the child a parent-death signal (util-linux `setpriv`), so a test run that
    is itself killed does not leave its children running. Only from the main thread: the signal
    follows the thread that started the child, and a helper thread ending must not kill a child."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or threading.current_thread() is not threading.main_thread():
        return []
    return [setpriv, "--pdeathsig=SIGKILL", "--"]
