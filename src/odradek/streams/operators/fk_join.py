"""Foreign-key table-table join (KIP-213): `left.join(right, foreign_key_extractor=fk, joiner=j)`.

Messages cross partitions through two internal topics:

1. *subscription* (keyed by the foreign key, co-partitioned with the right table): a left row
   subscribes to its foreign key (`SUBSCRIBE` with a hash of the left value) or unsubscribes from
   its old one (`UNSUBSCRIBE`) when the foreign key changes or the row is deleted;
2. the right side keeps subscriptions in a store keyed by (foreign key, primary key); a new
   subscription, or a change of the right row, sends a *response* (keyed by the primary key,
   co-partitioned with the left table) carrying the value hash it answers and the right value;
3. the left side joins a response only if the hash still matches the current left value (a
   response to an outdated value is dropped), and materializes the result.

Layouts: subscription value = 1-byte instruction, 16-byte hash, primary key bytes; response value =
16-byte hash (zeros: "no hash"), then the right value bytes (absent: None); store key = 4-byte
foreign-key length, foreign key, primary key.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from typing import Any

from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Change, OutOfOrderChange, Record
from odradek.streams.serdes import Serde
from odradek.streams.state.keyvalue import ValueAndTimestamp

SUBSCRIBE, UNSUBSCRIBE = 1, 2
_NO_HASH = bytes(16)
_LEN = struct.Struct(">I")


def _resolve(context: ProcessorContext, serde: Serde[Any] | None, is_key: bool) -> Serde[Any]:
    return context.task.resolve_serde(serde, is_key)  # type: ignore[attr-defined, no-any-return]


def value_hash(data: bytes | None) -> bytes:
    return _NO_HASH if data is None else hashlib.md5(data, usedforsecurity=False).digest()


class SubscriptionSerde(Serde[tuple[int, bytes, Any]]):
    name = "fk-subscription"

    def __init__(self, pk_serde: Serde[Any] | None) -> None:
        self.pk: Serde[Any] = pk_serde  # type: ignore[assignment]

    def with_defaults(
        self, key_default: Serde[Any], value_default: Serde[Any]
    ) -> Serde[tuple[int, bytes, Any]]:
        return SubscriptionSerde((self.pk or key_default).with_defaults(key_default, value_default))

    def to_bytes(self, obj: tuple[int, bytes, Any]) -> bytes:
        return bytes([obj[0]]) + obj[1] + (self.pk.serialize("", obj[2]) or b"")

    def from_bytes(self, data: bytes) -> tuple[int, bytes, Any]:
        return data[0], data[1:17], self.pk.deserialize("", data[17:])


class ResponseSerde(Serde[tuple[bytes, Any]]):
    name = "fk-response"

    def __init__(self, value_serde: Serde[Any] | None) -> None:
        self.value: Serde[Any] = value_serde  # type: ignore[assignment]

    def with_defaults(self, key_default: Serde[Any], value_default: Serde[Any]) -> Serde[tuple[bytes, Any]]:
        return ResponseSerde((self.value or value_default).with_defaults(key_default, value_default))

    def to_bytes(self, obj: tuple[bytes, Any]) -> bytes:
        raw = self.value.serialize("", obj[1]) if obj[1] is not None else None
        return obj[0] + (b"" if raw is None else b"\x01" + raw)

    def from_bytes(self, data: bytes) -> tuple[bytes, Any]:
        if len(data) <= 16:
            return data[:16], None
        return data[:16], self.value.deserialize("", data[17:])


class CompositeKeySerde(Serde[tuple[Any, Any]]):
    name = "fk-composite-key"

    def __init__(self, fk_serde: Serde[Any] | None, pk_serde: Serde[Any] | None) -> None:
        self.fk: Serde[Any] = fk_serde  # type: ignore[assignment]
        self.pk: Serde[Any] = pk_serde  # type: ignore[assignment]

    def with_defaults(self, key_default: Serde[Any], value_default: Serde[Any]) -> Serde[tuple[Any, Any]]:
        return CompositeKeySerde(
            (self.fk or key_default).with_defaults(key_default, value_default),
            (self.pk or key_default).with_defaults(key_default, value_default),
        )

    def prefix(self, fk: Any) -> bytes:
        raw = self.fk.serialize("", fk) or b""
        return _LEN.pack(len(raw)) + raw

    def to_bytes(self, obj: tuple[Any, Any]) -> bytes:
        return self.prefix(obj[0]) + (self.pk.serialize("", obj[1]) or b"")

    def from_bytes(self, data: bytes) -> tuple[Any, Any]:
        n = _LEN.unpack_from(data)[0]
        return self.fk.deserialize("", data[4 : 4 + n]), self.pk.deserialize("", data[4 + n :])


class SubscriptionSender(Processor):
    """Left side: turns left-row changes into subscription messages (and local answers)."""

    def __init__(
        self, extractor: Callable[[Any], Any], left_value_serde: Serde[Any] | None, left: bool
    ) -> None:
        self.extractor = extractor
        self.left_value_serde = left_value_serde
        self.left = left

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.serde = _resolve(context, self.left_value_serde, False)

    def process(self, record: Record[Any, Any]) -> None:
        if type(record.value) is OutOfOrderChange:  # KIP-914: history only, no new result
            return
        change: Change = record.value
        pk = record.key
        fk_new = self.extractor(change.new) if change.new is not None else None
        fk_old = self.extractor(change.old) if change.old is not None else None
        ts = record.timestamp
        if fk_old is not None and fk_old != fk_new:
            self.context.forward(Record(fk_old, (UNSUBSCRIBE, _NO_HASH, pk), ts), "subscribe")
        if change.new is None or fk_new is None:
            # deleted, or no foreign key: answer locally ("no right value" for the current hash)
            current = value_hash(self.serde.serialize("", change.new)) if change.new is not None else _NO_HASH
            self.context.forward(Record(pk, (current, None), ts), "local")
            return
        digest = value_hash(self.serde.serialize("", change.new))
        self.context.forward(Record(fk_new, (SUBSCRIBE, digest, pk), ts), "subscribe")


class SubscriptionReceiver(Processor):
    """Right side: keeps subscriptions, answers each new subscription with the right row's value."""

    def __init__(self, store: str, right_getter: Any, key_serde: CompositeKeySerde) -> None:
        self.store_name = store
        self.right_getter_supplier = right_getter
        self.key_serde = key_serde

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.store_name)
        self.right = self.right_getter_supplier.make(context)

    def process(self, record: Record[Any, Any]) -> None:
        fk = record.key
        instruction, digest, pk = record.value
        if instruction == UNSUBSCRIBE:
            self.store.delete((fk, pk))
            return
        self.store.put((fk, pk), digest)
        found = self.right(fk)
        self.context.forward(Record(pk, (digest, found[0] if found is not None else None), record.timestamp))


class ForeignTableChangeProcessor(Processor):
    """Right side: a changed right row answers every subscription to its key."""

    def __init__(self, store: str, key_serde: CompositeKeySerde) -> None:
        self.store_name = store
        self.key_serde = key_serde

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.store_name)
        self.resolved = self.key_serde.with_defaults(
            _resolve(context, None, True), _resolve(context, None, False)
        )

    def process(self, record: Record[Any, Any]) -> None:
        if type(record.value) is OutOfOrderChange:  # KIP-914: history only, no new result
            return
        change: Change = record.value
        prefix = self.resolved.prefix(record.key)  # type: ignore[attr-defined]
        for (_, pk), digest in list(self.store.prefix_scan(prefix)):
            self.context.forward(Record(pk, (digest, change.new), record.timestamp))


class ResponseResolver(Processor):
    """Left side: joins a response if it answers the current left value; keeps the result table."""

    def __init__(
        self,
        left_getter: Any,
        store: str,
        joiner: Callable[[Any, Any], Any],
        left: bool,
        left_value_serde: Serde[Any] | None,
    ) -> None:
        self.left_getter_supplier = left_getter
        self.store_name = store
        self.joiner = joiner
        self.left = left
        self.left_value_serde = left_value_serde

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.left_get = self.left_getter_supplier.make(context)
        self.store = context.get_state_store(self.store_name)
        self.serde = _resolve(context, self.left_value_serde, False)

    def process(self, record: Record[Any, Any]) -> None:
        pk = record.key
        digest, right_value = record.value
        found = self.left_get(pk)
        left_value = found[0] if found is not None else None
        current = value_hash(self.serde.serialize("", left_value)) if left_value is not None else _NO_HASH
        if digest != current:
            return
        if left_value is None or (right_value is None and not self.left):
            joined = None
        else:
            joined = self.joiner(left_value, right_value)
        previous = self.store.get(pk)
        old = previous[0] if previous is not None else None
        if joined is None:
            if old is None:
                return
            self.store.delete(pk)
        else:
            self.store.put(pk, ValueAndTimestamp(joined, record.timestamp))
        self.context.forward(Record(pk, Change(joined, old), record.timestamp))
