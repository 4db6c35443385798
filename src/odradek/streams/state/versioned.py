"""Versioned key-value stores (KIP-889): every value a key had over time, for `history_retention_ms`.

Each key has a timeline of *versions*: `(valid_from, value)` points in time order, a `None` value
being a deletion. The value of a key as of time `t` is the value of the last version whose
`valid_from <= t`; it stays valid until the next version (`valid_to`), or for ever for the latest.

    store.put("EURUSD", 1.08, 1_000)        # valid from 1000
    store.put("EURUSD", 1.09, 5_000)        # 1.08 now valid to 5000
    store.put("EURUSD", 1.07, 3_000)        # out of order: splits [1000, 5000) at 3000
    store.get("EURUSD", 4_000)              # VersionedRecord(1.07, 3000, valid_to=5000)
    store.get("EURUSD")                     # the latest by timestamp: 1.09 (not the last written)

As Kafka Streams' versioned store:
- the store's *observed stream time* is the largest timestamp it was written with; a put older than
  `observed - history_retention` is not applied (`put` returns `PUT_RETURN_CODE_NOT_PUT`) and a read
  as of such a time returns `None`: the history that old is gone;
- `put` returns the new version's `valid_to` (`PUT_RETURN_CODE_VALID_TO_UNDEFINED` for the latest);
  `delete(key, t)` puts a deletion at `t` and returns the record that was valid at `t`;
- versions whose validity ended before the retention horizon are dropped as the key is written, and
  by a sweep over all keys each time stream time has moved on by half the history retention (at
  least a minute), as Kafka Streams drops whole segments;
- every put goes to the changelog as a record whose timestamp is the version's timestamp (so the
  changelog restores the same history); the changelog topic keeps records for at least the history
  retention (`min.compaction.lag.ms`), as Kafka Streams configures it.

Layout in the byte store: `0x01` + key bytes -> the key's versions, each `8-byte valid_from, 1-byte
kind (0 deletion, 1 value), 4-byte length, value bytes`, oldest first (one read gives the whole
timeline; timelines are short because expired versions go on every write); `0x00` -> the observed
stream time (8 bytes), so a restart keeps the retention horizon where it was.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterator
from typing import Any, NamedTuple

from odradek.streams.serdes import Serde
from odradek.streams.state.buffered import DELETED, MISSING, BufferedStore, UnhashableKey
from odradek.streams.state.bytes_store import BytesStore

PUT_RETURN_CODE_NOT_PUT = -(2**63)
"""`put` did not apply the record: its timestamp is older than the history retention."""
PUT_RETURN_CODE_VALID_TO_UNDEFINED = 2**63 - 1
"""`put` made the latest version: valid until a newer one comes."""

_HEAD = struct.Struct(">qBI")
_TIME = struct.Struct(">q")
_DATA = b"\x01"
_OBSERVED = b"\x00"

Versions = list[tuple[int, Any]]
"""[(valid_from, value or None)] in time order."""


class VersionedRecord(NamedTuple):
    value: Any
    timestamp: int
    """When this version became valid."""
    valid_to: int | None = None
    """When the next version replaced it (None: still the latest)."""


class VersionedKeyValueStore(BufferedStore):
    restores_with_timestamps = True

    def __init__(
        self,
        name: str,
        inner: BytesStore,
        key_serde: Serde[Any],
        value_serde: Serde[Any],
        persistent: bool,
        history_retention_ms: int,
        cache_max_entries: int = 100_000,
    ) -> None:
        super().__init__(name, inner, key_serde, value_serde, persistent, cache_max_entries)
        self.history_retention_ms = history_retention_ms
        raw = inner.get(_OBSERVED)
        self.observed_time = _TIME.unpack(raw)[0] if raw else -1
        self._stored_observed = self.observed_time
        self._last_sweep = self.observed_time
        self.sweep_interval_ms = max(history_retention_ms // 2, 60_000)
        self.expired_writes = 0
        self._log: list[tuple[bytes, bytes | None, int]] = []
        """Puts since the last commit, in order: the changelog records (key, value, version time)."""

    # -- encoding -------------------------------------------------------------------------------------

    def _decode(self, raw: bytes) -> Versions:
        out: Versions = []
        pos, end = 0, len(raw)
        deserialize, topic = self.value_serde.deserialize, self.topic
        while pos < end:
            ts, kind, n = _HEAD.unpack_from(raw, pos)
            pos += _HEAD.size
            out.append((ts, deserialize(topic, raw[pos : pos + n]) if kind else None))
            pos += n
        return out

    def _encode(self, versions: Versions) -> bytes:
        parts = []
        serialize, topic = self.value_serde.serialize, self.topic
        for ts, value in versions:
            if value is None:
                parts.append(_HEAD.pack(ts, 0, 0))
            else:
                data = serialize(topic, value) or b""
                parts.append(_HEAD.pack(ts, 1, len(data)) + data)
        return b"".join(parts)

    def encode_entry(self, dirty_key: Any, value: Any) -> tuple[bytes, bytes | None]:
        kb = _DATA + self.key_bytes(dirty_key)
        if value is DELETED or not value:
            return kb, None
        return kb, self._encode(value)

    # -- the timeline of one key ----------------------------------------------------------------------

    def _hk(self, key: Any) -> Any:
        try:
            hash(key)
        except TypeError:
            return UnhashableKey(self.key_bytes(key))
        return key

    def _versions(self, key: Any) -> Versions:
        hk = self._hk(key)
        found = self._cache.get(hk, MISSING)
        if found is MISSING:
            raw = self.inner.get(_DATA + self.key_bytes(key))
            found = DELETED if raw is None else self._decode(raw)
            self._cache[hk] = found
        return [] if found is DELETED else found

    def _freeze(self, frozen: Any) -> None:
        frozen._log = []

    def _horizon(self) -> int:
        return self.observed_time - self.history_retention_ms

    def _apply(self, key: Any, value: Any, timestamp: int) -> int:
        """Put one version (no changelog); the `put` return code."""
        if timestamp < self._horizon():
            self.expired_writes += 1
            return PUT_RETURN_CODE_NOT_PUT
        self.observed_time = max(self.observed_time, timestamp)
        versions = list(self._versions(key))
        times = [ts for ts, _ in versions]
        i = bisect.bisect_left(times, timestamp)
        if i < len(versions) and versions[i][0] == timestamp:
            versions[i] = (timestamp, value)
        else:
            versions.insert(i, (timestamp, value))
        valid_to = versions[i + 1][0] if i + 1 < len(versions) else PUT_RETURN_CODE_VALID_TO_UNDEFINED
        # versions whose validity ended at or before the horizon can never be read again
        horizon = self._horizon()
        first = 0
        while first + 1 < len(versions) and versions[first + 1][0] <= horizon:
            first += 1
        versions = versions[first:]
        if len(versions) == 1 and versions[0][1] is None and versions[0][0] <= horizon:
            versions = []
        self._set(self._hk(key), key, versions if versions else DELETED)
        return valid_to

    # -- the store's API ------------------------------------------------------------------------------

    def put(self, key: Any, value: Any, timestamp: int) -> int:
        """Add a version valid from `timestamp` (`None`: a deletion); returns its `valid_to`, or
        `PUT_RETURN_CODE_NOT_PUT` when `timestamp` is older than the history retention."""
        if timestamp < 0:
            raise ValueError(f"store {self.name!r}: a version needs a non-negative timestamp")
        code = self._apply(key, value, timestamp)
        if code != PUT_RETURN_CODE_NOT_PUT:
            vb = None if value is None else self.value_serde.serialize(self.topic, value)
            self._log.append((self.key_bytes(key), vb, timestamp))
        return code

    def delete(self, key: Any, timestamp: int) -> VersionedRecord | None:
        """Delete `key` from `timestamp` on; the record that was valid at `timestamp` (if any)."""
        old = self.get(key, timestamp)
        self.put(key, None, timestamp)
        return old

    def get(self, key: Any, as_of_timestamp: int | None = None) -> VersionedRecord | None:
        """The latest version (by timestamp), or the one valid at `as_of_timestamp`; `None` when the
        key had no value then, or the time is older than the history retention."""
        versions = self._versions(key)
        if not versions:
            return None
        if as_of_timestamp is None:
            ts, value = versions[-1]
            return None if value is None else VersionedRecord(value, ts, None)
        if as_of_timestamp < self._horizon():
            return None
        i = bisect.bisect_right([ts for ts, _ in versions], as_of_timestamp) - 1
        if i < 0 or versions[i][1] is None:
            return None
        valid_to = versions[i + 1][0] if i + 1 < len(versions) else None
        return VersionedRecord(versions[i][1], versions[i][0], valid_to)

    def latest_timestamp(self, key: Any) -> int | None:
        """When the key's latest version (a value or a deletion) began; None for an unknown key."""
        found = self._versions(key)
        return found[-1][0] if found else None

    def versions(self, key: Any) -> list[VersionedRecord]:
        """Every retained version of `key` with a value, oldest first."""
        found = self._versions(key)
        out = []
        for i, (ts, value) in enumerate(found):
            if value is not None:
                out.append(VersionedRecord(value, ts, found[i + 1][0] if i + 1 < len(found) else None))
        return out

    def all(self) -> Iterator[tuple[Any, VersionedRecord]]:
        """(key, latest record) of every key whose latest version has a value."""
        return self.range()

    def range(self, from_key: Any = None, to_key: Any = None) -> Iterator[tuple[Any, VersionedRecord]]:
        """(key, latest record) with from_key <= key <= to_key in serialized-key order."""
        lo = None if from_key is None else self.key_bytes(from_key)
        hi = None if to_key is None else self.key_bytes(to_key) + b"\x00"
        inner_lo = _DATA + (lo or b"")
        inner_hi = b"\x02" if hi is None else _DATA + hi
        keys: dict[bytes, Any] = {kb[1:]: None for kb, _ in self.inner.range(inner_lo, inner_hi)}
        for dk in self._dirty.values():
            kb = self.key_bytes(dk)
            if (lo is None or kb >= lo) and (hi is None or kb < hi):
                keys[kb] = dk
        for kb in sorted(keys):
            key = keys[kb] if keys[kb] is not None else self.key_serde.deserialize(self.topic, kb)
            latest = self.get(key)
            if latest is not None:
                yield key, latest

    def approximate_num_entries(self) -> int:
        return max(self.inner.approximate_count() - 1, 0) + len(self._dirty)

    # -- commit, restore ------------------------------------------------------------------------------

    def prepare_commit(self) -> None:
        if self._prepared is not None:
            return
        if self.changelog is not None:
            send = self.changelog
            for kb, vb, ts in self._log:
                send(kb, vb, ts)
        self._log = []
        self._prepared = self._entries()

    def complete_commit(self) -> None:
        super().complete_commit()
        if self.observed_time - self._last_sweep >= self.sweep_interval_ms:
            self.sweep()

    def sweep(self) -> int:
        """Drop every key's versions that expired (also of keys not written for a long time); the
        number of keys rewritten. Works on the bytes: values are not deserialized."""
        self._last_sweep = self.observed_time
        horizon = self._horizon()
        writes: list[tuple[bytes, bytes | None]] = []
        for kb, raw in self.inner.range(_DATA, b"\x02"):
            pruned = _prune_raw(raw, horizon)
            if pruned is not raw:
                writes.append((kb, pruned))
        if writes:
            self.inner.write(writes)
            self._cache.clear()
        return len(writes)

    def _entries(self) -> list[tuple[bytes, bytes | None]]:
        entries = [self.encode_entry(dk, self._cache[hk]) for hk, dk in self._dirty.items()]
        if self.observed_time != self._stored_observed:
            entries.append((_OBSERVED, _TIME.pack(self.observed_time)))
            self._stored_observed = self.observed_time
        return entries

    def abort(self) -> None:
        super().abort()
        self._log = []
        self._stored_observed = -2  # the prepared write of the observed time was dropped too

    def restore(self, entries: list[tuple[bytes, bytes | None]]) -> None:
        raise TypeError("a versioned store restores from records with timestamps (restore_records)")

    def restore_records(self, records: list[tuple[bytes, bytes | None, int]]) -> None:
        """Replay changelog records `(key, value, version timestamp)` in order, as puts."""
        for kb, vb, ts in records:
            key = self.key_serde.deserialize(self.topic, kb)
            value = None if vb is None else self.value_serde.deserialize(self.topic, vb)
            self._apply(key, value, ts)
        self._prepared = self._entries()
        self.complete_commit()


def _prune_raw(raw: bytes, horizon: int) -> bytes | None:
    """`raw` without the versions that ended at or before `horizon` (None: nothing left that can
    be read); `raw` itself when nothing expired."""
    starts: list[tuple[int, int, int]] = []
    pos, end = 0, len(raw)
    while pos < end:
        ts, kind, n = _HEAD.unpack_from(raw, pos)
        starts.append((ts, kind, pos))
        pos += _HEAD.size + n
    first = 0
    while first + 1 < len(starts) and starts[first + 1][0] <= horizon:
        first += 1
    if first == len(starts) - 1 and starts[first][1] == 0 and starts[first][0] <= horizon:
        return None
    return raw if first == 0 else raw[starts[first][2] :]
