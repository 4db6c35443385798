"""The `_schemas` record format and the materialized view built from it (no Kafka)."""

from __future__ import annotations

import json

from odradek.model.ids import SchemaId
from odradek.registry import records
from odradek.registry.model import CompatibilityLevel, Mode, Reference, Schema, SchemaType, SchemaVersion
from odradek.registry.store import SchemaStore


def entry(subject: str, version: int, schema_id: int, text: str = '"string"', **kw: object) -> SchemaVersion:
    schema = Schema(SchemaType(str(kw.pop("schema_type", "AVRO"))), text, tuple(kw.pop("references", ())))  # type: ignore[arg-type]
    return SchemaVersion(subject, version, SchemaId(schema_id), schema, bool(kw.pop("deleted", False)))


class Log:
    def __init__(self) -> None:
        self.store = SchemaStore()
        self.offset = 0

    def put(self, key: records.Key, value: bytes | None) -> None:
        self.store.apply(records.encode_key(key), value, self.offset)
        self.offset += 1

    def schema(self, e: SchemaVersion) -> None:
        self.put(records.SchemaKey(e.subject, e.version), records.encode_schema_value(e))


def test_keys_are_byte_identical_to_confluents() -> None:
    assert (
        records.encode_key(records.SchemaKey("s", 1))
        == b'{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}'
    )
    assert records.encode_key(records.ConfigKey(None)) == b'{"keytype":"CONFIG","subject":null,"magic":0}'
    assert records.encode_key(records.ModeKey("s")) == b'{"keytype":"MODE","subject":"s","magic":0}'
    assert (
        records.encode_key(records.DeleteSubjectKey("s"))
        == b'{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}'
    )
    assert records.encode_key(records.NoopKey()) == b'{"keytype":"NOOP","magic":0}'


def test_values_round_trip_and_avro_omits_its_type() -> None:
    e = entry("s", 2, 7, "syntax", schema_type="PROTOBUF", references=[Reference("a.proto", "a", 1)])
    value = records.encode_schema_value(e)
    assert json.loads(value)["schemaType"] == "PROTOBUF"
    assert records.decode_schema_value(records.SchemaKey("s", 2), value) == e
    assert "schemaType" not in json.loads(records.encode_schema_value(entry("s", 1, 1)))


def test_keys_written_by_karapace_in_another_order_are_read() -> None:
    key = b'{"subject":"s","version":3,"magic":1,"keytype":"SCHEMA"}'
    assert records.decode_key(key) == records.SchemaKey("s", 3)
    for junk in (b"", b"not json", b"[]", b'{"keytype":"ASSOC"}', b'{"keytype":"SCHEMA","subject":1}'):
        assert records.decode_key(junk) is None


def test_ids_versions_and_soft_deletes() -> None:
    log = Log()
    log.schema(entry("a", 1, 1, '"int"'))
    log.schema(entry("a", 2, 2, '"long"'))
    log.schema(entry("b", 1, 2, '"long"'))
    store = log.store
    assert store.subjects() == ["a", "b"]
    assert store.next_id(".") == 3 and store.next_version("a") == 3
    assert store.versions_of_id(".", SchemaId(2)) == [("a", 2), ("b", 1)]
    log.put(records.DeleteSubjectKey("a"), records.encode_json({"subject": "a", "version": 2}))
    assert store.subjects() == ["b"] and store.subjects(include_deleted=True) == ["a", "b"]
    assert store.latest("a") is None and store.latest("a", include_deleted=True) is not None
    assert store.schema(".", SchemaId(1)) is not None  # soft-deleted ids still resolve
    assert store.next_version("a") == 3  # versions never reused
    log.put(records.SchemaKey("a", 1), None)  # hard delete
    assert store.schema(".", SchemaId(1)) is None
    assert store.next_id(".") == 3


def test_bad_records_are_skipped_not_fatal() -> None:
    log = Log()
    log.store.apply(b"garbage", b"x", 0)
    log.store.apply(records.encode_key(records.SchemaKey("s", 1)), b"{not json", 1)
    log.store.apply(records.encode_key(records.ModeKey(None)), b'{"mode":"SIDEWAYS"}', 2)
    assert log.store.skipped == 3 and log.store.subjects() == [] and log.store.offset == 2


def test_config_and_mode_resolution() -> None:
    log = Log()
    store = log.store
    assert store.compatibility("s") is CompatibilityLevel.BACKWARD
    log.put(records.ConfigKey(None), records.encode_json({"compatibilityLevel": "FULL"}))
    assert store.compatibility("s") is CompatibilityLevel.FULL
    log.put(records.ConfigKey("s"), records.encode_json({"compatibilityLevel": "NONE", "normalize": True}))
    assert store.compatibility("s") is CompatibilityLevel.NONE and store.normalize("s")
    log.put(records.ConfigKey("s"), None)
    assert store.compatibility("s") is CompatibilityLevel.FULL
    log.put(records.ModeKey(None), records.encode_json({"mode": "READONLY"}))
    log.put(records.ModeKey("t"), records.encode_json({"mode": "IMPORT"}))
    assert (store.mode("s"), store.mode("t")) == (Mode.READONLY, Mode.IMPORT)


def test_contexts_have_their_own_ids_and_references_are_indexed() -> None:
    log = Log()
    log.schema(entry(":.x:s", 1, 1, '"int"'))
    log.schema(entry("s", 1, 1, '"long"'))
    log.schema(entry("t", 1, 2, '"string"', references=[Reference("r", "s", 1)]))
    store = log.store
    assert store.contexts() == [".", ".x"]
    assert store.schema(".x", SchemaId(1)) != store.schema(".", SchemaId(1))
    assert store.referencing("s", 1) == [2]
    assert store.find_id(".", Schema(SchemaType.AVRO, '"long"')) == 1
