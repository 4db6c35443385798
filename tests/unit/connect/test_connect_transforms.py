"""Every single message transform and predicate, table-driven, configured through their Kafka
Java class names (what existing connector JSON says)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from odradek.connect.api.errors import ConfigException, DataException
from odradek.connect.api.headers import Headers
from odradek.connect.api.records import SinkRecord, SourceRecord
from odradek.connect.data import (
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    SchemaBuilder,
    Struct,
    Type,
    logical,
)
from odradek.connect.runtime.plugins import Plugins
from odradek.connect.runtime.transformation_chain import TransformationChain

PLUGINS = Plugins()
T = "org.apache.kafka.connect.transforms."
INNER = SchemaBuilder.struct().name("Inner").field("x", INT32_SCHEMA).build()
VALUE = (
    SchemaBuilder.struct()
    .name("V")
    .field("id", INT32_SCHEMA)
    .field("name", OPTIONAL_STRING_SCHEMA)
    .field("n", STRING_SCHEMA)
    .field("inner", INNER)
    .build()
)
TS = 1_600_000_000_123  # 2020-09-13T12:26:40.123Z


def struct_value() -> Struct:
    return (
        Struct(VALUE).put("id", 7).put("name", "ada").put("n", "12").put("inner", Struct(INNER).put("x", 3))
    )


def map_value() -> dict[str, Any]:
    return {"id": 7, "name": "ada", "n": "12", "inner": {"x": 3}}


def sink(
    value: Any, schema: Any = None, key: Any = "k", key_schema: Any = None, headers: Headers | None = None
) -> SinkRecord:
    return SinkRecord("orders", 2, key_schema, key, schema, value, TS, headers or Headers(), kafka_offset=99)


def transform(type_: str, **props: str) -> Any:
    cls = PLUGINS.transformation_class(type_)
    t = cls()
    t.configure(props)
    return t


def fields(s: Struct) -> dict[str, Any]:
    return {f.name: (fields(v) if isinstance(v := s.get(f.name), Struct) else v) for f in s.schema.fields}


# -- schemaless (maps) -------------------------------------------------------------------------

SCHEMALESS = [
    ("Cast$Value", {"spec": "n:int32,id:string"}, {"id": "7", "name": "ada", "n": 12, "inner": {"x": 3}}),
    ("ExtractField$Value", {"field": "inner"}, {"x": 3}),
    ("ExtractField$Value", {"field": "inner.x", "field.syntax.version": "V2"}, 3),
    ("Flatten$Value", {"delimiter": "_"}, {"id": 7, "name": "ada", "n": "12", "inner_x": 3}),
    ("HoistField$Value", {"field": "wrapped"}, {"wrapped": map_value()}),
    (
        "InsertField$Value",
        {
            "topic.field": "t",
            "partition.field": "p",
            "offset.field": "o!",
            "timestamp.field": "ts",
            "static.field": "s",
            "static.value": "v",
        },
        {**map_value(), "t": "orders", "p": 2, "o": 99, "ts": TS, "s": "v"},
    ),
    ("MaskField$Value", {"fields": "id,name"}, {"id": 0, "name": "", "n": "12", "inner": {"x": 3}}),
    (
        "MaskField$Value",
        {"fields": "id", "replacement": "-1"},
        {"id": -1, "name": "ada", "n": "12", "inner": {"x": 3}},
    ),
    ("ReplaceField$Value", {"exclude": "inner", "renames": "name:who"}, {"id": 7, "who": "ada", "n": "12"}),
    ("ReplaceField$Value", {"include": "id,n"}, {"id": 7, "n": "12"}),
    ("ReplaceField$Value", {"blacklist": "inner,n,name"}, {"id": 7}),
    (
        "TimestampConverter$Value",
        {"field": "id", "target.type": "Timestamp", "unix.precision": "seconds"},
        {**map_value(), "id": dt.datetime(1970, 1, 1, 0, 0, 7, tzinfo=dt.UTC)},
    ),
]


@pytest.mark.parametrize(
    ("type_", "props", "expected"), SCHEMALESS, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(SCHEMALESS)]
)
def test_schemaless_value_transforms(type_: str, props: dict[str, str], expected: Any) -> None:
    out = transform(T + type_, **props).apply(sink(map_value()))
    assert out.value == expected
    assert out.value_schema is None


# -- with schemas (structs) --------------------------------------------------------------------


def test_cast_struct_fields_and_schema() -> None:
    out = transform(T + "Cast$Value", spec="n:int64,id:float64").apply(sink(struct_value(), VALUE))
    assert out.value_schema.field("n").schema.type is Type.INT64
    assert out.value_schema.field("id").schema.type is Type.FLOAT64
    assert out.value.get("n") == 12 and out.value.get("id") == 7.0


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ("int8", 300, 44),
        ("int16", "12", 12),
        ("boolean", 0, False),
        ("string", True, "true"),
        ("float32", "1.5", 1.5),
        ("int64", 2.9, 2),
        ("boolean", "TRUE", True),
    ],
)
def test_cast_whole_value(spec: str, value: Any, expected: Any) -> None:
    assert transform(T + "Cast$Key", spec=spec).apply(sink("v", key=value)).key == expected


def test_cast_bad_string_is_data_exception() -> None:
    with pytest.raises(DataException):
        transform(T + "Cast$Value", spec="int32").apply(sink("abc"))


def test_extract_field_struct() -> None:
    out = transform(T + "ExtractField$Value", field="inner").apply(sink(struct_value(), VALUE))
    assert out.value_schema == INNER and out.value.get("x") == 3
    out = transform(T + "ExtractField$Value", field="inner.x", **{"field.syntax.version": "V2"}).apply(
        sink(struct_value(), VALUE)
    )
    assert out.value == 3 and out.value_schema == INT32_SCHEMA


def test_flatten_struct() -> None:
    out = transform(T + "Flatten$Value").apply(sink(struct_value(), VALUE))
    assert [f.name for f in out.value_schema.fields] == ["id", "name", "n", "inner.x"]
    assert out.value.get("inner.x") == 3


def test_hoist_struct() -> None:
    out = transform(T + "HoistField$Key", field="k").apply(sink("v", key=5, key_schema=INT32_SCHEMA))
    assert out.key.get("k") == 5 and out.key_schema.field("k").schema == INT32_SCHEMA


def test_insert_field_struct_uses_logical_timestamp() -> None:
    out = transform(T + "InsertField$Value", **{"timestamp.field": "ts", "topic.field": "t!"}).apply(
        sink(struct_value(), VALUE)
    )
    assert out.value.get("ts") == logical.millis_to_timestamp(TS)
    assert out.value_schema.field("ts").schema.name == logical.TIMESTAMP
    assert out.value_schema.field("t").schema.optional is False


def test_insert_field_offset_needs_sink_record() -> None:
    t = transform(T + "InsertField$Value", **{"offset.field": "o"})
    with pytest.raises(DataException):
        t.apply(SourceRecord("t", value={"a": 1}))


def test_insert_field_passes_tombstones() -> None:
    record = sink(None)
    assert transform(T + "InsertField$Value", **{"topic.field": "t"}).apply(record) == record


def test_mask_and_replace_struct() -> None:
    out = transform(T + "MaskField$Value", fields="name,id").apply(sink(struct_value(), VALUE))
    assert out.value.get("name") == "" and out.value.get("id") == 0
    out = transform(T + "ReplaceField$Value", exclude="inner", renames="id:key").apply(
        sink(struct_value(), VALUE)
    )
    assert fields(out.value) == {"key": 7, "name": "ada", "n": "12"}


def test_set_schema_metadata() -> None:
    out = transform(T + "SetSchemaMetadata$Value", **{"schema.name": "renamed", "schema.version": "3"}).apply(
        sink(struct_value(), VALUE)
    )
    assert out.value_schema.name == "renamed" and out.value_schema.version == 3
    assert out.value.schema is out.value_schema
    with pytest.raises(DataException):
        transform(T + "SetSchemaMetadata$Value", **{"schema.name": "x"}).apply(sink({"a": 1}))


@pytest.mark.parametrize(
    ("props", "value", "schema", "expected", "expected_type"),
    [
        (
            {"target.type": "string", "format": "yyyy-MM-dd'T'HH:mm:ss.SSSX"},
            TS,
            INT64_SCHEMA,
            "2020-09-13T12:26:40.123Z",
            Type.STRING,
        ),
        (
            {"target.type": "unix"},
            dt.datetime(2020, 9, 13, 12, 26, 40, 123000, tzinfo=dt.UTC),
            logical.TIMESTAMP_SCHEMA,
            TS,
            Type.INT64,
        ),
        ({"target.type": "Date"}, TS, INT64_SCHEMA, dt.date(2020, 9, 13), Type.INT32),
        ({"target.type": "Time"}, TS, INT64_SCHEMA, dt.time(12, 26, 40, 123000), Type.INT32),
        (
            {"target.type": "unix", "format": "yyyyMMdd"},
            "20200913",
            STRING_SCHEMA,
            1_599_955_200_000,
            Type.INT64,
        ),
        (
            {"target.type": "unix", "unix.precision": "microseconds"},
            TS,
            INT64_SCHEMA,
            TS // 1000 * 1000,
            Type.INT64,
        ),
    ],
)
def test_timestamp_converter(
    props: dict[str, str], value: Any, schema: Any, expected: Any, expected_type: Type
) -> None:
    out = transform(T + "TimestampConverter$Value", **props).apply(sink(value, schema))
    assert out.value == expected and out.value_schema.type is expected_type


def test_timestamp_converter_bad_string() -> None:
    t = transform(T + "TimestampConverter$Value", **{"target.type": "unix", "format": "yyyy-MM-dd"})
    with pytest.raises(DataException):
        t.apply(sink("13/09/2020", STRING_SCHEMA))


def test_value_to_key() -> None:
    out = transform(T + "ValueToKey", fields="id,n").apply(sink(struct_value(), VALUE))
    assert fields(out.key) == {"id": 7, "n": "12"}
    assert transform(T + "ValueToKey", fields="id").apply(sink(map_value())).key == {"id": 7}
    with pytest.raises(DataException):
        transform(T + "ValueToKey", fields="nope").apply(sink(struct_value(), VALUE))


# -- routers, headers, filter --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "topic", "expected"),
    [
        ({"regex": "(.*)ers", "replacement": "$1-x"}, "orders", "ord-x"),
        ({"regex": "nomatch", "replacement": "x"}, "orders", "orders"),
        ({"regex": "ord", "replacement": "x"}, "orders", "orders"),  # must match the whole name
    ],
)
def test_regex_router(props: dict[str, str], topic: str, expected: str) -> None:
    record = SinkRecord(topic, 0, None, None, None, None, TS)
    assert transform(T + "RegexRouter", **props).apply(record).topic == expected


def test_timestamp_router() -> None:
    assert transform(T + "TimestampRouter").apply(sink("v")).topic == "orders-20200913"
    t = transform(
        T + "TimestampRouter", **{"topic.format": "${timestamp}_${topic}", "timestamp.format": "yyyy-MM"}
    )
    assert t.apply(sink("v")).topic == "2020-09_orders"


def test_header_transforms() -> None:
    headers = Headers().add("a", "1").add("b", "2")
    out = transform(T + "DropHeaders", headers="a").apply(sink("v", headers=headers))
    assert [h.key for h in out.headers] == ["b"]
    out = transform(T + "InsertHeader", header="h", **{"value.literal": "42"}).apply(sink("v"))
    assert out.headers.last_with_name("h").value == 42
    out = transform(T + "HeaderFrom$Value", fields="id,name", headers="hid,hname", operation="move").apply(
        sink(struct_value(), VALUE)
    )
    assert out.headers.last_with_name("hid").value == 7
    assert [f.name for f in out.value_schema.fields] == ["n", "inner"]
    out = transform(T + "HeaderFrom$Value", fields="id", headers="hid", operation="copy").apply(
        sink(map_value())
    )
    assert out.value == map_value() and out.headers.last_with_name("hid").value == 7


def test_filter_drops() -> None:
    assert transform(T + "Filter").apply(sink("v")) is None


# -- predicates and the chain -------------------------------------------------------------------


def chain(props: dict[str, str]) -> TransformationChain:
    return TransformationChain.build(props, PLUGINS)


def test_chain_with_predicates_and_negate() -> None:
    c = chain(
        {
            "transforms": "dropTombstones,route,onlyHeader",
            "transforms.dropTombstones.type": T + "Filter",
            "transforms.dropTombstones.predicate": "isTombstone",
            "transforms.route.type": T + "RegexRouter",
            "transforms.route.regex": ".*",
            "transforms.route.replacement": "routed",
            "transforms.route.predicate": "isOrders",
            "transforms.route.negate": "true",
            "transforms.onlyHeader.type": T + "InsertHeader",
            "transforms.onlyHeader.header": "seen",
            "transforms.onlyHeader.value.literal": "yes",
            "transforms.onlyHeader.predicate": "hasMark",
            "predicates": "isTombstone,isOrders,hasMark",
            "predicates.isTombstone.type": T + "predicates.RecordIsTombstone",
            "predicates.isOrders.type": T + "predicates.TopicNameMatches",
            "predicates.isOrders.pattern": "ord.*",
            "predicates.hasMark.type": T + "predicates.HasHeaderKey",
            "predicates.hasMark.name": "mark",
        }
    )
    assert c.apply(sink(None)) is None
    assert c.apply(sink("v")).topic == "orders"
    other = SinkRecord("payments", 0, None, None, None, "v", TS, Headers().add("mark", "1"))
    out = c.apply(other)
    assert out.topic == "routed" and out.headers.last_with_name("seen").value == "yes"


@pytest.mark.parametrize(
    "props",
    [
        {"transforms": "a"},
        {"transforms": "a", "transforms.a.type": "NoSuchTransform"},
        {"transforms": "a", "transforms.a.type": T + "Cast$Value"},
        {"transforms": "a", "transforms.a.type": T + "Cast$Value", "transforms.a.spec": "x:nope"},
        {
            "transforms": "a",
            "transforms.a.type": T + "RegexRouter",
            "transforms.a.regex": "(",
            "transforms.a.replacement": "x",
        },
        {"transforms": "a", "transforms.a.type": T + "Filter", "transforms.a.predicate": "missing"},
        {"transforms": "a", "transforms.a.type": T + "Filter", "transforms.a.negate": "true"},
        {
            "transforms": "a",
            "transforms.a.type": T + "TimestampConverter$Value",
            "transforms.a.target.type": "string",
        },
        {
            "transforms": "a",
            "transforms.a.type": T + "HeaderFrom$Value",
            "transforms.a.fields": "a,b",
            "transforms.a.headers": "x",
            "transforms.a.operation": "copy",
        },
        {"predicates": "p", "predicates.p.type": T + "predicates.TopicNameMatches"},
    ],
)
def test_bad_transform_config_is_config_exception(props: dict[str, str]) -> None:
    with pytest.raises(ConfigException):
        chain(props)


def test_python_names_and_simple_names_resolve() -> None:
    assert PLUGINS.transformation_class("Cast$Value") is PLUGINS.transformation_class(T + "Cast$Value")
    assert PLUGINS.transformation_class(
        "odradek.connect.transforms.cast.CastValue"
    ) is PLUGINS.transformation_class("Cast$Value")
