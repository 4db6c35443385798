"""Where source offsets live: the offsets topic (distributed; `offset_keys.py` format) or a JSON
file (standalone, `offset.storage.file.filename`). Both answer `get(connector, partitions)` from
memory, kept current by tailing the topic or loaded from the file at start."""

from __future__ import annotations

import json
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from odradek.connect.api.context import OffsetStorageReader
from odradek.connect.api.errors import ConnectException
from odradek.connect.runtime.kafka_log import KafkaLog
from odradek.connect.runtime.offset_keys import (
    canonical_json,
    offset_key,
    offset_value,
    parse_offset_key,
    parse_offset_value,
)


class OffsetStore(ABC):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[bytes, bytes | None] = {}

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        with self._lock:
            if value is None:
                self._data.pop(key, None)
            else:
                self._data[key] = value

    def get(
        self, connector: str, partitions: Iterable[Mapping[str, Any]]
    ) -> dict[str, dict[str, Any] | None]:
        out: dict[str, dict[str, Any] | None] = {}
        with self._lock:
            for partition in partitions:
                raw = self._data.get(offset_key(connector, dict(partition)))
                out[canonical_json(partition)] = parse_offset_value(raw)
        return out

    def all_for(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        found: list[tuple[dict[str, Any], dict[str, Any]]] = []
        with self._lock:
            items = list(self._data.items())
        for key, value in items:
            try:
                name, partition = parse_offset_key(key)
            except ConnectException:
                continue
            parsed = parse_offset_value(value)
            if name == connector and parsed is not None:
                found.append((partition, parsed))
        return found

    @abstractmethod
    def write(
        self, connector: str, offsets: Mapping[str, tuple[dict[str, Any], dict[str, Any] | None]]
    ) -> None:
        """Store offsets (`canonical partition json -> (partition, offset or None)`) durably."""

    def start(self) -> None:
        """Load what is stored."""

    def stop(self) -> None:
        """Release clients."""

    def read_to_end(self) -> None:
        """Catch up with writes made elsewhere."""

    def mirror(
        self, connector: str, offsets: Mapping[str, tuple[dict[str, Any], dict[str, Any] | None]]
    ) -> None:
        """Copy offsets an exactly-once task committed (in its transaction, to the connector's own
        offsets topic) to the worker's offsets topic; nothing to do without a topic of its own."""

    def reader(self, connector: str) -> OffsetStorageReader:
        return _Reader(self, connector)


class _Reader(OffsetStorageReader):
    def __init__(self, store: OffsetStore, connector: str) -> None:
        self.store = store
        self.connector = connector

    def offsets(self, partitions: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        return self.store.get(self.connector, partitions)


class KafkaOffsetStore(OffsetStore):
    def __init__(self, topic: str, partitions: int, client_config: Mapping[str, Any]) -> None:
        super().__init__()
        self.topic = topic
        self.partitions = partitions
        self.log = KafkaLog(topic, client_config, lambda k, v, _p, _o: self.apply(k, v))

    def start(self) -> None:
        self.log.start(self.partitions)
        self.log.read_to_end()

    def stop(self) -> None:
        self.log.stop()

    def read_to_end(self) -> None:
        self.log.read_to_end()

    def write(
        self, connector: str, offsets: Mapping[str, tuple[dict[str, Any], dict[str, Any] | None]]
    ) -> None:
        for partition, offset in offsets.values():
            self.log.send(offset_key(connector, partition), offset_value(offset))


class FileOffsetStore(OffsetStore):
    """Offsets as a JSON object `{"<offset key json>": <offset value json>}`, replaced atomically."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = Path(path) if path else None
        self._write_lock = threading.Lock()

    def start(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            stored = json.loads(self.path.read_text() or "{}")
        except ValueError as exc:
            raise ConnectException(f"offset.storage.file.filename {self.path}: not JSON ({exc})") from exc
        for key, value in stored.items():
            self.apply(key.encode(), None if value is None else canonical_json(value).encode())

    def write(
        self, connector: str, offsets: Mapping[str, tuple[dict[str, Any], dict[str, Any] | None]]
    ) -> None:
        for partition, offset in offsets.values():
            self.apply(offset_key(connector, partition), offset_value(offset))
        if self.path is None:
            return
        with self._write_lock, self._lock:
            snapshot = {k.decode(): json.loads(v) for k, v in self._data.items() if v is not None}
            tmp = self.path.with_suffix(self.path.suffix + ".tmp")
            tmp.write_text(json.dumps(snapshot, separators=(",", ":")))
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
