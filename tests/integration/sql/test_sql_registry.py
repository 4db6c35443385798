"""AVRO, PROTOBUF and JSON_SR through a real `odradek registry`: confluent-kafka's serializers write
the input SQL reads (columns inferred from the registry), SQL's persistent queries register their
output schemas, and confluent-kafka's deserializers read what SQL wrote."""

from __future__ import annotations

import decimal
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.confluent import meta_pb2
from confluent_kafka.schema_registry.confluent.type import decimal_pb2, decimal_utils
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.type import date_pb2, timeofday_pb2
from sql_server_process import SqlServerProcess

from odradek.testing.registry_process import RegistryProcess

# confluent-kafka's registry client leaves a connection for the garbage collector (ResourceWarning)
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

ORDER_AVRO = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "namespace": "shop",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "customer", "type": "string"},
            {"name": "amount", "type": "double"},
            {"name": "placed", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        ],
    }
)
ORDER_JSON = json.dumps(
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "customer": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["id", "customer"],
    }
)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:6]}".upper()


@pytest.fixture(scope="module")
def registry(sql_bootstrap: str) -> Iterator[str]:
    tag = uuid.uuid4().hex[:8]
    overrides = {"kafkastore.topic": f"_schemas_sql_{tag}", "schema.registry.group.id": f"sql-registry-{tag}"}
    with RegistryProcess(sql_bootstrap, overrides) as process:
        process.wait_primary()
        yield process.url


@pytest.fixture(scope="module")
def server(
    sql_bootstrap: str, registry: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqlServerProcess]:
    state = tmp_path_factory.mktemp("sql-registry") / "state"
    tag = uuid.uuid4().hex[:6]
    with SqlServerProcess(
        sql_bootstrap, state, service_id=f"reg_{tag}_", overrides={"ksql.schema.registry.url": registry}
    ) as process:
        yield process


@pytest.fixture
def client(registry: str) -> Iterator[SchemaRegistryClient]:
    c = SchemaRegistryClient({"url": registry})
    yield c
    c.close()


def produce(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for key, value in records:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0


def consume(
    bootstrap: str, topic: str, count: int, timeout_s: float = 90.0
) -> list[tuple[bytes | None, bytes]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"sql-registry-test-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    out: list[tuple[bytes | None, bytes]] = []  # values only (tombstones skipped)
    deadline = time.monotonic() + timeout_s
    try:
        while len(out) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None and msg.value() is not None:
                out.append((msg.key(), bytes(msg.value() or b"")))
    finally:
        consumer.close()
    assert len(out) >= count, f"{topic}: {len(out)} records, wanted {count}"
    return out


def fields_of(server: SqlServerProcess, name: str) -> list[tuple[str, str, str | None]]:
    [described] = server.ok(f"DESCRIBE {name};")
    return [(f["name"], f["schema"]["type"], f.get("type")) for f in described["sourceDescription"]["fields"]]


def test_avro_inferred_source_and_registered_outputs(
    server: SqlServerProcess, sql_bootstrap: str, client: SchemaRegistryClient
) -> None:
    topic = unique("avro_orders").lower()
    writer = AvroSerializer(client, ORDER_AVRO)
    context = SerializationContext(topic, MessageField.VALUE)
    rows = [(1, "ada", 20.0), (2, "bob", 5.0), (3, "ada", 7.5)]
    produce(
        sql_bootstrap,
        topic,
        [
            (
                c.encode(),
                writer({"id": i, "customer": c, "amount": a, "placed": 1_700_000_000_000 + i}, context),
            )
            for i, c, a in rows
        ],
    )
    src = topic.upper()
    server.ok(f"CREATE STREAM {src} WITH (KAFKA_TOPIC='{topic}', VALUE_FORMAT='AVRO');")
    assert fields_of(server, src) == [
        ("ID", "BIGINT", None),
        ("CUSTOMER", "STRING", None),
        ("AMOUNT", "DOUBLE", None),
        ("PLACED", "TIMESTAMP", None),
    ]

    # CSAS: its value schema is registered when the query starts, and the records read back with
    # confluent-kafka's AvroDeserializer
    big = unique("BIG")
    server.ok(
        f"CREATE STREAM {big} AS SELECT id, customer, amount * 2 AS doubled, placed FROM {src} WHERE amount > 6;"
    )
    registered = client.get_latest_version(f"{big}-value").schema
    assert registered.schema_type == "AVRO"
    assert [f["name"] for f in json.loads(registered.schema_str or "{}")["fields"]] == [
        "ID",
        "CUSTOMER",
        "DOUBLED",
        "PLACED",
    ]
    reader = AvroDeserializer(client)
    out = [
        reader(v, SerializationContext(big, MessageField.VALUE)) for _, v in consume(sql_bootstrap, big, 2)
    ]
    assert sorted((r["ID"], r["CUSTOMER"], r["DOUBLED"]) for r in out) == [(1, "ada", 40.0), (3, "ada", 15.0)]
    assert out[0]["PLACED"].timestamp() * 1000 in (1_700_000_000_001, 1_700_000_000_003)

    # CTAS with FORMAT='AVRO': the key schema too; pull queries read the table
    totals = unique("TOTALS")
    server.ok(
        f"CREATE TABLE {totals} WITH (FORMAT='AVRO') AS SELECT customer, COUNT(*) AS n, SUM(amount) AS total FROM {src} GROUP BY customer;"
    )
    assert client.get_latest_version(f"{totals}-key").schema.schema_str == '"string"'
    rows_ada = server.wait_rows(f"SELECT * FROM {totals} WHERE customer = 'ada' AND n = 2;", 1)
    assert rows_ada == [["ada", 2, 27.5]]
    records = consume(sql_bootstrap, totals, 2)
    keys = {reader(k, SerializationContext(totals, MessageField.KEY)) for k, _ in records}
    assert keys <= {"ada", "bob"} and "bob" in keys

    # an output schema the subject's compatibility check would refuse: the statement fails up front
    clash = unique("CLASH")
    earlier = {
        "type": "record",
        "name": "KsqlDataSourceSchema",
        "namespace": "io.confluent.ksql.avro_schemas",
        "fields": [{"name": "ID", "type": "string"}],
    }
    client.register_schema(f"{clash}-value", Schema(json.dumps(earlier), "AVRO"))
    resp = server.ksql(f"CREATE STREAM {clash} AS SELECT id, customer FROM {src};")
    assert resp.status_code == 400 and "incompatible" in resp.json()["message"], resp.text
    assert clash not in {s["name"] for s in server.ok("SHOW STREAMS;")[0]["streams"]}

    # ASSERT SCHEMA answers from the registry
    server.ok(f"ASSERT SCHEMA SUBJECT '{big}-value';")
    server.ok("ASSERT NOT EXISTS SCHEMA ID 99999;")
    resp = server.ksql("ASSERT SCHEMA SUBJECT 'no-such-subject-value' TIMEOUT 1 SECONDS;")
    assert resp.status_code == 417 and "does not exist" in resp.json()["message"]

    # PRINT decodes records with their registered schema
    printed = httpx.post(
        server.url + "/query", json={"ksql": f"PRINT '{topic}' FROM BEGINNING LIMIT 1;"}, timeout=60
    )
    assert '"customer":"ada"' in printed.text and '"id":1' in printed.text

    # VALUE_SCHEMA_ID names the schema to read the columns from
    schema_id = client.get_latest_version(f"{topic}-value").schema_id
    pinned = unique("PINNED")
    server.ok(
        f"CREATE STREAM {pinned} WITH (KAFKA_TOPIC='{topic}', VALUE_FORMAT='AVRO', VALUE_SCHEMA_ID={schema_id});"
    )
    assert [n for n, _, _ in fields_of(server, pinned)] == ["ID", "CUSTOMER", "AMOUNT", "PLACED"]

    # no registered schema: a clear error naming the subject
    resp = server.ksql(
        f"CREATE STREAM {unique('NOPE')} WITH (KAFKA_TOPIC='{topic}-none', VALUE_FORMAT='AVRO', PARTITIONS=1);"
    )
    assert resp.status_code == 400 and f"{topic}-none-value" in resp.json()["message"]


def _pool_with_known_types() -> descriptor_pool.DescriptorPool:
    """A pool holding the files Confluent's registry knows without references (decimal, date, time)."""
    pool = descriptor_pool.DescriptorPool()
    for module in (descriptor_pb2, meta_pb2, decimal_pb2, date_pb2, timeofday_pb2):
        pool.AddSerializedFile(module.DESCRIPTOR.serialized_pb)
    return pool


def _order_proto() -> Any:
    """An order with DECIMAL, DATE and TIME fields as Confluent's ProtobufConverter lays them out."""
    file = descriptor_pb2.FileDescriptorProto(
        name=f"order_{uuid.uuid4().hex[:6]}.proto", package="shop", syntax="proto3"
    )
    file.dependency.extend(["confluent/meta.proto", "confluent/type/decimal.proto", "google/type/date.proto",
                            "google/type/timeofday.proto"])  # fmt: skip
    message = file.message_type.add(name="Order")
    fd = descriptor_pb2.FieldDescriptorProto
    for number, (name, kind) in enumerate(
        (("id", fd.TYPE_INT32), ("customer", fd.TYPE_STRING), ("amount", fd.TYPE_DOUBLE)), start=1
    ):
        message.field.add(name=name, number=number, type=kind, label=fd.LABEL_OPTIONAL)
    total = message.field.add(
        name="total", number=4, type=fd.TYPE_MESSAGE, type_name=".confluent.type.Decimal"
    )
    total.options.Extensions[meta_pb2.field_meta].params.update({"precision": "8", "scale": "2"})
    message.field.add(name="placed_on", number=5, type=fd.TYPE_MESSAGE, type_name=".google.type.Date")
    message.field.add(name="at", number=6, type=fd.TYPE_MESSAGE, type_name=".google.type.TimeOfDay")
    pool = _pool_with_known_types()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("shop.Order"))


def _order(order: Any, i: int, customer: str, amount: float) -> Any:
    msg = order(id=i, customer=customer, amount=amount)
    msg.total.MergeFromString(
        decimal_utils.to_proto_decimal(decimal.Decimal(f"{amount:.2f}")).SerializeToString()
    )
    msg.placed_on.year, msg.placed_on.month, msg.placed_on.day = 2024, 2, 27 + i
    msg.at.hours, msg.at.minutes, msg.at.seconds, msg.at.nanos = 13, 30, i, 250_000_000
    return msg


def _class_of(client: SchemaRegistryClient, subject: str) -> Any:
    import base64

    registered = client.get_latest_version(subject)
    file = descriptor_pb2.FileDescriptorProto()
    serialized = client.get_schema(registered.schema_id or 0, fmt="serialized").schema_str or ""
    file.ParseFromString(base64.b64decode(serialized))
    pool = _pool_with_known_types()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(file.message_type[0].name))


def test_protobuf_and_json_sr_in_and_out(
    server: SqlServerProcess, sql_bootstrap: str, client: SchemaRegistryClient
) -> None:
    # Protobuf in (ProtobufSerializer), Protobuf out (ProtobufDeserializer)
    topic = unique("pb_orders").lower()
    order = _order_proto()
    writer = ProtobufSerializer(order, client, {"use.deprecated.format": False})
    context = SerializationContext(topic, MessageField.VALUE)
    produce(
        sql_bootstrap,
        topic,
        [(None, writer(_order(order, i, c, a), context)) for i, c, a in ((1, "ada", 20.0), (2, "bob", 5.25))],
    )
    src = topic.upper()
    server.ok(f"CREATE STREAM {src} WITH (KAFKA_TOPIC='{topic}', VALUE_FORMAT='PROTOBUF');")
    assert fields_of(server, src) == [
        ("ID", "INTEGER", None),
        ("CUSTOMER", "STRING", None),
        ("AMOUNT", "DOUBLE", None),
        ("TOTAL", "DECIMAL", None),
        ("PLACED_ON", "DATE", None),
        ("AT", "TIME", None),
    ]
    scanned = server.query_stream(f"SELECT total, placed_on, at FROM {src} WHERE id = 2;")
    assert scanned[0]["columnTypes"] == ["DECIMAL(8, 2)", "DATE", "TIME"]
    assert scanned[1:] == [[5.25, "2024-02-29", "13:30:02.250000"]]
    out_name = unique("PB_OUT")
    server.ok(
        f"CREATE STREAM {out_name} AS SELECT id, UCASE(customer) AS who, total * 2 AS twice, "
        f"placed_on, DATEADD(DAYS, 1, placed_on) AS next_day, at FROM {src};"
    )
    cls = _class_of(client, f"{out_name}-value")
    reader = ProtobufDeserializer(cls, {"use.deprecated.format": False})
    out = [
        reader(v, SerializationContext(out_name, MessageField.VALUE))
        for _, v in consume(sql_bootstrap, out_name, 2)
    ]
    assert sorted((m.ID, m.WHO) for m in out) == [(1, "ADA"), (2, "BOB")]
    by_id = {m.ID: m for m in out}
    assert decimal_utils.from_proto_decimal(by_id[2].TWICE) == decimal.Decimal("10.50")
    assert (by_id[1].PLACED_ON.month, by_id[1].PLACED_ON.day, by_id[1].NEXT_DAY.day) == (2, 28, 29)
    assert (by_id[2].AT.hours, by_id[2].AT.minutes, by_id[2].AT.seconds, by_id[2].AT.nanos) == (
        13,
        30,
        2,
        250_000_000,
    )
    twice = next(f for f in cls.DESCRIPTOR.fields if f.name == "TWICE")
    assert twice.message_type.full_name == "confluent.type.Decimal"

    # JSON Schema in (JSONSerializer), JSON_SR out (JSONDeserializer with the registered schema)
    topic = unique("js_orders").lower()
    writer_js = JSONSerializer(ORDER_JSON, client)
    context = SerializationContext(topic, MessageField.VALUE)
    produce(
        sql_bootstrap,
        topic,
        [(b"k", writer_js({"id": 7, "customer": "cy", "tags": ["a", "b"]}, context))],
    )
    src = topic.upper()
    server.ok(f"CREATE STREAM {src} WITH (KAFKA_TOPIC='{topic}', VALUE_FORMAT='JSON_SR');")
    assert fields_of(server, src) == [
        ("ID", "BIGINT", None),
        ("CUSTOMER", "STRING", None),
        ("TAGS", "ARRAY", None),
    ]
    js_out = unique("JS_OUT")
    server.ok(f"CREATE STREAM {js_out} AS SELECT id, customer, ARRAY_LENGTH(tags) AS n FROM {src};")
    registered = client.get_latest_version(f"{js_out}-value").schema
    assert registered.schema_type == "JSON"
    reader_js = JSONDeserializer(registered.schema_str, schema_registry_client=client)
    [(_, value)] = consume(sql_bootstrap, js_out, 1)
    assert reader_js(value, SerializationContext(js_out, MessageField.VALUE)) == {
        "ID": 7,
        "CUSTOMER": "cy",
        "N": 2,
    }

    # a record that is not in the registry's wire format: the query logs and skips it, the
    # server stays up and later records still flow
    produce(
        sql_bootstrap,
        topic,
        [(b"k", b'{"id": 8}'), (b"k", writer_js({"id": 9, "customer": "dee", "tags": []}, context))],
    )
    rows = server.wait_rows(f"SELECT * FROM {js_out} WHERE id = 9;", 1)
    assert rows == [[9, "dee", 0]]


def _referencing_order_class(tag: str) -> Any:
    """shop_<tag>.Order in its own file, importing shop_<tag>.Customer from another file (which
    ProtobufSerializer registers as a subject of its own and names in the order's references)."""
    fd = descriptor_pb2.FieldDescriptorProto
    package = f"shop_{tag}"
    common = descriptor_pb2.FileDescriptorProto(
        name=f"{package}/customer.proto", package=package, syntax="proto3"
    )
    customer = common.message_type.add(name="Customer")
    customer.field.add(name="name", number=1, type=fd.TYPE_STRING, label=fd.LABEL_OPTIONAL)
    customer.field.add(name="tier", number=2, type=fd.TYPE_INT32, label=fd.LABEL_OPTIONAL)
    order = descriptor_pb2.FileDescriptorProto(
        name=f"{package}/order.proto", package=package, syntax="proto3"
    )
    order.dependency.append(common.name)
    message = order.message_type.add(name="Order")
    message.field.add(name="id", number=1, type=fd.TYPE_INT64, label=fd.LABEL_OPTIONAL)
    message.field.add(
        name="customer",
        number=2,
        type=fd.TYPE_MESSAGE,
        type_name=f".{package}.Customer",
        label=fd.LABEL_OPTIONAL,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(common)
    pool.Add(order)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.Order"))


def test_schemas_with_references(
    server: SqlServerProcess, sql_bootstrap: str, client: SchemaRegistryClient
) -> None:
    # Protobuf: the value schema imports another file, registered as its own subject
    tag = uuid.uuid4().hex[:6]
    topic = unique("pb_refs").lower()
    order = _referencing_order_class(tag)
    writer = ProtobufSerializer(order, client, {"use.deprecated.format": False})
    context = SerializationContext(topic, MessageField.VALUE)
    records = []
    for i, (name, tier) in enumerate((("ada", 2), ("bob", 1)), start=1):
        msg = order(id=i)
        msg.customer.name, msg.customer.tier = name, tier
        records.append((None, writer(msg, context)))
    produce(sql_bootstrap, topic, records)
    pb_topic = topic
    assert [r.subject for r in client.get_latest_version(f"{topic}-value").schema.references or []] == [
        f"shop_{tag}/customer.proto"
    ]
    src = topic.upper()
    server.ok(f"CREATE STREAM {src} WITH (KAFKA_TOPIC='{topic}', VALUE_FORMAT='PROTOBUF');")
    assert fields_of(server, src) == [("ID", "BIGINT", None), ("CUSTOMER", "STRUCT", None)]
    scanned = server.query_stream(f"SELECT id, customer->name, customer->tier FROM {src} WHERE id = 2;")
    assert scanned[1:] == [[2, "bob", 1]]

    # a persistent query reads the referencing records and writes its own schema
    out_name = unique("PB_REFS_OUT")
    server.ok(f"CREATE STREAM {out_name} AS SELECT id, customer->name AS who, customer FROM {src};")
    cls = _class_of(client, f"{out_name}-value")
    reader = ProtobufDeserializer(cls, {"use.deprecated.format": False})
    out = [
        reader(v, SerializationContext(out_name, MessageField.VALUE))
        for _, v in consume(sql_bootstrap, out_name, 2)
    ]
    assert sorted((m.ID, m.WHO, m.CUSTOMER.TIER) for m in out) == [(1, "ada", 2), (2, "bob", 1)]

    # Avro: a field's named type lives in another subject
    customer_subject = f"customer-{tag}"
    customer_avro = {
        "type": "record",
        "name": "Customer",
        "namespace": f"shop_{tag}",
        "fields": [{"name": "name", "type": "string"}, {"name": "tier", "type": "int"}],
    }
    client.register_schema(customer_subject, Schema(json.dumps(customer_avro), "AVRO"))
    order_avro = {
        "type": "record",
        "name": "Order",
        "namespace": f"shop_{tag}",
        "fields": [{"name": "id", "type": "long"}, {"name": "customer", "type": f"shop_{tag}.Customer"}],
    }
    topic = unique("avro_refs").lower()
    schema = Schema(
        json.dumps(order_avro), "AVRO", [SchemaReference(f"shop_{tag}.Customer", customer_subject, 1)]
    )
    client.register_schema(f"{topic}-value", schema)
    writer_avro = AvroSerializer(
        client, schema, conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    context = SerializationContext(topic, MessageField.VALUE)
    produce(
        sql_bootstrap, topic, [(None, writer_avro({"id": 3, "customer": {"name": "cy", "tier": 5}}, context))]
    )
    src = topic.upper()
    server.ok(f"CREATE STREAM {src} WITH (KAFKA_TOPIC='{topic}', VALUE_FORMAT='AVRO');")
    assert fields_of(server, src) == [("ID", "BIGINT", None), ("CUSTOMER", "STRUCT", None)]
    scanned = server.query_stream(f"SELECT id, customer->name, customer->tier FROM {src};")
    assert scanned[1:] == [[3, "cy", 5]]

    # JSON Schema: a $ref names another subject's schema by the reference's name
    customer_json = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "tier": {"type": "integer", "connect.type": "int32"}},
    }
    client.register_schema(f"customer-json-{tag}", Schema(json.dumps(customer_json), "JSON"))
    order_json = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "customer": {"$ref": "customer.json"}},
    }
    topic = unique("js_refs").lower()
    schema = Schema(
        json.dumps(order_json), "JSON", [SchemaReference("customer.json", f"customer-json-{tag}", 1)]
    )
    client.register_schema(f"{topic}-value", schema)
    writer_js = JSONSerializer(
        schema, client, conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    context = SerializationContext(topic, MessageField.VALUE)
    produce(
        sql_bootstrap, topic, [(None, writer_js({"id": 4, "customer": {"name": "dee", "tier": 9}}, context))]
    )
    src = topic.upper()
    server.ok(f"CREATE STREAM {src} WITH (KAFKA_TOPIC='{topic}', VALUE_FORMAT='JSON_SR');")
    assert fields_of(server, src) == [("ID", "BIGINT", None), ("CUSTOMER", "STRUCT", None)]
    scanned = server.query_stream(f"SELECT id, customer->name, customer->tier FROM {src};")
    assert scanned[1:] == [[4, "dee", 9]]

    # PRINT decodes the referencing Protobuf records (the schema read as text first, then as a descriptor)
    printed = httpx.post(
        server.url + "/query", json={"ksql": f"PRINT '{pb_topic}' FROM BEGINNING LIMIT 1;"}, timeout=60
    )
    assert '"name":"ada"' in printed.text, printed.text
