"""Key-value stores (plain and timestamped) over a byte store, with the shared write buffer."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any, NamedTuple

from odradek.streams.serdes import Serde
from odradek.streams.state.buffered import DELETED, MISSING, BufferedStore, UnhashableKey

_TS = struct.Struct(">q")


class ValueAndTimestamp(NamedTuple):
    value: Any
    timestamp: int


def value_and_timestamp(value: Any, timestamp: int) -> ValueAndTimestamp:
    """`ValueAndTimestamp(value, timestamp)` without the named tuple's Python-level __new__."""
    return _new_vat(ValueAndTimestamp, (value, timestamp))


_new_vat = tuple.__new__


class TimestampedSerde(Serde[ValueAndTimestamp]):
    """8-byte big-endian timestamp, then the inner serde's bytes (Kafka's `ValueAndTimestampSerde`)."""

    name = "timestamped"

    def __init__(self, inner: Serde[Any]) -> None:
        self.inner = inner

    def with_defaults(self, key_default: Serde[Any], value_default: Serde[Any]) -> Serde[ValueAndTimestamp]:
        return TimestampedSerde(self.inner.with_defaults(key_default, value_default))

    def to_bytes(self, obj: ValueAndTimestamp) -> bytes:
        return self.serialize("", obj) or b""

    def from_bytes(self, data: bytes) -> ValueAndTimestamp:
        return self.deserialize("", data)  # type: ignore[no-any-return]

    def serialize(self, topic: str, obj: Any, headers: Any = None) -> bytes | None:
        if obj is None:
            return None
        raw = self.inner.serialize(topic, obj[0], headers)  # the topic reaches a registry serde
        return _TS.pack(obj[1]) + (raw or b"")

    def deserialize(self, topic: str, data: bytes | None, headers: Any = None) -> Any:
        if data is None:
            return None
        return value_and_timestamp(self.inner.deserialize(topic, data[8:], headers), _TS.unpack_from(data)[0])


class KeyValueStore(BufferedStore):
    """`get`/`put`/`delete`/`range`/`all`/`prefix_scan` by key; reads see uncommitted writes."""

    def encode_entry(self, dirty_key: Any, value: Any) -> tuple[bytes, bytes | None]:
        kb = self.key_bytes(dirty_key)
        if value is DELETED:
            return kb, None
        return kb, self.value_serde.serialize(self.topic, value)

    def get(self, key: Any) -> Any:
        try:
            value = self._cache.get(key, MISSING)
        except TypeError:
            key_h = UnhashableKey(self.key_bytes(key))
            value = self._cache.get(key_h, MISSING)
        if value is MISSING:
            raw = self.inner.get(self.key_bytes(key))
            value = DELETED if raw is None else self.value_serde.deserialize(self.topic, raw)
            self._cache[self.hashable_key(key)] = value
        return None if value is DELETED else value

    def read(self, key: Any) -> Any:
        """`get` for a reader in another thread: one key's current value, without filling the cache
        (the cache belongs to the writing thread)."""
        try:
            value = self._cache.get(key, MISSING)
        except TypeError:
            value = self._cache.get(UnhashableKey(self.key_bytes(key)), MISSING)
        if value is MISSING:
            raw = self.inner.get(self.key_bytes(key))
            return None if raw is None else self.value_serde.deserialize(self.topic, raw)
        return None if value is DELETED else value

    def put(self, key: Any, value: Any) -> None:
        if value is None:
            self.delete(key)
            return
        try:
            self._cache[key] = value
            self._dirty[key] = key
        except TypeError:
            hk = UnhashableKey(self.key_bytes(key))
            self._set(hk, key, value)

    def put_if_absent(self, key: Any, value: Any) -> Any:
        old = self.get(key)
        if old is None:
            self.put(key, value)
        return old

    def delete(self, key: Any) -> Any:
        old = self.get(key)
        self._set(self.hashable_key(key), key, DELETED)
        return old

    def _merged(self, lo: bytes | None, hi: bytes | None) -> list[tuple[bytes, Any]]:
        view: dict[bytes, Any] = {k: v for k, v in self.inner.range(lo, hi)}
        decoded: dict[bytes, Any] = {}
        for hk, dk in self._dirty.items():
            kb = self.key_bytes(dk)
            if (lo is None or kb >= lo) and (hi is None or kb < hi):
                value = self._cache[hk]
                if value is DELETED:
                    view.pop(kb, None)
                else:
                    view[kb] = None
                    decoded[kb] = value
        out = []
        for kb in sorted(view):
            if kb in decoded:
                out.append((kb, decoded[kb]))
            else:
                out.append((kb, self.value_serde.deserialize(self.topic, view[kb])))
        return out

    def range(self, from_key: Any = None, to_key: Any = None) -> Iterator[tuple[Any, Any]]:
        """Entries with from_key <= key <= to_key in serialized-key order (None: unbounded)."""
        lo = None if from_key is None else self.key_bytes(from_key)
        hi = None if to_key is None else self.key_bytes(to_key) + b"\x00"
        for kb, value in self._merged(lo, hi):
            yield self.key_serde.deserialize(self.topic, kb), value

    def all(self) -> Iterator[tuple[Any, Any]]:
        return self.range()

    def prefix_scan(self, prefix: bytes) -> Iterator[tuple[Any, Any]]:
        """Entries whose serialized key starts with `prefix` bytes."""
        hi = _prefix_end(prefix)
        for kb, value in self._merged(prefix, hi):
            yield self.key_serde.deserialize(self.topic, kb), value

    def approximate_num_entries(self) -> int:
        return self.inner.approximate_count() + len(self._dirty)


def _prefix_end(prefix: bytes) -> bytes | None:
    data = bytearray(prefix)
    while data:
        if data[-1] < 0xFF:
            data[-1] += 1
            return bytes(data)
        data.pop()
    return None
