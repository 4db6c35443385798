"""The Connect data model: schemas, structs, validation, logical types, Values."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from odradek.connect.api.errors import DataException, SchemaBuilderException
from odradek.connect.data import (
    INT8_SCHEMA,
    INT32_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    SchemaBuilder,
    Struct,
    Type,
    logical,
)
from odradek.connect.data.values import convert_to_string, parse_string
from odradek.connect.data.values_check import validate_value

USER = (
    SchemaBuilder.struct()
    .name("User")
    .field("id", INT32_SCHEMA)
    .field("name", OPTIONAL_STRING_SCHEMA)
    .build()
)


def test_struct_put_get_and_defaults() -> None:
    with_default = SchemaBuilder.int32().default_value(7).build()
    schema = SchemaBuilder.struct().field("a", with_default).field("b", STRING_SCHEMA).build()
    s = Struct(schema).put("b", "x")
    assert s.get("a") == 7
    assert s.get_without_default("a") is None
    with pytest.raises(DataException):
        s.put("missing", 1)
    with pytest.raises(DataException):
        s.put("b", 3)


def test_struct_validate_reports_required_null() -> None:
    with pytest.raises(DataException, match="null used for required field"):
        Struct(USER).validate()


@pytest.mark.parametrize(
    ("schema", "value", "ok"),
    [
        (INT8_SCHEMA, 127, True),
        (INT8_SCHEMA, 128, False),
        (INT8_SCHEMA, True, False),
        (STRING_SCHEMA, "s", True),
        (STRING_SCHEMA, None, False),
        (OPTIONAL_STRING_SCHEMA, None, True),
        (SchemaBuilder.array(INT32_SCHEMA).build(), [1, 2], True),
        (SchemaBuilder.array(INT32_SCHEMA).build(), [1, "x"], False),
        (SchemaBuilder.map(STRING_SCHEMA, INT32_SCHEMA).build(), {"a": 1}, True),
        (logical.decimal_schema(2), decimal.Decimal("1.25"), True),
        (logical.DATE_SCHEMA, dt.date(2020, 1, 2), True),
        (logical.TIMESTAMP_SCHEMA, 5, False),
    ],
)
def test_validate_value(schema: object, value: object, ok: bool) -> None:
    if ok:
        validate_value(schema, value)  # type: ignore[arg-type]
    else:
        with pytest.raises(DataException):
            validate_value(schema, value)  # type: ignore[arg-type]


def test_builder_rejects_duplicate_field_and_bad_default() -> None:
    with pytest.raises(SchemaBuilderException):
        SchemaBuilder.struct().field("a", INT32_SCHEMA).field("a", INT32_SCHEMA)
    with pytest.raises(SchemaBuilderException):
        SchemaBuilder.int32().default_value("x").build()


def test_schemas_are_hashable_and_equal_by_content() -> None:
    again = (
        SchemaBuilder.struct()
        .name("User")
        .field("id", INT32_SCHEMA)
        .field("name", OPTIONAL_STRING_SCHEMA)
        .build()
    )
    assert again == USER and hash(again) == hash(USER)
    assert USER.field("id").schema.type is Type.INT32  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "scale", "raw"),
    [
        (decimal.Decimal("1.25"), 2, b"\x7d"),
        (decimal.Decimal("-1.28"), 2, b"\x80"),
        (decimal.Decimal("1.28"), 2, b"\x00\x80"),
        (decimal.Decimal("0"), 0, b"\x00"),
    ],
)
def test_decimal_encoding_matches_kafka(value: decimal.Decimal, scale: int, raw: bytes) -> None:
    schema = logical.decimal_schema(scale)
    assert logical.decimal_to_bytes(schema, value) == raw
    assert logical.bytes_to_decimal(schema, raw) == value


def test_temporal_round_trips() -> None:
    assert logical.date_to_days(dt.date(1970, 1, 11)) == 10
    assert logical.time_to_millis(dt.time(1, 0, 0, 5000)) == 3_600_005
    ts = dt.datetime(2021, 3, 4, 5, 6, 7, 890000, tzinfo=dt.UTC)
    assert logical.millis_to_timestamp(logical.timestamp_to_millis(ts)) == ts
    with pytest.raises(DataException):
        logical.millis_to_time(86_400_000)


@pytest.mark.parametrize(
    ("text", "type_", "value"),
    [
        ("true", Type.BOOLEAN, True),
        ("12", Type.INT8, 12),
        ("300", Type.INT16, 300),
        ("70000", Type.INT32, 70000),
        ("5000000000", Type.INT64, 5_000_000_000),
        ("1.5", Type.FLOAT32, 1.5),
        ("hello world", Type.STRING, "hello world"),
        ("[1,2,3]", Type.ARRAY, [1, 2, 3]),
        ('{"a":1}', Type.MAP, {"a": 1}),
        ("2020-01-02", Type.INT32, dt.date(2020, 1, 2)),
    ],
)
def test_parse_string_infers_narrowest(text: str, type_: Type, value: object) -> None:
    parsed = parse_string(text)
    assert parsed.schema is not None and parsed.schema.type is type_
    assert parsed.value == value


def test_convert_to_string_embeds_quotes() -> None:
    assert convert_to_string(None, {"a": ["x", 1]}) == '{"a":["x",1]}'
    assert convert_to_string(None, b"\x01") == "AQ=="
    assert convert_to_string(USER, Struct(USER).put("id", 1).put("name", "n")) == '{"id":1,"name":"n"}'
    ts = dt.datetime(2021, 1, 2, 3, 4, 5, 6000, tzinfo=dt.UTC)
    assert convert_to_string(None, ts) == "2021-01-02T03:04:05.006Z"
    assert parse_string(convert_to_string(None, ts)).value == ts
