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
