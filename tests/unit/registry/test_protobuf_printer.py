"""The .proto printer: descriptors (as confluent-kafka registers them) back to .proto text that
protoc compiles to the same descriptor."""

from __future__ import annotations

import base64

import pytest
from corpus_protobuf import CASES
from google.protobuf import descriptor_pb2

from odradek.registry.formats import protobuf, protobuf_text

RICH3 = """
syntax = "proto3";
package shop.v1;

import "google/protobuf/timestamp.proto";
import "google/protobuf/descriptor.proto";

option java_package = "com.shop.v1";
option java_multiple_files = true;
option optimize_for = SPEED;

extend google.protobuf.FieldOptions {
  optional string sensitivity = 50001;
}

message Order {
  option deprecated = true;
  string id = 1;
  repeated Line lines = 2;
  map<string, int64> counts = 3;
  map<int32, Line> by_number = 4;
  optional string note = 5;
  oneof payment {
    string card = 6;
    Cash cash = 7 [deprecated = true];
  }
  google.protobuf.Timestamp created_at = 8 [(sensitivity) = "low"];
  Status status = 9;
  bytes blob = 10 [json_name = "BLOB"];
  reserved 20, 22 to 25, 100 to max;
  reserved "old", "older";

  message Line {
    string sku = 1;
    uint32 quantity = 2;
    repeated double prices = 3 [packed = false];
  }
  message Cash {
  }
  enum Status {
    option allow_alias = true;
    STATUS_UNSPECIFIED = 0;
    STATUS_NEW = 1;
    STATUS_FRESH = 1 [deprecated = true];
    reserved 5, 7 to 9;
    reserved "GONE";
  }
}

enum Top {
  TOP_ZERO = 0;
}

service Orders {
  rpc Get(Order) returns (Order);
  rpc Watch(stream Order) returns (stream Order) {
    option deprecated = true;
  }
}
"""

RICH2 = r"""
syntax = "proto2";
package legacy;

message Thing {
  required int32 id = 1;
  optional string name = 2 [default = "it's \"quoted\"\n"];
  optional bytes raw = 3 [default = "\001\377"];
  optional double ratio = 4 [default = -inf];
  optional Kind kind = 5 [default = B];
  repeated sint64 values = 6 [packed = true];
  optional float f = 7 [default = 1.5];
  optional bool on = 8 [default = true];
  extensions 100 to 199, 1000 to max;

  enum Kind {
    A = 1;
    B = 2;
  }
}

extend Thing {
  optional string extra = 100;
  repeated int32 more = 101;
}
"""


def descriptor_text(proto: str) -> str:
    form = protobuf.parse(proto).form
    assert isinstance(form, protobuf.ProtobufForm)
    return form.serialized()


@pytest.mark.parametrize("proto", [RICH3, RICH2], ids=["proto3", "proto2"])
def test_rich_schemas_round_trip(proto: str) -> None:
    encoded = descriptor_text(proto)
    printed = protobuf.as_text(encoded)
    assert printed is not None
    assert protobuf.parse(printed).canonical == protobuf.parse(encoded).canonical
    # a readable file, not a dump
    assert printed.startswith('syntax = "proto')
    assert "message " in printed and "  " in printed


def test_printed_forms() -> None:
    printed = protobuf.as_text(descriptor_text(RICH3))
    assert printed is not None
    for line in (
        "package shop.v1;",
        'import "google/protobuf/timestamp.proto";',
        'option java_package = "com.shop.v1";',
        "option optimize_for = SPEED;",
        "  map<string, int64> counts = 3;",
        "  map<int32, .shop.v1.Order.Line> by_number = 4;",
        "  optional string note = 5;",
        "  oneof payment {",
        "    .shop.v1.Order.Cash cash = 7 [deprecated = true];",
        '  .google.protobuf.Timestamp created_at = 8 [(shop.v1.sensitivity) = "low"];',
        '  bytes blob = 10 [json_name = "BLOB"];',
        "  reserved 20, 22 to 25, 100 to max;",
        '  reserved "old", "older";',
        "    repeated double prices = 3 [packed = false];",
        "    STATUS_FRESH = 1 [deprecated = true];",
        "    reserved 5, 7 to 9;",
        "  rpc Watch(stream .shop.v1.Order) returns (stream .shop.v1.Order) {",
        "  rpc Get(.shop.v1.Order) returns (.shop.v1.Order);",
    ):
        assert line in printed.splitlines(), line
    assert "NoteEntry" not in printed and "CountsEntry" not in printed and "_note" not in printed
    legacy = protobuf.as_text(descriptor_text(RICH2))
    assert legacy is not None
    assert "  required int32 id = 1;" in legacy.splitlines()
    assert "  extensions 100 to 199, 1000 to max;" in legacy.splitlines()
    assert "extend .legacy.Thing {" in legacy.splitlines()


def test_every_corpus_schema_round_trips() -> None:
    texts = {text for case in CASES for text in case[1:3]}
    for text in texts:
        encoded = descriptor_text(text)
        printed = protobuf.as_text(encoded)
        assert printed is not None, text
        assert protobuf.parse(printed).canonical == protobuf.parse(encoded).canonical


def test_text_schemas_and_unprintable_descriptors_are_left_alone() -> None:
    assert protobuf.as_text(RICH3) is None  # already .proto text
    group = descriptor_pb2.FileDescriptorProto(name="g.proto", syntax="proto2")
    message = group.message_type.add(name="G")
    message.field.add(
        name="grp",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_GROUP,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
        type_name=".G.Grp",
    )
    with pytest.raises(protobuf_text.Unprintable):
        protobuf_text.to_text(group)
    editions = descriptor_pb2.FileDescriptorProto(name="e.proto", syntax="editions")
    assert protobuf.as_text(base64.b64encode(editions.SerializeToString()).decode()) is None
