"""Window and session stores: entries keyed by (key, t1, t2), kept in time segments.

Window stores use t1 = window start, t2 = a sequence number (0 unless the store keeps duplicates, as
a stream-stream join's buffer does). Session stores use t1 = session end, t2 = session start. The
binary key is `4-byte key length, key, 8-byte t1, 8-byte t2` (big-endian), so one key's entries are
contiguous and ordered by t1. Entries live in segments of `segment_interval` ms of t1, each its own
byte store (its own RocksDB directory), so expiry drops whole segments, as Kafka Streams does.

A write older than the retention (t1 <= observed stream time - retention) is dropped and counted in
`expired_writes`: the record is too late for this store.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from typing import Any

from odradek.streams.serdes import Serde
from odradek.streams.state.buffered import _PLAIN, DELETED, MISSING, BufferedStore
from odradek.streams.state.bytes_store import BytesStore

_LEN = struct.Struct(">I")
_TIMES = struct.Struct(">qq")
SegmentOpener = Callable[[int], BytesStore]


class _Segments:
    """Implements the BytesStore calls the buffer needs, routing each key to its t1 segment."""

    def __init__(self, opener: SegmentOpener, interval: int) -> None:
        self.opener = opener
        self.interval = interval
        self.segments: dict[int, BytesStore] = {}

    def segment(self, t1: int, create: bool) -> BytesStore | None:
        sid = t1 // self.interval
        seg = self.segments.get(sid)
        if seg is None and create:
            seg = self.segments[sid] = self.opener(sid)
        return seg

    def write(self, by_segment: dict[int, list[tuple[bytes, bytes | None]]]) -> None:
        """Write each segment's entries (segment id -> entries) as one batch."""
        for sid, items in by_segment.items():
            seg = self.segments.get(sid)
            if seg is None:
                seg = self.segments[sid] = self.opener(sid)
            seg.write(items)

    def snapshot(self) -> _Segments:
        frozen = _Segments(_read_only, self.interval)
        frozen.segments = {sid: seg.snapshot() for sid, seg in list(self.segments.items())}
        return frozen

    def drop_before(self, t1: int) -> None:
        """Drop segments whose every t1 is < `t1`."""
        for sid in sorted(self.segments):
            if (sid + 1) * self.interval <= t1:
                seg = self.segments.pop(sid)
                destroy = getattr(seg, "destroy", None)
                seg.close() if destroy is None else destroy()

    def close(self) -> None:
        for seg in self.segments.values():
            seg.close()
        self.segments.clear()


def _read_only(segment: int) -> BytesStore:
    raise TypeError("a store snapshot is read-only")


def _prefix(kb: bytes) -> bytes:
    return _LEN.pack(len(kb)) + kb


class SegmentedStore(BufferedStore):
    def __init__(
        self,
        name: str,
        opener: SegmentOpener,
        key_serde: Serde[Any],
        value_serde: Serde[Any],
        persistent: bool,
        retention_ms: int,
        segment_interval_ms: int,
        existing_segments: list[int] = (),  # type: ignore[assignment]
    ) -> None:
        self.segments = _Segments(opener, segment_interval_ms)
        for sid in existing_segments:
            self.segments.segments[sid] = opener(sid)
        super().__init__(name, self.segments, key_serde, value_serde, persistent)  # type: ignore[arg-type]
        self.retention_ms = retention_ms
        self.observed_time = -1
        self.expired_writes = 0
        self.inner_max_t1 = (max(existing_segments) + 1) * segment_interval_ms if existing_segments else -1
        """No entry in the byte stores has a larger t1: reads above it need not look there."""
        self._dirty_index: dict[Any, dict[tuple[int, int], Any]] | None = None
        """hashable key -> {(t1, t2): value} of the dirty entries, for scans; built by the first scan
        after a commit and kept up to date from then on (writes without scans never build it)."""
        self._prefixes: dict[Any, bytes] = {}
        self._prepared_times: list[int] = []

    # -- binary layout --------------------------------------------------------------------------------

    def encode_entry(self, dirty_key: Any, value: Any) -> tuple[bytes, bytes | None]:
        key, t1, t2 = dirty_key
        kb = _prefix(self.key_bytes(key)) + _TIMES.pack(t1, t2)
        if value is DELETED:
            return kb, None
        return kb, self.value_serde.serialize(self.topic, value)

    def decode_key(self, kb: bytes) -> tuple[Any, int, int]:
        n = _LEN.unpack_from(kb)[0]
        t1, t2 = _TIMES.unpack_from(kb, 4 + n)
        return self.key_serde.deserialize(self.topic, kb[4 : 4 + n]), t1, t2

    def write_inner(self, entries: list[tuple[bytes, bytes | None]], times: list[int] | None = None) -> None:
        if times is None:
            times = [_TIMES.unpack_from(kb, len(kb) - 16)[0] for kb, _ in entries]
        if times:
            self.observed_time = max(self.observed_time, *times)
        limit = self.observed_time - self.retention_ms
        top = self.inner_max_t1
        interval = self.segments.interval
        by_segment: dict[int, list[tuple[bytes, bytes | None]]] = {}
        for entry, t1 in zip(entries, times, strict=True):
            if entry[1] is not None:
                if t1 <= limit:
                    continue  # expired: older than the retention
                if t1 > top:  # noqa: PLR1730 - an if is cheaper than max() per entry
                    top = t1
            sid = t1 // interval
            bucket = by_segment.get(sid)
            if bucket is None:
                bucket = by_segment[sid] = []
            bucket.append(entry)
        self.inner_max_t1 = top
        self.segments.write(by_segment)
        self.segments.drop_before(self.observed_time - self.retention_ms + 1)

    def prepare_commit(self) -> None:
        """As the base class, with each key's prefix bytes cached and the entries' times kept."""
        if self._prepared is not None:
            return
        cache, prefixes, pack = self._cache, self._prefixes, _TIMES.pack
        serialize, topic = self.value_serde.serialize, self.topic
        encode = self.value_serde.fast_encode
        if len(prefixes) > self.cache_max_entries:
            prefixes.clear()
        entries: list[tuple[bytes, bytes | None]] = []
        times: list[int] = []
        add_entry, add_time = entries.append, times.append
        for full, dirty_key in self._dirty.items():
            hk, t1, t2 = full
            prefix = prefixes.get(hk)
            if prefix is None:
                prefix = prefixes[hk] = _prefix(self.key_bytes(dirty_key[0]))
            value = cache[full]
            if value is DELETED:
                vb = None
            elif encode is not None:
                try:
                    vb = encode(value)
                except Exception:
                    vb = serialize(topic, value)
            else:
                vb = serialize(topic, value)
            add_entry((prefix + pack(t1, t2), vb))
            add_time(t1)
        if self.changelog is not None:
            send = self.changelog
            ts = max(self.stream_time, 0)
            for key, value in entries:
                send(key, value, ts)
        self._prepared = entries
        self._prepared_times = times

    def complete_commit(self) -> None:
        if self._prepared is None:
            self.prepare_commit()
        assert self._prepared is not None
        if self._prepared:
            self.write_inner(self._prepared, self._prepared_times)
        self._prepared = None
        self._dirty.clear()
        self._dirty_index = None
        if len(self._cache) > self.cache_max_entries:
            self._cache.clear()

    # -- buffer ---------------------------------------------------------------------------------------

    def _put(self, key: Any, t1: int, t2: int, value: Any) -> bool:
        if t1 <= self.observed_time - self.retention_ms:
            self.expired_writes += 1
            return False
        self.observed_time = max(self.observed_time, t1)
        hk = self.hashable_key(key)
        full = (hk, t1, t2)
        self._cache[full] = value
        self._dirty[full] = (key, t1, t2)
        if self._dirty_index is not None:
            self._index_dirty(hk, t1, t2, value)
        return True

    def _index_dirty(self, hk: Any, t1: int, t2: int, value: Any) -> None:
        assert self._dirty_index is not None
        index = self._dirty_index.get(hk)
        if index is None:
            index = self._dirty_index[hk] = {}
        index[(t1, t2)] = value

    def _dirty_of(self, hk: Any) -> dict[tuple[int, int], Any]:
        """The dirty entries of one key: {(t1, t2): value}."""
        if self._dirty_index is None:
            self._dirty_index = {}
            cache = self._cache
            for full in self._dirty:
                self._index_dirty(full[0], full[1], full[2], cache[full])
        return self._dirty_index.get(hk, {})

    def _expired(self, t1: int) -> bool:
        return t1 <= self.observed_time - self.retention_ms

    def _get(self, key: Any, t1: int, t2: int) -> Any:
        if self._expired(t1):
            return None
        return self._load(key, t1, t2)

    def _load(self, key: Any, t1: int, t2: int) -> Any:
        """The value at (key, t1, t2) as held now, expired or not (None: absent)."""
        hk = self.hashable_key(key)
        value = self._cache.get((hk, t1, t2), MISSING)
        if value is MISSING:
            if t1 > self.inner_max_t1:
                return None
            kb = _prefix(self.key_bytes(key)) + _TIMES.pack(t1, t2)
            seg = self.segments.segment(t1, create=False)
            raw = seg.get(kb) if seg is not None else None
            value = DELETED if raw is None else self.value_serde.deserialize(self.topic, raw)
            self._cache[(hk, t1, t2)] = value
        return None if value is DELETED else value

    def _scan_key(self, key: Any, t1_from: int, t1_to: int) -> list[tuple[int, int, Any]]:
        """(t1, t2, value) of `key` with t1_from <= t1 <= t1_to, in (t1, t2) order."""
        t1_from = max(t1_from, self.observed_time - self.retention_ms + 1)
        prefix = _prefix(self.key_bytes(key))
        found: dict[tuple[int, int], Any] = {}
        lo = prefix + _TIMES.pack(max(t1_from, 0), 0)
        hi = prefix + _TIMES.pack(t1_to, 0x7FFFFFFFFFFFFFFF)
        for sid in sorted(self.segments.segments) if t1_from <= self.inner_max_t1 else ():
            start = sid * self.segments.interval
            if start > t1_to or start + self.segments.interval <= t1_from:
                continue
            for kb, vb in self.segments.segments[sid].range(lo, hi + b"\x00"):
                t1, t2 = _TIMES.unpack_from(kb, len(kb) - 16)
                found[(t1, t2)] = vb
        decoded: dict[tuple[int, int], Any] = {}
        for (t1, t2), value in self._dirty_of(self.hashable_key(key)).items():
            if t1_from <= t1 <= t1_to:
                if value is DELETED:
                    found.pop((t1, t2), None)
                else:
                    found[(t1, t2)] = None
                    decoded[(t1, t2)] = value
        out = []
        for t in sorted(found):
            value = decoded[t] if t in decoded else self.value_serde.deserialize(self.topic, found[t])
            out.append((t[0], t[1], value))
        return out

    def _scan_all(self, t1_from: int, t1_to: int) -> list[tuple[Any, int, int, Any]]:
        t1_from = max(t1_from, self.observed_time - self.retention_ms + 1)
        found: dict[bytes, Any] = {}
        for sid in sorted(self.segments.segments):
            for kb, vb in self.segments.segments[sid].range(None, None):
                t1 = _TIMES.unpack_from(kb, len(kb) - 16)[0]
                if t1_from <= t1 <= t1_to:
                    found[kb] = vb
        decoded: dict[bytes, Any] = {}
        for full, dk in self._dirty.items():
            if t1_from <= dk[1] <= t1_to:
                kb, _ = self.encode_entry(dk, None)
                value = self._cache[full]
                if value is DELETED:
                    found.pop(kb, None)
                else:
                    found[kb] = None
                    decoded[kb] = value
        out = []
        for kb in sorted(found, key=lambda b: (b[-16:-8], b)):
            key, t1, t2 = self.decode_key(kb)
            value = decoded[kb] if kb in decoded else self.value_serde.deserialize(self.topic, found[kb])
            out.append((key, t1, t2, value))
        return out

    def _freeze(self, frozen: Any) -> None:
        frozen.segments = frozen.inner
        frozen._dirty_index = None  # the copy builds its own from its `_dirty` when it scans
        frozen._prefixes = {}
        frozen._prepared_times = []

    def abort(self) -> None:
        super().abort()
        self._dirty_index = None

    def close(self) -> None:
        self.open = False
        self._cache.clear()
        self._dirty.clear()
        self._dirty_index = None
        self.segments.close()

    @property
    def horizon(self) -> int:
        """No entry has a larger t1 (-1: the store is empty)."""
        return max(self.observed_time, self.inner_max_t1)


class WindowStore(SegmentedStore):
    """(key, window start) -> value; `retain_duplicates` keeps every put (join buffers)."""

    retain_duplicates = False
    _seq = time.time_ns()  # unique across restarts: a restored buffer never sees a reused sequence

    def put(self, key: Any, value: Any, window_start: int) -> None:
        if self.retain_duplicates:
            if value is None:
                return
            self._seq += 1
            self._put(key, window_start, self._seq, value)
        else:
            self._put(key, window_start, 0, DELETED if value is None else value)

    def fetch(self, key: Any, window_start: int) -> Any:
        return self._get(key, window_start, 0)

    def fetch_many(
        self, key: Any, first: int, last: int, step: int, include_expired: bool = False
    ) -> list[Any]:
        """`fetch(key, s)` for s = first, first + step, ... <= last, in one call (pane-based windows
        read a window's panes so): the key is hashed once, cached values are read in place.
        `include_expired`: also what is older than the retention but still held (a commit drops it):
        a window that closed since the last commit is emitted at that commit from its panes."""
        hk = key if type(key) in _PLAIN else self.hashable_key(key)
        cache_get = self._cache.get
        limit = -1 if include_expired else self.observed_time - self.retention_ms
        top = self.horizon
        out: list[Any] = []
        append = out.append
        for t1 in range(first, last + 1, step):
            if t1 <= limit or t1 > top:
                append(None)
                continue
            value = cache_get((hk, t1, 0), MISSING)
            if value is MISSING:
                append(self._load(key, t1, 0))
            else:
                append(None if value is DELETED else value)
        return out

    def aggregate(
        self,
        key: Any,
        window_start: int,
        value: Any,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
    ) -> tuple[Any, Any, Any]:
        """Read-modify-write of one window (or pane) in one call: as `old = fetch(key, start)`,
        `new = aggregator(key, value, initializer() if old is None else old)`, `put(key, new, start)`.
        Returns the hashable key, the old value and the new one."""
        hk = key if type(key) in _PLAIN else self.hashable_key(key)
        if window_start <= self.observed_time - self.retention_ms or self.retain_duplicates:
            old = self.fetch(key, window_start)
            new = aggregator(key, value, initializer() if old is None else old)
            self.put(key, new, window_start)
            return hk, old, new
        full = (hk, window_start, 0)
        old = self._cache.get(full, MISSING)
        if old is MISSING:
            old = None if window_start > self.inner_max_t1 else self._get(key, window_start, 0)
        elif old is DELETED:
            old = None
        new = aggregator(key, value, initializer() if old is None else old)
        if window_start > self.observed_time:  # noqa: PLR1730 - an if is cheaper than max() per record
            self.observed_time = window_start
        stored = DELETED if new is None else new
        self._cache[full] = stored
        self._dirty[full] = (key, window_start, 0)
        if self._dirty_index is not None:
            self._index_dirty(hk, window_start, 0, stored)
        return hk, old, new

    def fetch_range(self, key: Any, time_from: int, time_to: int) -> list[tuple[int, Any]]:
        """(window start, value) of `key` with time_from <= start <= time_to, oldest first."""
        return [(t1, v) for t1, _, v in self._scan_key(key, time_from, time_to)]

    def fetch_all(self, time_from: int, time_to: int) -> list[tuple[tuple[Any, int], Any]]:
        return [((k, t1), v) for k, t1, _, v in self._scan_all(time_from, time_to)]

    def all(self) -> list[tuple[tuple[Any, int], Any]]:
        return self.fetch_all(0, 0x7FFFFFFFFFFFFFFF)


class SessionStore(SegmentedStore):
    """(key, session start, session end) -> aggregate."""

    def put(self, key: Any, start: int, end: int, value: Any) -> None:
        self._put(key, end, start, DELETED if value is None else value)

    def remove(self, key: Any, start: int, end: int) -> None:
        self._put(key, end, start, DELETED)

    def fetch_session(self, key: Any, start: int, end: int) -> Any:
        return self._get(key, end, start)

    def find_sessions(self, key: Any, earliest_end: int, latest_start: int) -> list[tuple[int, int, Any]]:
        """(start, end, aggregate) of sessions of `key` with end >= earliest_end and start <= latest_start."""
        found = self._scan_key(key, earliest_end, 0x7FFFFFFFFFFFFFFF)
        return [(start, end, v) for end, start, v in found if start <= latest_start]

    def fetch(self, key: Any) -> list[tuple[int, int, Any]]:
        return self.find_sessions(key, 0, 0x7FFFFFFFFFFFFFFF)

    def all(self) -> list[tuple[tuple[Any, int, int], Any]]:
        return [((k, start, end), v) for k, end, start, v in self._scan_all(0, 0x7FFFFFFFFFFFFFFF)]
