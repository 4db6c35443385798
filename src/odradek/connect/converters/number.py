"""The numeric and Boolean converters (Kafka's `ShortConverter` … `DoubleConverter`,
`BooleanConverter`): the value in Kafka's serializer format, big-endian fixed width
(INT16 2 bytes, INT32 4, INT64 8, FLOAT32/FLOAT64 IEEE 754, BOOLEAN one byte 0 or 1)."""

from __future__ import annotations

import struct
from typing import Any, ClassVar

from odradek.connect.api.errors import DataException
from odradek.connect.api.headers import Headers
from odradek.connect.converters.base import Converter, HeaderConverter
from odradek.connect.data.schema import (
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_FLOAT32_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT16_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    Schema,
)
from odradek.connect.data.schema_and_value import SchemaAndValue
from odradek.connect.data.values_check import validate_value


class NumberConverter(Converter, HeaderConverter):
    schema: ClassVar[Schema]
    layout: ClassVar[struct.Struct]
    type_name: ClassVar[str]

    def configure(self, configs: Any, is_key: bool = False) -> None:
        return None

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.schema.type.value.startswith("float")
        ):
            value = float(value)
        try:
            validate_value(self.schema, value)
            return self.layout.pack(value)
        except (DataException, struct.error) as exc:
            raise DataException(
                f"Failed to serialize to {self.type_name} (was {type(value).__name__}): {exc}"
            ) from exc

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(self.schema, None)
        if len(value) != self.layout.size:
            raise DataException(
                f"Failed to deserialize {self.type_name}: Size of data received by "
                f"{type(self).__name__} is not {self.layout.size}"
            )
        (decoded,) = self.layout.unpack(value)
        return SchemaAndValue(self.schema, decoded)

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        return self.to_connect_data(topic, value)


class ShortConverter(NumberConverter):
    java_class = "org.apache.kafka.connect.converters.ShortConverter"
    schema = OPTIONAL_INT16_SCHEMA
    layout = struct.Struct(">h")
    type_name = "INT16"


class IntegerConverter(NumberConverter):
    java_class = "org.apache.kafka.connect.converters.IntegerConverter"
    schema = OPTIONAL_INT32_SCHEMA
    layout = struct.Struct(">i")
    type_name = "INT32"


class LongConverter(NumberConverter):
    java_class = "org.apache.kafka.connect.converters.LongConverter"
    schema = OPTIONAL_INT64_SCHEMA
    layout = struct.Struct(">q")
    type_name = "INT64"


class FloatConverter(NumberConverter):
    java_class = "org.apache.kafka.connect.converters.FloatConverter"
    schema = OPTIONAL_FLOAT32_SCHEMA
    layout = struct.Struct(">f")
    type_name = "FLOAT32"


class DoubleConverter(NumberConverter):
    java_class = "org.apache.kafka.connect.converters.DoubleConverter"
    schema = OPTIONAL_FLOAT64_SCHEMA
    layout = struct.Struct(">d")
    type_name = "FLOAT64"


class BooleanConverter(NumberConverter):
    java_class = "org.apache.kafka.connect.converters.BooleanConverter"
    schema = OPTIONAL_BOOLEAN_SCHEMA
    layout = struct.Struct(">?")
    type_name = "BOOLEAN"

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is not None and len(value) == 1 and value[0] not in (0, 1):
            raise DataException("Failed to deserialize BOOLEAN: unexpected byte value " + str(value[0]))
        return super().to_connect_data(topic, value, headers)
