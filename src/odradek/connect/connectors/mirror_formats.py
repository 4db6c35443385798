"""MirrorMaker 2's internal records, byte for byte, and its offset-translation rules (pure).

Kafka's protocol types: STRING = int16 length + UTF-8, INT16/INT32/INT64 big-endian.

    offset sync   topic mm2-offset-syncs.<target alias>.internal (on the source cluster by default)
                  key   {topic: STRING, partition: INT32}                        (upstream partition)
                  value {upstreamOffset: INT64, offset: INT64}                   (offset = downstream)
    checkpoint    topic <source alias>.checkpoints.internal (on the target cluster)
                  key   {group: STRING, topic: STRING, partition: INT32}        (downstream topic)
                  value {version: INT16 = 0} {upstreamOffset: INT64, offset: INT64, metadata: STRING}
    heartbeat     topic heartbeats (on the target cluster)
                  key   {sourceClusterAlias: STRING, targetClusterAlias: STRING}
                  value {version: INT16 = 0} {timestamp: INT64}

An offset sync says "upstream record U was written downstream at D". The replicator emits one
(`OffsetSyncState.update`) for the first record of a partition in its lifetime, after a gap
upstream (a compacted or transactional topic skips offsets), when the downstream topic went back
(truncated), and at least every `offset.lag.max` records; between syncs the pairs move in step.
A consumer group that committed upstream offset G translates through the latest sync with
upstream <= G: to D itself when U == G (the same record), else to D + 1 (never past a record the
group has not read: at most a few records are read again after a fail-over, none are skipped).
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from dataclasses import dataclass

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_TWO_I64 = struct.Struct(">qq")
VERSION = 0


def offset_syncs_topic(target_alias: str) -> str:
    return f"mm2-offset-syncs.{target_alias}.internal"


def checkpoints_topic(source_alias: str) -> str:
    return f"{source_alias}.checkpoints.internal"


def _string(text: str) -> bytes:
    raw = text.encode()
    return _I16.pack(len(raw)) + raw


def _read_string(data: bytes, at: int) -> tuple[str, int]:
    (length,) = _I16.unpack_from(data, at)
    at += 2
    return data[at : at + length].decode(), at + length


@dataclass(frozen=True, slots=True)
class OffsetSync:
    topic: str
    partition: int
    upstream_offset: int
    downstream_offset: int

    def key(self) -> bytes:
        return _string(self.topic) + _I32.pack(self.partition)

    def value(self) -> bytes:
        return _TWO_I64.pack(self.upstream_offset, self.downstream_offset)

    @classmethod
    def parse(cls, key: bytes, value: bytes) -> OffsetSync:
        topic, at = _read_string(key, 0)
        (partition,) = _I32.unpack_from(key, at)
        upstream, downstream = _TWO_I64.unpack_from(value, 0)
        return cls(topic, partition, upstream, downstream)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    group: str
    topic: str
    partition: int
    upstream_offset: int
    downstream_offset: int
    metadata: str = ""

    def key(self) -> bytes:
        return _string(self.group) + _string(self.topic) + _I32.pack(self.partition)

    def value(self) -> bytes:
        return (
            _I16.pack(VERSION)
            + _TWO_I64.pack(self.upstream_offset, self.downstream_offset)
            + _string(self.metadata)
        )

    @classmethod
    def parse(cls, key: bytes, value: bytes) -> Checkpoint:
        group, at = _read_string(key, 0)
        topic, at = _read_string(key, at)
        (partition,) = _I32.unpack_from(key, at)
        upstream, downstream = _TWO_I64.unpack_from(value, 2)
        metadata, _ = _read_string(value, 18)
        return cls(group, topic, partition, upstream, downstream, metadata)


def heartbeat_key(source_alias: str, target_alias: str) -> bytes:
    return _string(source_alias) + _string(target_alias)


def heartbeat_value(timestamp_ms: int) -> bytes:
    return _I16.pack(VERSION) + _I64.pack(timestamp_ms)


class OffsetSyncState:
    """When one partition's next offset sync is due (the replicator's side)."""

    def __init__(self, max_lag: int) -> None:
        self.max_lag = max_lag
        self.last_sync_downstream = -1
        self.previous_upstream = -1
        self.previous_downstream = -1

    def update(self, upstream: int, downstream: int) -> bool:
        due = (
            self.last_sync_downstream < 0
            or downstream - (self.last_sync_downstream + 1) >= self.max_lag
            or upstream - self.previous_upstream != 1
            or downstream < self.previous_downstream
        )
        if due:
            self.last_sync_downstream = downstream
        self.previous_upstream, self.previous_downstream = upstream, downstream
        return due


class OffsetSyncStore:
    """The known syncs of each upstream partition, kept sorted and bounded (the translating side)."""

    def __init__(self, max_per_partition: int = 10_000) -> None:
        self.max_per_partition = max_per_partition
        self._syncs: dict[tuple[str, int], tuple[list[int], list[int]]] = {}

    def add(self, sync: OffsetSync) -> None:
        upstream, downstream = self._syncs.setdefault((sync.topic, sync.partition), ([], []))
        if upstream and sync.upstream_offset <= upstream[-1]:
            # out of order or replayed (a restarted task re-syncs; a truncated topic starts again):
            # drop what the new sync contradicts
            keep = bisect_right(upstream, sync.upstream_offset - 1)
            del upstream[keep:], downstream[keep:]
        upstream.append(sync.upstream_offset)
        downstream.append(sync.downstream_offset)
        if len(upstream) > self.max_per_partition:
            del upstream[: len(upstream) - self.max_per_partition]
            del downstream[: len(downstream) - self.max_per_partition]

    def translate(self, topic: str, partition: int, upstream_offset: int) -> int | None:
        """The downstream offset for a group that committed `upstream_offset` upstream."""
        found = self._syncs.get((topic, partition))
        if not found or upstream_offset < 0:
            return None
        upstream, downstream = found
        i = bisect_right(upstream, upstream_offset) - 1
        if i < 0:
            return None
        return downstream[i] + (0 if upstream[i] == upstream_offset else 1)

    def __len__(self) -> int:
        return sum(len(u) for u, _ in self._syncs.values())
