"""Stream-stream windowed joins (inner, left, outer) and stream-table / stream-global-table joins.

Stream-stream: each side keeps its records in a window store (duplicates kept). A record on the left
at `t` joins right records in `[t - before, t + after]` (and a right record at `t` joins left records
in `[t - after, t + before]`); each match is forwarded as `joiner(left, right)` with the larger
timestamp. For left and outer joins, a record without a match is parked in a shared "outer" store and
forwarded as `joiner(left, None)` / `joiner(None, right)` only once its join window has closed (stream
time past `t + after + grace` for a left record, `t + before + grace` for a right one) and no match
arrived — so no spurious unmatched results, as in Kafka Streams since 3.1.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from typing import Any

from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Record
from odradek.streams.serdes import Serde
from odradek.streams.windows import JoinWindows

_QB = struct.Struct(">qB")


class OuterKeySerde(Serde[tuple[int, int, Any]]):
    """(timestamp, side 0=left/1=right, key) -> 8-byte ts, 1-byte side, key bytes: time-ordered scans."""

    name = "outer-join-key"

    def __init__(self, inner: Serde[Any] | None) -> None:
        self.inner: Serde[Any] = inner  # type: ignore[assignment]

    def with_defaults(
        self, key_default: Serde[Any], value_default: Serde[Any]
    ) -> Serde[tuple[int, int, Any]]:
        return OuterKeySerde((self.inner or key_default).with_defaults(key_default, value_default))

    def to_bytes(self, obj: tuple[int, int, Any]) -> bytes:
        return _QB.pack(obj[0], obj[1]) + (self.inner.serialize("", obj[2]) or b"")

    def from_bytes(self, data: bytes) -> tuple[int, int, Any]:
        ts, side = _QB.unpack_from(data)
        return ts, side, self.inner.deserialize("", data[9:])


class StreamStreamJoinProcessor(Processor):
    def __init__(
        self,
        this_store: str,
        other_store: str,
        outer_store: str | None,
        windows: JoinWindows,
        joiner: Callable[[Any, Any], Any],
        is_left: bool,
        emit_unmatched_this: bool,
    ) -> None:
        self.this_name = this_store
        self.other_name = other_store
        self.outer_name = outer_store
        self.windows = windows
        self.joiner = joiner
        self.is_left = is_left
        self.emit_unmatched_this = emit_unmatched_this
        if is_left:
            self.lookback, self.lookahead = windows.before_ms, windows.after_ms
        else:
            self.lookback, self.lookahead = windows.after_ms, windows.before_ms
        self.late_records = 0
        self.skipped = 0

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.this = context.get_state_store(self.this_name)
        self.other = context.get_state_store(self.other_name)
        self.outer = context.get_state_store(self.outer_name) if self.outer_name else None

    def _join(self, mine: Any, theirs: Any) -> Any:
        return self.joiner(mine, theirs) if self.is_left else self.joiner(theirs, mine)

    def process(self, record: Record[Any, Any]) -> None:
        key, ts = record.key, record.timestamp
        if key is None or record.value is None:
            self.skipped += 1
            return
        stream_time = self.context.current_stream_time_ms()
        grace = self.windows.grace_ms
        if ts < stream_time - self.windows.before_ms - self.windows.after_ms - grace:
            self.late_records += 1
            return
        self.this.put(key, record.value, ts)
        matches = self.other.fetch_range(key, ts - self.lookback, ts + self.lookahead)
        forward = self.context.forward
        other_side = 1 if self.is_left else 0
        for other_ts, other_value in matches:
            forward(Record(key, self._join(record.value, other_value), max(ts, other_ts), record.headers))
            if self.outer is not None:
                self.outer.delete((other_ts, other_side, key))
        if not matches and self.emit_unmatched_this and self.outer is not None:
            pair = (record.value, None) if self.is_left else (None, record.value)
            self.outer.put((ts, 0 if self.is_left else 1, key), pair)
        if self.outer is not None:
            self.emit_unmatched()

    def emit_unmatched(self) -> None:
        assert self.outer is not None
        now = self.context.current_stream_time_ms()
        grace = self.windows.grace_ms
        limit = now - grace - min(self.windows.before_ms, self.windows.after_ms)
        if limit < 0:
            return
        expired = []
        for (ts, side, key), (left, right) in self.outer.range(None, (limit, 2, None)):
            window_end = ts + (self.windows.after_ms if side == 0 else self.windows.before_ms) + grace
            if window_end < now:
                expired.append(((ts, side, key), left, right))
        for outer_key, left, right in expired:
            self.outer.delete(outer_key)
            self.context.forward(Record(outer_key[2], self.joiner(left, right), outer_key[0]))

    def on_stream_time_advanced(self, stream_time: int) -> None:
        if self.outer is not None:
            self.emit_unmatched()


class StreamTableJoinProcessor(Processor):
    """Joins each stream record with the table's current value for its key (or `key_mapper(k, v)`
    for a global table). Inner joins drop records without a table value; left joins pass `None`."""

    def __init__(
        self,
        getter_supplier: Any,
        joiner: Callable[..., Any],
        left: bool,
        key_mapper: Callable[[Any, Any], Any] | None = None,
        joiner_with_key: bool = False,
        grace_ms: int | None = None,
        buffer: str | None = None,
    ) -> None:
        self.getter_supplier = getter_supplier
        self.joiner = joiner
        self.left = left
        self.key_mapper = key_mapper
        self.with_key = joiner_with_key
        self.grace_ms = grace_ms
        self.buffer_name = buffer
        self._seq = time.time_ns()  # unique across restarts: a restored buffer never sees a reused one

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.getter = self.getter_supplier.make(context)
        # a versioned table is read as of the stream record's time (KIP-914)
        self.getter_at = self.getter_supplier.make_at(context)
        self.buffer = context.get_state_store(self.buffer_name) if self.buffer_name else None

    def process(self, record: Record[Any, Any]) -> None:
        if self.buffer is None:
            self._process(record)
            return
        # KIP-923: wait in the buffer until stream time passes timestamp + grace, then join in
        # timestamp order (a record already past its grace goes through at once); as in Kafka
        # Streams the buffer is checked when a stream record arrives (and when an idle task's
        # stream time follows the wall clock)
        if record.value is not None:
            self._seq += 1
            self.buffer.put((record.timestamp, 0, self._seq), (record.key, record.value))
        self._evict()

    def _evict(self) -> None:
        assert self.buffer is not None and self.grace_ms is not None
        limit = self.context.current_stream_time_ms() - self.grace_ms
        if limit < 0:
            return
        due = list(self.buffer.range(None, (limit, 0, 0x7FFFFFFFFFFFFFFF)))
        for buffered_key, (key, value) in due:
            self.buffer.delete(buffered_key)
            self._process(Record(key, value, buffered_key[0]))

    def on_stream_time_advanced(self, stream_time: int) -> None:
        if self.buffer is not None:
            self._evict()

    def _process(self, record: Record[Any, Any]) -> None:
        lookup = record.key if self.key_mapper is None else self.key_mapper(record.key, record.value)
        if record.value is None or (lookup is None and not self.left):
            return
        if lookup is None:
            found = None
        elif self.getter_at is not None:
            found = self.getter_at(lookup, record.timestamp)
        else:
            found = self.getter(lookup)
        table_value = found[0] if found is not None else None
        if table_value is None and not self.left:
            return
        joined = (
            self.joiner(record.key, record.value, table_value)
            if self.with_key
            else self.joiner(record.value, table_value)
        )
        self.context.forward(record.with_value(joined))
