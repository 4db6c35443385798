"""State stores: key-value, timestamped key-value, window and session; RocksDB or in memory."""

from odradek.streams.state.keyvalue import KeyValueStore, ValueAndTimestamp
from odradek.streams.state.segmented import SessionStore, WindowStore
from odradek.streams.state.spec import StoreKind, Stores, StoreSpec
from odradek.streams.state.versioned import VersionedKeyValueStore, VersionedRecord

__all__ = [
    "KeyValueStore",
    "SessionStore",
    "StoreKind",
    "StoreSpec",
    "Stores",
    "ValueAndTimestamp",
    "VersionedKeyValueStore",
    "VersionedRecord",
    "WindowStore",
]
