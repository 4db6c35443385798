"""Open the typed store a `StoreSpec` describes, in memory or in RocksDB under a task directory.

On disk: `{task_dir}/rocksdb/{store}` for key-value stores and `{task_dir}/rocksdb/{store}/{store}.{segment}`
per segment of window and session stores (segment = t1 // segment interval, a number).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from odradek.streams.serdes import Serde, Serdes
from odradek.streams.state.buffered import BufferedStore
from odradek.streams.state.bytes_store import BytesStore, MemoryBytesStore, RocksDBBytesStore
from odradek.streams.state.keyvalue import KeyValueStore, TimestampedSerde
from odradek.streams.state.segmented import SessionStore, WindowStore
from odradek.streams.state.spec import StoreKind, StoreSpec
from odradek.streams.state.versioned import VersionedKeyValueStore


def open_store(
    spec: StoreSpec,
    task_dir: Path | None,
    default_key_serde: Serde[Any] = Serdes.BYTES,
    default_value_serde: Serde[Any] = Serdes.BYTES,
    cache_max_entries: int = 100_000,
) -> BufferedStore:
    key_serde = (spec.key_serde or default_key_serde).with_defaults(default_key_serde, default_value_serde)
    value_serde = (spec.value_serde or default_value_serde).with_defaults(
        default_key_serde, default_value_serde
    )
    persistent = spec.persistent and task_dir is not None
    base = task_dir / "rocksdb" / spec.name if task_dir is not None else None

    def byte_store(path: Path | None) -> BytesStore:
        if persistent and path is not None:
            return RocksDBBytesStore(path)
        return MemoryBytesStore()

    store: BufferedStore
    if spec.kind is StoreKind.VERSIONED_KEY_VALUE:
        store = VersionedKeyValueStore(
            spec.name,
            byte_store(base),
            key_serde,
            value_serde,
            persistent,
            spec.history_retention_ms,
            cache_max_entries,
        )
    elif spec.kind in (StoreKind.KEY_VALUE, StoreKind.TIMESTAMPED_KEY_VALUE):
        if spec.kind is StoreKind.TIMESTAMPED_KEY_VALUE:
            value_serde = TimestampedSerde(value_serde)
        store = KeyValueStore(
            spec.name, byte_store(base), key_serde, value_serde, persistent, cache_max_entries
        )
    else:
        interval = spec.segment_interval()
        existing: list[int] = []
        if persistent and base is not None and base.exists():
            prefix = spec.name + "."
            existing = sorted(int(p.name[len(prefix) :]) for p in base.iterdir() if p.name.startswith(prefix))

        def opener(segment: int) -> BytesStore:
            return byte_store(base / f"{spec.name}.{segment}" if base is not None else None)

        cls = WindowStore if spec.kind is StoreKind.WINDOW else SessionStore
        store = cls(
            spec.name, opener, key_serde, value_serde, persistent, spec.retention_ms, interval, existing
        )
        store.cache_max_entries = cache_max_entries
        if isinstance(store, WindowStore):
            store.retain_duplicates = spec.retain_duplicates
    return store
