"""`StringConverter`: text in an encoding (`converter.encoding`, default UTF-8; also
`serializer.encoding`/`deserializer.encoding`). Any value is written as its text form."""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import Any

from odradek.connect.api.errors import ConfigException, DataException
from odradek.connect.api.headers import Headers
from odradek.connect.converters.base import Column, Converter, HeaderConverter
from odradek.connect.data.schema import OPTIONAL_STRING_SCHEMA, Schema
from odradek.connect.data.schema_and_value import SchemaAndValue
from odradek.connect.data.values import convert_to_string


def _encoding(configs: Mapping[str, Any], specific: str) -> str:
    name = str(configs.get(specific) or configs.get("converter.encoding") or "UTF8")
    try:
        return codecs.lookup(name.replace("UTF8", "utf-8")).name
    except LookupError as exc:
        raise ConfigException("converter.encoding", name, "unknown encoding") from exc


_TEXT = frozenset((str, type(None)))


class StringConverter(Converter, HeaderConverter):
    java_class = "org.apache.kafka.connect.storage.StringConverter"

    def __init__(self) -> None:
        self.encode_with = "utf-8"
        self.decode_with = "utf-8"

    def configure(self, configs: Mapping[str, Any], is_key: bool = False) -> None:
        self.encode_with = _encoding(configs, "serializer.encoding")
        self.decode_with = _encoding(configs, "deserializer.encoding")

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        text = value if isinstance(value, str) else convert_to_string(schema, value)
        try:
            return text.encode(self.encode_with) if text is not None else None
        except UnicodeEncodeError as exc:
            raise DataException(f"Failed to serialize to a string: {exc}") from exc

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(OPTIONAL_STRING_SCHEMA, None)
        try:
            return SchemaAndValue(OPTIONAL_STRING_SCHEMA, value.decode(self.decode_with))
        except UnicodeDecodeError as exc:
            raise DataException(f"Failed to deserialize string: {exc}") from exc

    def from_connect_batch(
        self, topic: str, schema: Schema | None, values: list[Any], text: bool = False
    ) -> list[bytes | None]:
        if text and self.encode_with == "utf-8":
            return values  # already the UTF-8 bytes of the text: the same list
        if not text and _TEXT.issuperset(map(type, values)):
            encoding = self.encode_with
            try:
                return [None if v is None else v.encode(encoding) for v in values]
            except UnicodeEncodeError as exc:
                raise DataException(f"Failed to serialize to a string: {exc}") from exc
        return super().from_connect_batch(topic, schema, values, text)

    def to_connect_batch(self, topic: str, raw: list[bytes | None]) -> Column:
        encoding = self.decode_with
        try:
            return Column([None if v is None else v.decode(encoding) for v in raw], OPTIONAL_STRING_SCHEMA)
        except UnicodeDecodeError as exc:
            raise DataException(f"Failed to deserialize string: {exc}") from exc

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        return self.to_connect_data(topic, value)
