"""Converter interfaces (Kafka's `Converter` and `HeaderConverter`): Connect data ↔ bytes.

A converter is configured once per task with its properties (the `key.converter.` /
`value.converter.` prefixed worker and connector configs, prefix stripped) and whether it handles
keys. `from_connect_data` may return None (a null key or tombstone value); `to_connect_data` gets
None for a null key/value and returns `SchemaAndValue(None, None)`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from odradek.connect.api.config_def import ConfigDef
from odradek.connect.api.headers import Headers
from odradek.connect.data.schema import Schema
from odradek.connect.data.schema_and_value import SchemaAndValue


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
