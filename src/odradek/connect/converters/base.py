"""Converter interfaces (Kafka's `Converter` and `HeaderConverter`): Connect data ↔ bytes.

A converter is configured once per task with its properties (the `key.converter.` /
`value.converter.` prefixed worker and connector configs, prefix stripped) and whether it handles
keys. `from_connect_data` may return None (a null key or tombstone value); `to_connect_data` gets
None for a null key/value and returns `SchemaAndValue(None, None)`.

Batch entry points (what the runtime calls on its fast path; the defaults loop over the per-record
methods, so every converter has them): `from_connect_batch(topic, schema, values, text)` converts
many values of one schema (`text`: STRING values held as their UTF-8 bytes, `SourceBatch`'s
`text_values`), `to_connect_batch(topic, raw)` reads many as a `Column`. ByteArray and String
override both to do no Python work per record where the data allows (bytes pass through as the
same list). A converter must be pure (same input, same output) for the runtime to convert a column
of nulls with one call.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from odradek.connect.api.config_def import ConfigDef
from odradek.connect.api.headers import Headers
from odradek.connect.data.schema import Schema
from odradek.connect.data.schema_and_value import SchemaAndValue


@dataclass(slots=True)
class Column:
    """Many converted values: one schema for all (`schema`), or one each (`schemas`)."""

    values: list[Any]
    schema: Schema | None = None
    schemas: list[Schema | None] | None = None

    def schema_at(self, index: int) -> Schema | None:
        return self.schemas[index] if self.schemas is not None else self.schema


def decode_text(values: list[Any]) -> list[Any]:
    """STRING values held as UTF-8 bytes (`SourceBatch.text_values`) back to text."""
    return [None if v is None else v.decode("utf-8", "replace") for v in values]


class Converter(ABC):
    java_class: ClassVar[str | None] = None

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        """Called once before use."""

    @classmethod
    def config_def(cls) -> ConfigDef:
        return ConfigDef()

    @abstractmethod
    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None: ...

    @abstractmethod
    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue: ...

    def from_connect_batch(
        self, topic: str, schema: Schema | None, values: list[Any], text: bool = False
    ) -> list[bytes | None]:
        """Many values of one schema (`text`: STRING values as their UTF-8 bytes)."""
        convert = self.from_connect_data
        return [convert(topic, schema, v) for v in (decode_text(values) if text else values)]

    def to_connect_batch(self, topic: str, raw: list[bytes | None]) -> Column:
        convert = self.to_connect_data
        read = [convert(topic, v) for v in raw]
        return Column([r.value for r in read], schemas=[r.schema for r in read])

    def close(self) -> None:
        """Release clients (schema registry connections)."""


class HeaderConverter(ABC):
    java_class: ClassVar[str | None] = None

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Called once before use."""

    @abstractmethod
    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None: ...

    @abstractmethod
    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue: ...

    def close(self) -> None:
        """Release resources."""
