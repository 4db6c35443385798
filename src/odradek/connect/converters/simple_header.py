"""`SimpleHeaderConverter`, the default header converter: values as their string form
(`Values.convert_to_string`), read back with the narrowest schema `Values.parse_string` infers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from odradek.connect.api.errors import DataException
from odradek.connect.converters.base import HeaderConverter
from odradek.connect.data.schema import Schema
from odradek.connect.data.schema_and_value import SchemaAndValue
from odradek.connect.data.values import convert_to_string, parse_string


class SimpleHeaderConverter(HeaderConverter):
    java_class = "org.apache.kafka.connect.storage.SimpleHeaderConverter"

    def configure(self, configs: Mapping[str, Any]) -> None:
        return None

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        if value is None:
            return None
        text = convert_to_string(schema, value)
        return text.encode() if text is not None else None

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(None, None)
        try:
            text = value.decode()
        except UnicodeDecodeError as exc:
            raise DataException(
                f"Failed to deserialize value for header '{header_key}' on topic '{topic}'"
            ) from exc
        return parse_string(text)
