"""`LocalMetadataStore`: a single node's metadata in `<directory>/metadata.log` (format: `metadata_log`).

Opening replays the file into an image, truncating a torn last batch left by a crash. `apply` appends
one batch and fsyncs it, then tells the store's publishers (`store.py`) before returning. When the
file has grown past `compact_after_bytes` and to twice its size after the last compaction, it is
rewritten as one snapshot batch of the current image: the
snapshot goes to a temporary file that is fsynced and then renamed over the log, and the directory is
fsynced, so a crash leaves either the old file or the new one. An exclusive lock on
`<directory>/metadata.lock` keeps a second process from opening the same store.

This is blocking file I/O with fsync: an asyncio shell calls it from a worker thread (so publishers
hear changes in that thread).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.metadata_log import decode_log, encode_batch
from odradek.metadata.records import MetadataRecord
from odradek.metadata.store import MetadataChange, MetadataPublisher, Publishers, check_base
from odradek.storage.atomic_file import fsync_dir, write_all, write_atomically

LOG_FILE = "metadata.log"
LOCK_FILE = "metadata.lock"
DEFAULT_COMPACT_AFTER_BYTES = 1024 * 1024


class MetadataStoreLockedError(RuntimeError):
    """Another process holds the store's directory."""


class LocalMetadataStore:
    def __init__(
        self, directory: Path, image: ClusterImage, fd: int, lock_fd: int, compact_after: int
    ) -> None:
        self._directory = directory
        self._image = image
        self._fd = fd
        self._lock_fd = lock_fd
        self._compact_after = compact_after
        self._size = os.fstat(fd).st_size
        self._snapshot_size = self._size
        self._version = 0
        self._publishers = Publishers()
        self._applying = threading.RLock()  # one apply at a time, whichever thread calls

    @classmethod
    def open(
        cls, directory: str | os.PathLike[str], *, compact_after_bytes: int = DEFAULT_COMPACT_AFTER_BYTES
    ) -> LocalMetadataStore:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise MetadataStoreLockedError(f"{path} is in use by another process") from None
        try:
            fd = os.open(path / LOG_FILE, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                image = cls._recover(fd, path)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            os.close(lock_fd)
            raise
        return cls(path, image, fd, lock_fd, compact_after_bytes)

    @staticmethod
    def _recover(fd: int, directory: Path) -> ClusterImage:
        with open(fd, "rb", closefd=False) as f:
            data = f.read()
        decoded = decode_log(data)
        image = ClusterImage.EMPTY
        for batch in decoded.batches:
            image = replay(image, batch)
        if decoded.valid_length < len(data):
            os.ftruncate(fd, decoded.valid_length)
            os.fsync(fd)
        fsync_dir(directory)  # the file may have just been created
        return image

    @property
    def image(self) -> ClusterImage:
        return self._image

    @property
    def version(self) -> int:
        return self._version

    def subscribe(self, publisher: MetadataPublisher) -> None:
        self._publishers.subscribe(publisher, self._image, self._version)

    def unsubscribe(self, publisher: MetadataPublisher) -> None:
        self._publishers.unsubscribe(publisher)

    @property
    def path(self) -> Path:
        return self._directory / LOG_FILE

    def apply(self, records: Sequence[MetadataRecord], *, base: ClusterImage | None = None) -> ClusterImage:
        with self._applying:
            return self._apply(records, base)

    def _apply(self, records: Sequence[MetadataRecord], base: ClusterImage | None) -> ClusterImage:
        check_base(self._image, base)
        if not records:
            return self._image
        new_image = replay(self._image, records)
        line = encode_batch(records)
        try:
            write_all(self._fd, line)
            os.fsync(self._fd)
        except OSError:
            # A half-written batch must not stay in front of later ones (it would read as corruption).
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        self._size += len(line)
        before, self._image = self._image, new_image
        self._version += 1
        if self._size > self._compact_after and self._size > 2 * self._snapshot_size:
            self.compact()
        self._publishers.publish(MetadataChange(before, new_image, tuple(records), self._version))
        return self._image

    def compact(self) -> None:
        """Rewrite the log as one snapshot batch of the current image."""
        snapshot = encode_batch(self._image.to_records())
        write_atomically(self.path, snapshot)
        os.close(self._fd)
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
        self._size = self._snapshot_size = len(snapshot)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._lock_fd >= 0:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> LocalMetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
