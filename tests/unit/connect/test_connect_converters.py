"""Converters: byte formats as Kafka writes them, round trips, and the errors bad bytes give."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import struct

import pytest

from odradek.connect.api.errors import DataException
from odradek.connect.converters.bytearray import ByteArrayConverter
from odradek.connect.converters.json_converter import JsonConverter
from odradek.connect.converters.number import (
    BooleanConverter,
    DoubleConverter,
    FloatConverter,
    IntegerConverter,
    LongConverter,
    ShortConverter,
)
from odradek.connect.converters.simple_header import SimpleHeaderConverter
from odradek.connect.converters.string import StringConverter
from odradek.connect.data import (
    BYTES_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    SchemaBuilder,
    Struct,
    Type,
    logical,
)


def json_converter(**configs: str) -> JsonConverter:
    c = JsonConverter()
    c.configure(configs, is_key=False)
    return c


ADDRESS = SchemaBuilder.struct().name("Address").field("city", STRING_SCHEMA).build()
PERSON = (
    SchemaBuilder.struct()
    .name("com.example.Person")
    .version(2)
    .field("id", INT64_SCHEMA)
    .field("name", OPTIONAL_STRING_SCHEMA)
    .field("tags", SchemaBuilder.array(STRING_SCHEMA).build())
    .field("scores", SchemaBuilder.map(STRING_SCHEMA, INT32_SCHEMA).build())
    .field("by_id", SchemaBuilder.map(INT32_SCHEMA, STRING_SCHEMA).build())
    .field("address", ADDRESS)
    .field("raw", BYTES_SCHEMA)
    .field("price", logical.decimal_schema(2))
    .field("born", logical.DATE_SCHEMA)
    .field("at", logical.TIMESTAMP_SCHEMA)
    .field("tod", logical.TIME_SCHEMA)
    .build()
)


def person() -> Struct:
    return (
        Struct(PERSON)
        .put("id", 42)
        .put("name", "Ada")
        .put("tags", ["a", "b"])
        .put("scores", {"x": 1})
        .put("by_id", {1: "one"})
        .put("address", Struct(ADDRESS).put("city", "Paris"))
        .put("raw", b"\x00\xff")
        .put("price", decimal.Decimal("12.34"))
        .put("born", dt.date(1815, 12, 10))
        .put("at", dt.datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=dt.UTC))
        .put("tod", dt.time(13, 14, 15, 16000))
    )


def test_json_envelope_round_trip_with_every_type() -> None:
    c = json_converter()
    raw = c.from_connect_data("t", PERSON, person())
    assert raw is not None
    doc = json.loads(raw)
    assert set(doc) == {"schema", "payload"}
    assert doc["schema"]["type"] == "struct" and doc["schema"]["name"] == "com.example.Person"
    assert doc["schema"]["fields"][0] == {"type": "int64", "optional": False, "field": "id"}
    assert doc["payload"]["price"] == "BNI="  # 1234 big-endian in base64, Kafka's BASE64 decimal format
    assert doc["payload"]["by_id"] == [[1, "one"]]
    assert doc["payload"]["born"] == logical.date_to_days(dt.date(1815, 12, 10))
    back = c.to_connect_data("t", raw)
    assert back.schema == PERSON
    assert back.value == person()


def test_json_kafka_written_envelope_reads() -> None:
    kafka = b'{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":false,"name":"u"},"payload":{"id":1,"name":null}}'
    result = json_converter().to_connect_data("t", kafka)
    assert result.value.get("id") == 1 and result.value.get("name") is None
    assert json_converter().from_connect_data("t", result.schema, result.value) == kafka


def test_json_schemaless() -> None:
    c = json_converter(**{"schemas.enable": "false"})
    assert c.from_connect_data("t", None, {"a": [1, 2.5, "x"]}) == b'{"a":[1,2.5,"x"]}'
    assert c.to_connect_data("t", b'{"a":[1,2.5,"x"]}').value == {"a": [1, 2.5, "x"]}
    assert c.to_connect_data("t", None).value is None
    assert c.from_connect_data("t", None, None) is None


def test_json_decimal_numeric() -> None:
    c = json_converter(**{"decimal.format": "NUMERIC"})
    schema = logical.decimal_schema(2)
    raw = c.from_connect_data("t", schema, decimal.Decimal("1.25"))
    assert json.loads(raw or b"")["payload"] == 1.25
    assert c.to_connect_data("t", raw).value == decimal.Decimal("1.25")


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"a": 1}',  # schemas.enable without an envelope
        b'{"schema": {"type": "int32", "optional": false}, "payload": "x"}',
        b'{"schema": {"type": "nope"}, "payload": 1}',
        b'{"schema": {"type": "int8", "optional": false}, "payload": 300}',
        b'{"schema": {"type": "bytes", "optional": false}, "payload": "***"}',
        b'{"schema": {"type": "string", "optional": false}, "payload": null}',
        b"\xff\xfe",
    ],
)
def test_json_bad_input_is_a_data_exception(raw: bytes) -> None:
    with pytest.raises(DataException):
        json_converter().to_connect_data("t", raw)


def test_json_null_required_with_default_uses_default() -> None:
    schema = SchemaBuilder.int32().default_value(5).build()
    assert json.loads(json_converter().from_connect_data("t", schema, None) or b"")["payload"] == 5


@pytest.mark.parametrize(
    ("converter", "value", "raw"),
    [
        (ShortConverter(), 300, struct.pack(">h", 300)),
        (IntegerConverter(), -5, struct.pack(">i", -5)),
        (LongConverter(), 2**40, struct.pack(">q", 2**40)),
        (FloatConverter(), 1.5, struct.pack(">f", 1.5)),
        (DoubleConverter(), 2.25, struct.pack(">d", 2.25)),
        (BooleanConverter(), True, b"\x01"),
    ],
)
def test_number_converters_kafka_format(converter: ShortConverter, value: object, raw: bytes) -> None:
    assert converter.from_connect_data("t", None, value) == raw
    assert converter.to_connect_data("t", raw).value == value
    assert converter.from_connect_data("t", None, None) is None
    with pytest.raises(DataException):
        converter.to_connect_data("t", raw + b"\x00")


def test_number_converter_rejects_wrong_type() -> None:
    with pytest.raises(DataException):
        IntegerConverter().from_connect_data("t", None, "x")
    with pytest.raises(DataException):
        ShortConverter().from_connect_data("t", None, 1 << 20)


def test_string_and_bytearray() -> None:
    s = StringConverter()
    s.configure({"converter.encoding": "UTF-16"}, False)
    assert s.to_connect_data("t", s.from_connect_data("t", None, "héllo")).value == "héllo"
    plain = StringConverter()
    assert plain.from_connect_data("t", None, 12) == b"12"
    with pytest.raises(DataException):
        plain.to_connect_data("t", b"\xff")
    b = ByteArrayConverter()
    assert b.from_connect_data("t", BYTES_SCHEMA, b"x") == b"x"
    with pytest.raises(DataException):
        b.from_connect_data("t", STRING_SCHEMA, "x")
    with pytest.raises(DataException):
        b.from_connect_data("t", None, "x")


@pytest.mark.parametrize(
    ("schema", "value", "text", "type_"),
    [
        (STRING_SCHEMA, "hi", b"hi", Type.STRING),
        (INT32_SCHEMA, 5, b"5", Type.INT8),
        (None, [1, 2], b"[1,2]", Type.ARRAY),
        (None, True, b"true", Type.BOOLEAN),
    ],
)
def test_simple_header_converter(schema: object, value: object, text: bytes, type_: Type) -> None:
    c = SimpleHeaderConverter()
    assert c.from_connect_header("t", "h", schema, value) == text  # type: ignore[arg-type]
    back = c.to_connect_header("t", "h", text)
    assert back.value == value and back.schema is not None and back.schema.type is type_
