"""Broker-side schema validation without a registry: the wire-format walk and the cache rules."""

from __future__ import annotations

import asyncio

from odradek.broker.schema_validation import SchemaValidation
from odradek.model.errors import ErrorCode
from odradek.protocol import compression
from odradek.protocol.records import BatchSpec, build_batch, validate_batches
from odradek.protocol.schema_ids import NOT_FRAMED, schema_ids
from odradek.testing.clock import FakeClock


def framed(schema_id: int) -> bytes:
    return b"\x00" + schema_id.to_bytes(4, "big") + b"payload"


def batch(*items: tuple[bytes | None, bytes | None], codec: int = 0) -> tuple[memoryview, object]:
    raw = build_batch([(k, v, [], 1000) for k, v in items], BatchSpec(compression=codec))
    view = memoryview(raw)
    return view, validate_batches(view)[0]


def test_schema_ids_of_keys_and_values() -> None:
    view, header = batch((framed(3), framed(9)), (None, b"\x01abcdef"), (b"k", None), (b"\x00\x00", b""))
    from odradek.protocol.records import records_payload

    ids = schema_ids(records_payload(view, 0, header), header.record_count)  # type: ignore[arg-type]
    assert ids == [(3, 9), (None, NOT_FRAMED), (NOT_FRAMED, None), (NOT_FRAMED, NOT_FRAMED)]


class Registry(SchemaValidation):
    """The real cache and checks; the registry's answers come from a dict."""

    def __init__(self, answers: dict[int, frozenset[str] | None], clock: FakeClock) -> None:
        super().__init__("http://registry", clock)
        self.answers = answers
        self.asked: list[int] = []

    def _lookup(self, schema_id: int) -> frozenset[str] | None:
        self.asked.append(schema_id)
        return self.answers.get(schema_id, frozenset())


def test_check_and_cache() -> None:
    clock = FakeClock()
    registry = Registry({7: frozenset({"t-value"}), 8: frozenset({"u-value"})}, clock)
    view, header = batch(
        (None, framed(7)), (None, framed(8)), (None, b"raw"), (b"k", None), codec=compression.LZ4
    )
    wanted = registry.ids_of("t", view, header, (False, True))  # type: ignore[arg-type]
    assert wanted == {(7, "t-value"), (8, "t-value")}
    asyncio.run(registry.fetch(registry.uncached(wanted)))
    assert registry.uncached(wanted) == set()
    rejection = registry.check("t", view, header, (False, True))  # type: ignore[arg-type]
    assert rejection is not None and rejection.error_code is ErrorCode.INVALID_RECORD
    assert [i for i, _ in rejection.record_errors] == [1, 2]
    clock.advance(6_000)  # a "no" is trusted 5 s, a "yes" 5 minutes
    assert registry.uncached(wanted) == {(8, "t-value")}
    ok_view, ok_header = batch((None, framed(7)))
    assert registry.check("t", ok_view, ok_header, (False, True)) is None  # type: ignore[arg-type]
    assert registry.uncached({(7, "v-value")}) == {(7, "v-value")}  # another subject: ask again


def test_an_unreachable_registry_is_retriable() -> None:
    clock = FakeClock()
    registry = Registry({7: None}, clock)
    view, header = batch((None, framed(7)))
    asyncio.run(registry.fetch({(7, "t-value")}))
    rejection = registry.check("t", view, header, (False, True))  # type: ignore[arg-type]
    assert rejection is not None and rejection.error_code is ErrorCode.REQUEST_TIMED_OUT


def test_flags_follow_topic_configs() -> None:
    registry = Registry({}, FakeClock())
    configs = {"t": {"confluent.value.schema.validation": "true"}, "u": {"retention.ms": "1"}}
    assert registry.any_topic(configs)
    assert registry.flags(configs, "t") == (False, True)
    assert registry.flags(configs, "u") == (False, False)
    assert not registry.any_topic({"u": {"retention.ms": "1"}})


class NamedRegistry(Registry):
    """Also answers record names, as ``GET /schemas/ids/{id}?format=serialized`` lets the broker derive."""

    def __init__(
        self,
        answers: dict[int, frozenset[str] | None],
        names: dict[int, frozenset[str] | None],
        clock: FakeClock,
    ) -> None:
        super().__init__(answers, clock)
        self.names = names
        self.named: list[int] = []

    def _lookup_names(self, schema_id: int) -> frozenset[str] | None:
        self.named.append(schema_id)
        return self.names.get(schema_id, frozenset())


def test_record_name_strategies() -> None:
    clock = FakeClock()
    registry = NamedRegistry(
        {1: frozenset({"com.acme.Event"}), 2: frozenset({"t-com.acme.Event"}), 3: frozenset({"t-value"})},
        {1: frozenset({"com.acme.Event"}), 2: frozenset({"com.acme.Event"}), 3: frozenset({"com.acme.X"})},
        clock,
    )
    record = "io.confluent.kafka.serializers.subject.RecordNameStrategy"
    configs = {
        "r": {"confluent.value.schema.validation": "true", "confluent.value.subject.name.strategy": record},
        "t": {
            "confluent.value.schema.validation": "true",
            "confluent.value.subject.name.strategy": "TopicRecordNameStrategy",
            "confluent.key.schema.validation": "true",
        },
    }
    assert registry.flags(configs, "r") == (False, True)
    assert registry.rule("r", "value") == "\x00" and registry.rule("t", "value") == "\x00t-"
    assert registry.rule("t", "key") == "t-key"  # the key keeps TopicNameStrategy
    view, header = batch((None, framed(1)), (None, framed(2)), (None, framed(3)))
    wanted = registry.ids_of("r", view, header, (False, True))  # type: ignore[arg-type]
    assert wanted == {(1, "\x00"), (2, "\x00"), (3, "\x00")}
    asyncio.run(registry.fetch(registry.uncached(wanted)))
    assert sorted(registry.named) == [1, 2, 3]
    rejection = registry.check("r", view, header, (False, True))  # type: ignore[arg-type]
    assert rejection is not None and rejection.error_code is ErrorCode.INVALID_RECORD
    assert [i for i, _ in rejection.record_errors] == [1, 2]
    assert "not registered under com.acme.Event" in rejection.record_errors[0][1]
    assert "not registered under com.acme.X" in rejection.record_errors[1][1]
    wanted = registry.ids_of("t", view, header, (False, True))  # type: ignore[arg-type]
    asyncio.run(registry.fetch(registry.uncached(wanted)))
    rejection = registry.check("t", view, header, (False, True))  # type: ignore[arg-type]
    assert rejection is not None and [i for i, _ in rejection.record_errors] == [0, 2]
    # a "yes" is cached, a "no" asked again after 5 s
    assert registry.uncached({(2, "\x00t-")}) == set()
    clock.advance(6_000)
    assert registry.uncached({(2, "\x00t-"), (1, "\x00t-")}) == {(1, "\x00t-")}


def test_record_names_of_each_format() -> None:
    import base64

    from google.protobuf import descriptor_pb2

    from odradek.broker.schema_validation import record_names

    avro = '{"type": "record", "name": "Event", "namespace": "com.acme", "fields": []}'
    assert record_names("AVRO", avro) == {"com.acme.Event"}
    assert record_names("AVRO", '{"type": "enum", "name": "x.Y", "namespace": "z", "symbols": ["A"]}') == {
        "x.Y"
    }
    assert record_names("AVRO", '"string"') == {"string"}
    assert record_names("AVRO", '{"type": "long"}') == {"long"}
    assert record_names("AVRO", '["null", "string"]') == frozenset()
    assert record_names("JSON", '{"title": "Order", "type": "object"}') == {"Order"}
    assert record_names("JSON", '{"type": "object"}') == frozenset()
    file = descriptor_pb2.FileDescriptorProto(name="f.proto", package="p")
    outer = file.message_type.add(name="Outer")
    outer.nested_type.add(name="Inner")
    outer.nested_type.add(name="MEntry").options.map_entry = True
    encoded = base64.b64encode(file.SerializeToString()).decode()
    assert record_names("PROTOBUF", encoded) == {"p.Outer", "p.Outer.Inner"}
    assert record_names("PROTOBUF", 'syntax = "proto3";') == frozenset()
