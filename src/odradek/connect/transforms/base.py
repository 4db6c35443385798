"""Single message transforms and predicates: the interfaces and the helpers they share.

A `Transformation` is configured once with its properties (`transforms.<alias>.` stripped) and
maps one record to a new record or None (dropped). Transforms that work on the key or the value
come in two variants, `<Name>.Key` and `<Name>.Value` (Kafka's `Cast$Key`, `Cast$Value`); `Part`
says which half a variant reads and writes. A `Predicate` decides whether a transform applies.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from enum import Enum
from typing import Any, ClassVar

from odradek.connect.api.config_def import AbstractConfig, ConfigDef
from odradek.connect.api.errors import DataException
from odradek.connect.api.records import ConnectRecord, SinkRecord
from odradek.connect.data.schema import Schema
from odradek.connect.data.struct import Struct

PURPOSES: dict[str, str] = {}


class Transformation(ABC):
    java_class: ClassVar[str | None] = None
    config: AbstractConfig

    @classmethod
    def config_def(cls) -> ConfigDef:
        return ConfigDef()

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.config = AbstractConfig(self.config_def(), configs)
        self.setup()

    def setup(self) -> None:
        """Read `self.config` once configured."""

    @abstractmethod
    def apply(self, record: ConnectRecord) -> ConnectRecord | None: ...

    def close(self) -> None:
        """Release resources."""


class Predicate(ABC):
    java_class: ClassVar[str | None] = None
    config: AbstractConfig

    @classmethod
    def config_def(cls) -> ConfigDef:
        return ConfigDef()

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.config = AbstractConfig(self.config_def(), configs)
        self.setup()

    def setup(self) -> None:
        """Read `self.config` once configured."""

    @abstractmethod
    def test(self, record: ConnectRecord) -> bool: ...

    def close(self) -> None:
        """Release resources."""


class Part(Enum):
    KEY = "Key"
    VALUE = "Value"


class PartTransformation(Transformation):
    """A transform of the key (`part = Part.KEY`) or of the value."""

    part: ClassVar[Part]

    def schema_of(self, record: ConnectRecord) -> Schema | None:
        return record.key_schema if self.part is Part.KEY else record.value_schema

    def value_of(self, record: ConnectRecord) -> Any:
        return record.key if self.part is Part.KEY else record.value

    def with_part(self, record: ConnectRecord, schema: Schema | None, value: Any) -> ConnectRecord:
        if self.part is Part.KEY:
            return record.new_record(key_schema=schema, key=value)
        return record.new_record(value_schema=schema, value=value)


def require_map(value: Any, purpose: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DataException(
            f"Only Map objects supported in absence of schema for [{purpose}], found: {_class_name(value)}"
        )
    return value


def require_struct(value: Any, purpose: str) -> Struct:
    if not isinstance(value, Struct):
        raise DataException(f"Only Struct objects supported for [{purpose}], found: {_class_name(value)}")
    return value


def require_map_or_null(value: Any, purpose: str) -> dict[str, Any] | None:
    return None if value is None else require_map(value, purpose)


def require_struct_or_null(value: Any, purpose: str) -> Struct | None:
    return None if value is None else require_struct(value, purpose)


def require_sink_record(record: ConnectRecord, purpose: str) -> SinkRecord:
    if not isinstance(record, SinkRecord):
        raise DataException(f"Only SinkRecord supported for [{purpose}], found: {_class_name(record)}")
    return record


def _class_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def java_variants(name: str) -> tuple[str, str]:
    base = f"org.apache.kafka.connect.transforms.{name}"
    return f"{base}$Key", f"{base}$Value"
