"""Schema parsing per format: validity, identity forms, references, Protobuf text and descriptors."""

from __future__ import annotations

import json

import pytest

from odradek.registry.formats import avro, json_schema, protobuf
from odradek.registry.formats.base import SchemaParseError


def test_avro_identity_ignores_whitespace_and_normalize_ignores_spelling() -> None:
    compact = '{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":"int"}]}'
    spaced = json.dumps(json.loads(compact), indent=2)
    spelled = '{"namespace":"n","name":"R","type":"record","fields":[{"type":{"type":"int"},"name":"a"}]}'
    assert avro.parse(compact).canonical == avro.parse(spaced).canonical
    assert avro.parse(compact).canonical != avro.parse(spelled).canonical
    assert avro.parse(compact).normalized == avro.parse(spelled).normalized


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]}',
        '{"type":"record","name":"1R","fields":[]}',
        '{"type":"record","name":"R","fields":[{"name":"a","type":["int","null"],"default":null}]}',
        '{"type":"record","name":"R","fields":[{"name":"a","type":["int",["null"]]}]}',
        '{"type":"record","name":"R","fields":[{"name":"a","type":["int","int"]}]}',
        '"nothing"',
        "{",
    ],
)
def test_avro_rejects(text: str) -> None:
    with pytest.raises(SchemaParseError):
        avro.parse(text)


def test_avro_references_define_named_types() -> None:
    address = '{"type":"record","name":"Address","namespace":"a","fields":[{"name":"city","type":"string"}]}'
    person = '{"type":"record","name":"Person","namespace":"a","fields":[{"name":"home","type":"a.Address"}]}'
    with pytest.raises(SchemaParseError):
        avro.parse(person)
    assert "a.Address" in avro.parse(person, [("a.Address", address)]).form.names


def test_json_schema_drafts_and_errors() -> None:
    assert json_schema.parse('{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"string"}')
    assert json_schema.parse("true").form.schema is True
    for bad in ('{"type": 12}', '{"minLength": -1}', "[]", "nope"):
        with pytest.raises(SchemaParseError):
            json_schema.parse(bad)


def test_protobuf_errors_name_line_and_column() -> None:
    with pytest.raises(SchemaParseError, match=r"schema.proto:3:\d+: .*Strin"):
        protobuf.parse('syntax = "proto3";\nmessage M {\n  Strin a = 1;\n}\n')


def test_protobuf_text_and_descriptor_are_one_schema() -> None:
    text = 'syntax = "proto3";\npackage p;\n// a comment\nmessage M { int32 a = 1; }\n'
    parsed = protobuf.parse(text)
    assert protobuf.parse(parsed.form.serialized()).canonical == parsed.canonical
    assert protobuf.parse(text.replace("// a comment\n", "")).canonical == parsed.canonical
    reordered = protobuf.parse('syntax = "proto3";\npackage p;\nmessage M { int32 b = 2; int32 a = 1; }\n')
    ordered = protobuf.parse('syntax = "proto3";\npackage p;\nmessage M { int32 a = 1; int32 b = 2; }\n')
    assert reordered.canonical != ordered.canonical and reordered.normalized == ordered.normalized


def test_protobuf_references_and_well_known_types() -> None:
    dep = 'syntax = "proto3";\npackage d;\nmessage D { string s = 1; }\n'
    main = 'syntax = "proto3";\nimport "dep/d.proto";\nimport "google/protobuf/timestamp.proto";\n'
    main += "message M { d.D d = 1; google.protobuf.Timestamp t = 2; }\n"
    with pytest.raises(SchemaParseError):
        protobuf.parse(main)
    parsed = protobuf.parse(main, [("dep/d.proto", dep)])
    assert set(parsed.form.dependencies) == {"dep/d.proto", "google/protobuf/timestamp.proto"}
    as_descriptors = protobuf.parse(
        parsed.form.serialized(), [("dep/d.proto", protobuf.parse(dep).form.serialized())]
    )
    assert as_descriptors.canonical == parsed.canonical
    with pytest.raises(SchemaParseError):
        protobuf.parse(main, [("../escape.proto", dep)])


def test_protobuf_confluent_known_imports_need_no_reference() -> None:
    """Confluent's serializers never register google/type/* or confluent/* (skip.known.types);
    Confluent's registry knows them, and so does odradek's."""
    main = 'syntax = "proto3";\nimport "google/type/date.proto";\nimport "confluent/meta.proto";\n'
    main += 'import "confluent/type/decimal.proto";\n'
    main += "message M { google.type.Date d = 1;\n"
    main += '  confluent.type.Decimal x = 2 [(confluent.field_meta).params = {key: "scale", value: "2"}]; }\n'
    parsed = protobuf.parse(main)
    assert {"google/type/date.proto", "confluent/meta.proto", "confluent/type/decimal.proto"} <= set(
        parsed.form.dependencies
    )
    assert protobuf.parse(parsed.form.serialized()).canonical == parsed.canonical
