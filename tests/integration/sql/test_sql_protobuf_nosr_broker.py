"""PROTOBUF_NOSR against the real broker, without any schema registry: confluent-kafka produces bare
Protobuf messages (built by the protobuf library from a descriptor written for the declared columns),
a stream reads them, and a CREATE STREAM AS SELECT writes PROTOBUF_NOSR keys and values that the
protobuf library parses back."""

from __future__ import annotations

import time
import uuid
from typing import Any

from confluent_kafka import Consumer, Producer
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2
from sql_server_process import SqlServerProcess

_F = descriptor_pb2.FieldDescriptorProto


def _message(name: str, fields: list[tuple[str, int, str | None, bool]], nested: tuple[Any, ...] = ()) -> Any:
    """A `ConnectDefault1` message class with these (name, type, type name, repeated) fields, numbered
    in order, as ksqlDB declares PROTOBUF_NOSR columns."""
    file = descriptor_pb2.FileDescriptorProto(name=f"{name}.proto", syntax="proto3")
    file.dependency.append("google/protobuf/timestamp.proto")
    message = file.message_type.add(name="ConnectDefault1")
    message.nested_type.extend(nested)
    for number, (fname, ftype, type_name, repeated) in enumerate(fields, start=1):
        label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
        f = message.field.add(name=fname, number=number, label=label, type=ftype)
        if type_name:
            f.type_name = type_name
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("ConnectDefault1"))


def _order_class() -> Any:
    s = descriptor_pb2.DescriptorProto(name="SStruct")
    s.field.add(name="A", number=1, label=_F.LABEL_OPTIONAL, type=_F.TYPE_INT32)
    return _message(
        "order",
        [
            ("ID", _F.TYPE_INT64, None, False),
            ("NAME", _F.TYPE_STRING, None, False),
            ("AMOUNT", _F.TYPE_DOUBLE, None, False),
            ("S", _F.TYPE_MESSAGE, ".ConnectDefault1.SStruct", False),
            ("TAGS", _F.TYPE_STRING, None, True),
            ("AT", _F.TYPE_MESSAGE, ".google.protobuf.Timestamp", False),
        ],
        (s,),
    )


def _consume(bootstrap: str, topic: str, count: int, timeout_s: float = 90.0) -> list[tuple[bytes, bytes]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"sql-nosr-test-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    out: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(out) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None and msg.value() is not None:
                out.append((bytes(msg.key() or b""), bytes(msg.value() or b"")))
    finally:
        consumer.close()
    assert len(out) >= count, f"{topic}: {len(out)} records, wanted {count}"
    return out


def test_protobuf_nosr_in_and_out(sql_server: SqlServerProcess, sql_bootstrap: str) -> None:
    tag = uuid.uuid4().hex[:6]
    topic, src, out_name = f"nosr_{tag}", f"NOSR_{tag}".upper(), f"NOSR_OUT_{tag}".upper()
    order = _order_class()
    records = []
    for i, name, amount in ((1, "ada", 2.5), (2, "bob", 4.0)):
        m = order(ID=i, NAME=name, AMOUNT=amount, TAGS=["x"] * i)
        m.S.A = 10 * i
        m.AT.FromMilliseconds(1_700_000_000_000 + i)
        records.append(m.SerializeToString())
    producer = Producer({"bootstrap.servers": sql_bootstrap})
    for value in (records[0], b"\xff\xff", records[1]):  # the middle one is not a message
        producer.produce(topic, value=value)
    assert producer.flush(30) == 0

    sql_server.ok(
        f"CREATE STREAM {src} (ID BIGINT, NAME STRING, AMOUNT DOUBLE, S STRUCT<A INT>, TAGS ARRAY<STRING>, "
        f"AT TIMESTAMP) WITH (KAFKA_TOPIC='{topic}', VALUE_FORMAT='PROTOBUF_NOSR');"
    )
    scanned = sql_server.query_stream(f"SELECT id, name, s->a, tags, at FROM {src} WHERE id = 2;")
    assert scanned[1:] == [[2, "bob", 20, ["x", "x"], "2023-11-14T22:13:20.002"]]

    sql_server.ok(
        f"CREATE STREAM {out_name} WITH (KEY_FORMAT='PROTOBUF_NOSR', VALUE_FORMAT='PROTOBUF_NOSR') AS "
        f"SELECT id, UCASE(name) AS who, amount * 2 AS twice, s->a AS a FROM {src} PARTITION BY id;"
    )
    key_class = _message("out_key", [("ID", _F.TYPE_INT64, None, False)])
    value_class = _message(
        "out_value",
        [
            ("WHO", _F.TYPE_STRING, None, False),
            ("TWICE", _F.TYPE_DOUBLE, None, False),
            ("A", _F.TYPE_INT32, None, False),
        ],
    )
    got = []
    for key, value in _consume(sql_bootstrap, out_name, 2):
        k, v = key_class(), value_class()
        k.ParseFromString(key)
        v.ParseFromString(value)
        got.append((k.ID, v.WHO, v.TWICE, v.A))
    assert sorted(got) == [(1, "ADA", 5.0, 10), (2, "BOB", 8.0, 20)]

    # statements without columns are refused as ksqlDB does
    response = sql_server.ksql(
        f"CREATE STREAM NOSR_NOCOLS_{tag} WITH (KAFKA_TOPIC='{topic}', VALUE_FORMAT='PROTOBUF_NOSR');"
    )
    assert response.status_code == 400
    assert "The statement does not define any columns." in response.json()["message"]
