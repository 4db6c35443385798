"""Where sinks and changelogs send serialized records: the test driver's in-memory topics or a producer."""

from __future__ import annotations

from typing import Protocol

from odradek.streams.record import Headers


class RecordCollector(Protocol):
    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: Headers | None,
        partition: int | None,
    ) -> None: ...

    def partitions_for(self, topic: str) -> int | None:
        """The topic's partition count when known (custom partitioners need it)."""
        ...
