"""Emit caching: with `statestore.cache.max.records` > 0, a stateful operator holds back its updates
and forwards only the latest per key at each commit (Kafka Streams' record cache), so a hot key
produces one downstream record per commit instead of one per input record. The old value forwarded is
the one before the first held-back update. The test driver commits after every input record, so tests
see every update.
"""

from __future__ import annotations

from typing import Any

from odradek.streams.processor import ProcessorContext
from odradek.streams.record import Change, Record


class EmitCache:
    def __init__(self, context: ProcessorContext, enabled: bool, max_entries: int) -> None:
        self.context = context
        self.enabled = enabled
        self.max_entries = max_entries
        self.pending: dict[Any, list[Any]] = {}

    def emit(self, key: Any, new: Any, old: Any, timestamp: int) -> None:
        if not self.enabled:
            self.context.forward(Record(key, Change(new, old), timestamp))
            return
        try:
            entry = self.pending.get(key)
        except TypeError:
            self.context.forward(Record(key, Change(new, old), timestamp))
            return
        if entry is None:
            self.pending[key] = [new, old, timestamp]
            if len(self.pending) > self.max_entries:
                self.flush()
        else:
            entry[0] = new
            entry[2] = timestamp

    def flush(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, {}
        forward = self.context.forward
        for key, (new, old, ts) in pending.items():
            if new is None and old is None:
                continue
            forward(Record(key, Change(new, old), ts))


def caching_enabled(context: ProcessorContext, requested: bool) -> tuple[bool, int]:
    limit = int(getattr(context, "config", {}).get("statestore.cache.max.records", 0) or 0)
    return requested and limit > 0, max(limit, 1)
