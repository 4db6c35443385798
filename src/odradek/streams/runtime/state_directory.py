"""The state directory: `{state.dir}/{application.id}/{task id}/`, one lock per task.

A task directory is locked (`flock` on `.lock`) while a task or standby uses it, so two instances
(or two threads) never open the same RocksDB stores; a directory locked by someone else is a clear
`ProcessorStateException` naming the directory.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

from odradek.streams.errors import ProcessorStateException


class StateDirectory:
    def __init__(self, state_dir: str | Path, application_id: str) -> None:
        self.root = Path(state_dir) / application_id
        self._locks: dict[str, int] = {}

    def task_dir(self, task_id: str) -> Path:
        return self.root / task_id

    def lock(self, task_id: str) -> Path:
        path = self.task_dir(task_id)
        path.mkdir(parents=True, exist_ok=True)
        if task_id in self._locks:
            return path
        fd = os.open(path / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise ProcessorStateException(
                f"state directory {path} is locked by another instance or thread of this application"
            ) from exc
        self._locks[task_id] = fd
        return path

    def unlock(self, task_id: str) -> None:
        fd = self._locks.pop(task_id, None)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def wipe(self, task_id: str) -> None:
        """Delete a task's local state (it is then restored from its changelog)."""
        path = self.task_dir(task_id)
        for child in path.iterdir() if path.exists() else ():
            if child.name == ".lock":
                continue
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def wipe_store(self, task_id: str, store: str) -> None:
        shutil.rmtree(self.task_dir(task_id) / "rocksdb" / store, ignore_errors=True)

    def clean(self) -> None:
        """`KafkaStreams.cleanup()`: remove this application's whole local state."""
        shutil.rmtree(self.root, ignore_errors=True)
