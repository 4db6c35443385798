"""`ByteArrayConverter`: bytes pass through untouched (the fastest converter; keys and headers too)."""

from __future__ import annotations

from typing import Any

from odradek.connect.api.errors import DataException
from odradek.connect.api.headers import Headers
from odradek.connect.converters.base import Column, Converter, HeaderConverter
from odradek.connect.data.schema import OPTIONAL_BYTES_SCHEMA, Schema, Type
from odradek.connect.data.schema_and_value import SchemaAndValue

_BYTES = frozenset((bytes, type(None)))


class ByteArrayConverter(Converter, HeaderConverter):
    java_class = "org.apache.kafka.connect.converters.ByteArrayConverter"

    def configure(self, configs: Any, is_key: bool = False) -> None:
        return None

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if schema is not None and schema.type is not Type.BYTES:
            raise DataException(f"Invalid schema type for ByteArrayConverter: {schema.type.value.upper()}")
        if value is None:
            return None
        if isinstance(value, bytes):
            return value
        if isinstance(value, bytearray | memoryview):
            return bytes(value)
        raise DataException(
            f"ByteArrayConverter is not compatible with objects of type {type(value).__name__}"
        )

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        return SchemaAndValue(OPTIONAL_BYTES_SCHEMA, value)

    def from_connect_batch(
        self, topic: str, schema: Schema | None, values: list[Any], text: bool = False
    ) -> list[bytes | None]:
        if (
            not text
            and (schema is None or schema.type is Type.BYTES)
            and _BYTES.issuperset(map(type, values))
        ):
            return values  # the same list: nothing to do per record
        return super().from_connect_batch(topic, schema, values, text)

    def to_connect_batch(self, topic: str, raw: list[bytes | None]) -> Column:
        return Column(raw, OPTIONAL_BYTES_SCHEMA)

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        return self.to_connect_data(topic, value)
