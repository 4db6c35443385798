"""Metadata records: every change to the cluster image is one of these (STYLE principle 2).

They mirror KRaft's metadata records, trimmed to what odradek keeps. Replaying a sequence of records
through `MetadataDelta` from an empty image rebuilds the image; a snapshot is just the records that
rebuild the current image (`ClusterImage.to_records`).

Wire/disk form (used by `local_store`): each record is a JSON object whose `"type"` is the class name
and whose other keys are the dataclass fields; UUIDs are written as their canonical string, tuples
as arrays, enums as their integer value. `record_to_json` / `record_from_json` convert both ways.
"""

from __future__ import annotations

import dataclasses
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.security_records import (
    SECURITY_RECORD_TYPES,
    AccessControlEntryRecord,
    ClientQuotaRecord,
    RemoveAccessControlEntryRecord,
    RemoveUserScramCredentialRecord,
    UserScramCredentialRecord,
)
from odradek.model.ids import BrokerId, Epoch
from odradek.model.leader_recovery import LeaderRecoveryState

NO_LEADER = BrokerId(-1)
FIRST_EPOCH = Epoch(0)


@dataclass(frozen=True, slots=True)
class ClusterIdRecord:
    """Sets the cluster id (written once, when the metadata is first created)."""

    cluster_id: str


@dataclass(frozen=True, slots=True)
class ControllerRecord:
    """The broker acting as controller and its epoch (single node: itself)."""

    controller_id: BrokerId
    controller_epoch: int = 0


@dataclass(frozen=True, slots=True)
class RegisterBrokerRecord:
    """Adds or replaces a broker's registration (its client endpoints and rack)."""

    broker_id: BrokerId
    host: str
    port: int
    rack: str | None = None
    fenced: bool = False
    broker_epoch: int = 0
    endpoints: tuple[str, ...] = ()
    """Every advertised listener as `NAME://host:port` (host/port are the first one's)."""


@dataclass(frozen=True, slots=True)
class BrokerFenceRecord:
    """Fences (no new leaderships, not in new ISRs) or unfences a registered broker."""

    broker_id: BrokerId
    fenced: bool


@dataclass(frozen=True, slots=True)
class UnregisterBrokerRecord:
    """Removes a broker's registration."""

    broker_id: BrokerId


@dataclass(frozen=True, slots=True)
class TopicRecord:
    """Creates a topic; its PartitionRecords and ConfigRecords follow in the same batch."""

    name: str
    topic_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class PartitionRecord:
    """Creates (or wholly replaces) one partition's state."""

    topic_id: uuid.UUID
    partition_id: int
    replicas: tuple[BrokerId, ...]
    isr: tuple[BrokerId, ...]
    leader: BrokerId
    leader_epoch: Epoch = FIRST_EPOCH
    partition_epoch: int = 0
    elr: tuple[BrokerId, ...] = ()
    last_known_elr: tuple[BrokerId, ...] = ()
    adding_replicas: tuple[BrokerId, ...] = ()
    removing_replicas: tuple[BrokerId, ...] = ()
    leader_recovery_state: LeaderRecoveryState = LeaderRecoveryState.RECOVERED


@dataclass(frozen=True, slots=True)
class PartitionChangeRecord:
    """Changes part of a partition's state; None fields are unchanged.

    Any change bumps `partition_epoch`. Setting `leader` (even to the current leader) bumps
    `leader_epoch`, which is how the controller fences a deposed leader.
    """

    topic_id: uuid.UUID
    partition_id: int
    leader: BrokerId | None = None
    isr: tuple[BrokerId, ...] | None = None
    replicas: tuple[BrokerId, ...] | None = None
    elr: tuple[BrokerId, ...] | None = None
    last_known_elr: tuple[BrokerId, ...] | None = None
    adding_replicas: tuple[BrokerId, ...] | None = None
    removing_replicas: tuple[BrokerId, ...] | None = None
    leader_recovery_state: LeaderRecoveryState | None = None
    """KIP-704: RECOVERING after an unclean election, RECOVERED once the new leader says so."""


@dataclass(frozen=True, slots=True)
class RemoveTopicRecord:
    """Deletes a topic, its partitions and its config overrides."""

    topic_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ConfigRecord:
    """Sets (value) or removes (None) one dynamic config of a topic or broker resource.

    Broker resources are named by broker id, or "" for the cluster-wide default.
    """

    resource_type: ConfigResourceType
    resource_name: str
    name: str
    value: str | None


@dataclass(frozen=True, slots=True)
class ProducerIdsRecord:
    """A block of producer ids was handed to `broker_id`; ids below `next_producer_id` are taken."""

    broker_id: BrokerId
    next_producer_id: int


@dataclass(frozen=True, slots=True)
class FeatureLevelRecord:
    """Finalizes feature `name` at `feature_level` (KIP-584; 0 turns the feature off)."""

    name: str
    feature_level: int


MetadataRecord = (
    ClusterIdRecord
    | ControllerRecord
    | RegisterBrokerRecord
    | BrokerFenceRecord
    | UnregisterBrokerRecord
    | TopicRecord
    | PartitionRecord
    | PartitionChangeRecord
    | RemoveTopicRecord
    | ConfigRecord
    | ProducerIdsRecord
    | FeatureLevelRecord
    | AccessControlEntryRecord
    | RemoveAccessControlEntryRecord
    | UserScramCredentialRecord
    | RemoveUserScramCredentialRecord
    | ClientQuotaRecord
)

RECORD_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        ClusterIdRecord,
        ControllerRecord,
        RegisterBrokerRecord,
        BrokerFenceRecord,
        UnregisterBrokerRecord,
        TopicRecord,
        PartitionRecord,
        PartitionChangeRecord,
        RemoveTopicRecord,
        ConfigRecord,
        ProducerIdsRecord,
        FeatureLevelRecord,
        *SECURITY_RECORD_TYPES,
    )
}


class RecordDecodeError(ValueError):
    """A stored record could not be decoded (unknown type, missing or malformed field)."""


def record_to_json(record: MetadataRecord) -> dict[str, object]:
    out: dict[str, object] = {"type": type(record).__name__}
    for field in dataclasses.fields(record):
        out[field.name] = _to_json(getattr(record, field.name))
    return out


def record_from_json(data: dict[str, Any]) -> MetadataRecord:
    cls = RECORD_TYPES.get(str(data.get("type")))
    if cls is None:
        raise RecordDecodeError(f"unknown metadata record type {data.get('type')!r}")
    kwargs: dict[str, object] = {}
    for name, convert, required in _decoder(cls):
        if name in data:
            kwargs[name] = convert(data[name])
        elif required:
            raise RecordDecodeError(f"{cls.__name__} lacks field {name}")
    record: MetadataRecord = cls(**kwargs)
    return record


Converter = Callable[[object], object]
_DECODERS: dict[type[Any], list[tuple[str, Converter, bool]]] = {}


def _decoder(cls: type[Any]) -> list[tuple[str, Converter, bool]]:
    """(field, converter, required) per field of a record class, worked out once: a start replays
    tens of thousands of records, so no type reflection per record."""
    decoder = _DECODERS.get(cls)
    if decoder is None:
        hints = _hints(cls)
        decoder = _DECODERS[cls] = [
            (f.name, _converter(hints[f.name], f.name), f.default is dataclasses.MISSING)
            for f in dataclasses.fields(cls)
        ]
    return decoder


def _converter(hint: Any, name: str) -> Converter:
    """A function turning a JSON value into the field's declared type (only the shapes records use)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        (inner_hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        inner = _converter(inner_hint, name)
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        (element_hint,) = {arg for arg in typing.get_args(hint) if arg is not Ellipsis}
        element = _converter(element_hint, name)

        def convert_tuple(value: object) -> object:
            if not isinstance(value, list):
                raise RecordDecodeError(f"field {name} should be an array")
            return tuple(element(v) for v in value)

        return convert_tuple
    if hint is uuid.UUID:

        def convert_uuid(value: object) -> object:
            try:
                return uuid.UUID(str(value))
            except ValueError as e:
                raise RecordDecodeError(f"field {name}: {e}") from None

        return convert_uuid
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        enum = hint

        def convert_enum(value: object) -> object:
            try:
                return enum(int(value))  # type: ignore[call-overload]
            except (TypeError, ValueError) as e:
                raise RecordDecodeError(f"field {name}: {e}") from None

        return convert_enum
    base = getattr(hint, "__supertype__", hint)  # NewType → its base type
    if base is int:

        def convert_int(value: object) -> object:
            if type(value) is not int:  # bool is not an integer here
                raise RecordDecodeError(f"field {name} should be an integer")
            return value

        return convert_int
    if base is float:

        def convert_number(value: object) -> object:
            if type(value) not in (int, float):  # bool is not a number here
                raise RecordDecodeError(f"field {name} should be a number")
            return value

        return convert_number
    if base is str or base is bool:
        kind = "a string" if base is str else "a boolean"

        def convert_exact(value: object) -> object:
            if type(value) is not base:
                raise RecordDecodeError(f"field {name} should be {kind}")
            return value

        return convert_exact
    return lambda value: value


def _to_json(value: object) -> object:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, IntEnum):
        return int(value)
    return value


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]
