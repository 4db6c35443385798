"""What a state store is (not the store itself): its name, kind, serdes, where it lives and how it is
backed up. The engine opens one store per task from each spec; `Stores` builds specs.

| kind | logical key -> value | binary layout in the byte store (and in its changelog) |
|---|---|---|
| key_value | key -> value | key bytes -> value bytes |
| timestamped_key_value | key -> ValueAndTimestamp | key bytes -> 8-byte timestamp + value bytes |
| window | (key, window start) -> value | 4-byte key length, key, 8-byte start, 8-byte sequence |
| session | (key, start, end) -> value | 4-byte key length, key, 8-byte end, 8-byte start |
| versioned_key_value | key -> its versions over time | key bytes -> the versions (state/versioned.py) |

All integers are big-endian; times are non-negative milliseconds, so byte order is time order.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from odradek.streams.serdes import Serde


class StoreKind(enum.Enum):
    KEY_VALUE = "key_value"
    TIMESTAMPED_KEY_VALUE = "timestamped_key_value"
    WINDOW = "window"
    SESSION = "session"
    VERSIONED_KEY_VALUE = "versioned_key_value"


@dataclass
class StoreSpec:
    name: str
    kind: StoreKind
    key_serde: Serde[Any] | None = None
    value_serde: Serde[Any] | None = None
    persistent: bool = True
    """RocksDB (True) or memory (False)."""
    logging: bool = True
    """Backed by a compacted changelog topic `{application.id}-{name}-changelog`."""
    log_config: dict[str, str] = field(default_factory=dict)
    retention_ms: int = 86_400_000
    """Window and session stores: how long windows are kept (at least window size + grace)."""
    window_size_ms: int = 0
    retain_duplicates: bool = False
    """Window stores of stream-stream joins keep every record, not the last per (key, start)."""
    segment_interval_ms: int = 0
    """0: max(retention / 2, 60 s), as Kafka Streams."""
    panes: Any = None
    """`(TimeWindows, merger)` when a hopping aggregation keeps panes here: queries merge them."""
    history_retention_ms: int = 0
    """Versioned stores: how long old versions stay readable (KIP-889)."""

    def changelog_cleanup_policy(self) -> str:
        return "compact,delete" if self.kind in (StoreKind.WINDOW, StoreKind.SESSION) else "compact"

    def segment_interval(self) -> int:
        return self.segment_interval_ms or max(self.retention_ms // 2, 60_000)


class Stores:
    """Builders of store specs, as Kafka Streams' `Stores` (persistent = RocksDB, in_memory = dict)."""

    @staticmethod
    def key_value(
        name: str,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        *,
        persistent: bool = True,
        logging: bool = True,
        timestamped: bool = False,
    ) -> StoreSpec:
        kind = StoreKind.TIMESTAMPED_KEY_VALUE if timestamped else StoreKind.KEY_VALUE
        return StoreSpec(name, kind, key_serde, value_serde, persistent, logging)

    @staticmethod
    def persistent_versioned_key_value_store(
        name: str,
        history_retention_ms: int,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        *,
        persistent: bool = True,
        logging: bool = True,
    ) -> StoreSpec:
        """A versioned key-value store (KIP-889) on RocksDB (`persistent=False`: in memory): every
        value of a key for `history_retention_ms`, read with `get(key, as_of_timestamp)`. Its
        changelog keeps records at least that long (`min.compaction.lag.ms`), as Kafka Streams."""
        if history_retention_ms < 0:
            raise ValueError("history_retention_ms cannot be negative")
        return StoreSpec(
            name,
            StoreKind.VERSIONED_KEY_VALUE,
            key_serde,
            value_serde,
            persistent,
            logging,
            log_config={"min.compaction.lag.ms": str(history_retention_ms + 86_400_000)},
            history_retention_ms=history_retention_ms,
        )

    @staticmethod
    def in_memory_versioned_key_value_store(
        name: str,
        history_retention_ms: int,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        *,
        logging: bool = True,
    ) -> StoreSpec:
        return Stores.persistent_versioned_key_value_store(
            name, history_retention_ms, key_serde, value_serde, persistent=False, logging=logging
        )

    @staticmethod
    def window(
        name: str,
        retention_ms: int,
        window_size_ms: int,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        *,
        retain_duplicates: bool = False,
        persistent: bool = True,
        logging: bool = True,
    ) -> StoreSpec:
        return StoreSpec(
            name,
            StoreKind.WINDOW,
            key_serde,
            value_serde,
            persistent,
            logging,
            retention_ms=retention_ms,
            window_size_ms=window_size_ms,
            retain_duplicates=retain_duplicates,
        )

    @staticmethod
    def session(
        name: str,
        retention_ms: int,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        *,
        persistent: bool = True,
        logging: bool = True,
    ) -> StoreSpec:
        return StoreSpec(
            name, StoreKind.SESSION, key_serde, value_serde, persistent, logging, retention_ms=retention_ms
        )
