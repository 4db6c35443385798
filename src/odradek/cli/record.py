"""A record as the CLI sees it: what `consume` prints and what `produce` parses from its input.

Keys, values and header values are raw bytes (``None`` is Kafka's null); header keys are strings,
as in the protocol. Fields the input did not give stay ``None`` (the broker or the client fills
them in: partition by the partitioner, timestamp at send time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Header = tuple[str, bytes | None]


@dataclass(frozen=True, slots=True)
class Record:
    key: bytes | None = None
    value: bytes | None = None
    headers: tuple[Header, ...] = ()
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp: int | None = None
    # "CreateTime" or "LogAppendTime" (Kafka's TimestampType names); None when unknown.
    timestamp_type: str | None = field(default=None)
