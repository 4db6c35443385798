"""Options of DSL operators (Kafka Streams' `Materialized`, `Grouped`, `Produced`, ...), as small
frozen dataclasses. Every DSL method also takes the common ones (`name=`, serdes) as keywords."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from odradek.streams.serdes import Serde
from odradek.streams.topology import Partitioner


@dataclass(frozen=True)
class Materialized:
    """How an operator's state store is kept: its name (queryable), serdes, RocksDB or memory,
    changelog on/off, emit caching on/off, and (window stores) retention."""

    name: str | None = None
    key_serde: Serde[Any] | None = None
    value_serde: Serde[Any] | None = None
    persistent: bool = True
    logging: bool = True
    caching: bool = True
    retention_ms: int | None = None

    @classmethod
    def as_(cls, name: str, **kwargs: Any) -> Materialized:
        return cls(name, **kwargs)

    @classmethod
    def coerce(cls, value: Materialized | str | None) -> Materialized:
        if value is None:
            return cls()
        if isinstance(value, str):
            return cls(value)
        return value


class EmitStrategy(enum.Enum):
    """KIP-825: forward every update (default) or only each window's final result."""

    ON_WINDOW_UPDATE = "on_window_update"
    ON_WINDOW_CLOSE = "on_window_close"


@dataclass(frozen=True)
class Repartitioned:
    name: str | None = None
    num_partitions: int | None = None
    key_serde: Serde[Any] | None = None
    value_serde: Serde[Any] | None = None
    partitioner: Partitioner | None = None
