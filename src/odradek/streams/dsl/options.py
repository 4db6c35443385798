"""Options of DSL operators (Kafka Streams' `Materialized`, `Grouped`, `Produced`, ...), as small
frozen dataclasses. Every DSL method also takes the common ones (`name=`, serdes) as keywords."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from odradek.streams.errors import TopologyException
from odradek.streams.serdes import Serde
from odradek.streams.state.spec import StoreKind, StoreSpec
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
    history_retention_ms: int | None = None
    """A versioned store (KIP-889) keeping each key's values for this long: source tables only
    (`builder.table`, `KStream.to_table`); `Stores.persistent_versioned_key_value_store(...)` may be
    passed as `materialized=` instead."""

    @classmethod
    def as_(cls, name: str, **kwargs: Any) -> Materialized:
        return cls(name, **kwargs)

    @classmethod
    def coerce(cls, value: Materialized | str | StoreSpec | None) -> Materialized:
        if value is None:
            return cls()
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, StoreSpec):
            if value.kind is not StoreKind.VERSIONED_KEY_VALUE:
                raise TopologyException(
                    f"materialized= takes a versioned store spec, not a {value.kind.value} store"
                )
            return cls(
                value.name,
                value.key_serde,
                value.value_serde,
                persistent=value.persistent,
                logging=value.logging,
                history_retention_ms=value.history_retention_ms,
            )
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
