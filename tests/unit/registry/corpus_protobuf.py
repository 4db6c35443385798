"""Protobuf compatibility corpus: (name, old .proto, new .proto, backward ok, forward ok).

Backward: the new schema parses bytes written with the old one; forward: the reverse. Verdicts follow
Confluent's Protobuf rules (fields by number, wire-compatible scalar groups, oneof rules,
MESSAGE_REMOVED for messages a reader lacks).
"""

from __future__ import annotations


def p3(body: str, package: str = "t", imports: str = "") -> str:
    return f'syntax = "proto3";\npackage {package};\n{imports}\n{body}\n'


def p2(body: str) -> str:
    return f'syntax = "proto2";\npackage t;\n{body}\n'


def m(*fields: str, name: str = "M", extra: str = "") -> str:
    return f"message {name} {{\n  " + "\n  ".join(fields) + f"\n  {extra}\n}}"


BASE = p3(m("int32 a = 1;", "string b = 2;"))
TS = 'import "google/protobuf/timestamp.proto";\nimport "google/protobuf/duration.proto";'

CASES: list[tuple[str, str, str, bool, bool]] = [
    ("identical", BASE, BASE, True, True),
    ("field added", BASE, p3(m("int32 a = 1;", "string b = 2;", "int64 c = 3;")), True, True),
    ("field removed", BASE, p3(m("int32 a = 1;")), True, True),
    ("field renamed", BASE, p3(m("int32 x = 1;", "string b = 2;")), True, True),
    ("int32 to int64", p3(m("int32 a = 1;")), p3(m("int64 a = 1;")), True, True),
    ("int32 to uint32", p3(m("int32 a = 1;")), p3(m("uint32 a = 1;")), True, True),
    ("int32 to bool", p3(m("int32 a = 1;")), p3(m("bool a = 1;")), True, True),
    ("int32 to sint32", p3(m("int32 a = 1;")), p3(m("sint32 a = 1;")), False, False),
    ("sint32 to sint64", p3(m("sint32 a = 1;")), p3(m("sint64 a = 1;")), True, True),
    ("uint64 to sint64", p3(m("uint64 a = 1;")), p3(m("sint64 a = 1;")), False, False),
    ("string to bytes", p3(m("string a = 1;")), p3(m("bytes a = 1;")), True, True),
    ("string to int32", p3(m("string a = 1;")), p3(m("int32 a = 1;")), False, False),
    ("fixed32 to sfixed32", p3(m("fixed32 a = 1;")), p3(m("sfixed32 a = 1;")), True, True),
    ("fixed32 to fixed64", p3(m("fixed32 a = 1;")), p3(m("fixed64 a = 1;")), False, False),
    ("float to double", p3(m("float a = 1;")), p3(m("double a = 1;")), False, False),
    ("double to fixed64", p3(m("double a = 1;")), p3(m("fixed64 a = 1;")), False, False),
    ("scalar to message", p3(m("int32 a = 1;") + "\n" + m("int32 x = 1;", name="N")), p3(m("N a = 1;") + "\n" + m("int32 x = 1;", name="N")), False, False),
    (
        "message field retyped to another message",
        p3(m("N a = 1;") + "\n" + m("int32 x = 1;", name="N") + "\n" + m("int32 x = 1;", name="O")),
        p3(m("O a = 1;") + "\n" + m("int32 x = 1;", name="N") + "\n" + m("int32 x = 1;", name="O")),
        False,
        False,
    ),
    ("enum to int32", p3(m("E a = 1;") + "\nenum E { E0 = 0; E1 = 1; }"), p3(m("int32 a = 1;") + "\nenum E { E0 = 0; E1 = 1; }"), False, False),
    ("message added", BASE, BASE + m("int32 x = 1;", name="Extra"), True, False),
    ("message removed", BASE + m("int32 x = 1;", name="Extra"), BASE, False, True),
    ("package changed", BASE, p3(m("int32 a = 1;", "string b = 2;"), package="u"), False, False),
    ("enum value added", p3(m("E a = 1;") + "\nenum E { E0 = 0; }"), p3(m("E a = 1;") + "\nenum E { E0 = 0; E1 = 1; }"), True, True),
    ("enum value removed", p3(m("E a = 1;") + "\nenum E { E0 = 0; E1 = 1; }"), p3(m("E a = 1;") + "\nenum E { E0 = 0; }"), True, True),
    ("enum type added", BASE, BASE + "\nenum Color { RED = 0; }", True, True),
    ("numeric singular to repeated", p3(m("int32 a = 1;")), p3(m("repeated int32 a = 1;")), False, False),
    ("string singular to repeated", p3(m("string a = 1;")), p3(m("repeated string a = 1;")), True, True),
    (
        "message singular to repeated",
        p3(m("N a = 1;") + "\n" + m("int32 x = 1;", name="N")),
        p3(m("repeated N a = 1;") + "\n" + m("int32 x = 1;", name="N")),
        True,
        True,
    ),
    ("one field moved to a new oneof", BASE, p3(m("string b = 2;", extra="oneof o { int32 a = 1; }")), True, True),
    ("two fields moved to a new oneof", BASE, p3(m(extra="oneof o { int32 a = 1; string b = 2; }")), False, True),
    (
        "field moved into an existing oneof",
        p3(m("int32 a = 1;", extra="oneof o { string b = 2; }")),
        p3(m(extra="oneof o { string b = 2; int32 a = 1; }")),
        False,
        True,
    ),
    ("oneof field removed", p3(m(extra="oneof o { int32 a = 1; string b = 2; }")), p3(m(extra="oneof o { int32 a = 1; }")), False, True),
    ("oneof field added", p3(m(extra="oneof o { int32 a = 1; }")), p3(m(extra="oneof o { int32 a = 1; string b = 2; }")), True, False),
    ("new oneof added", BASE, p3(m("int32 a = 1;", "string b = 2;", extra="oneof o { int64 c = 3; bytes d = 4; }")), True, True),
    ("proto2 required field added", p2(m("optional int32 a = 1;")), p2(m("optional int32 a = 1;", "required int32 b = 2;")), False, False),
    ("syntax proto2 to proto3", p2(m("optional int32 a = 1;")), p3(m("int32 a = 1;")), False, False),
    (
        "nested message field retyped",
        p3(m("N n = 1;", extra=m("int32 x = 1;", name="N"))),
        p3(m("N n = 1;", extra=m("string x = 1;", name="N"))),
        False,
        False,
    ),
    (
        "nested message gains a field",
        p3(m("N n = 1;", extra=m("int32 x = 1;", name="N"))),
        p3(m("N n = 1;", extra=m("int32 x = 1;", "int32 y = 2;", name="N"))),
        True,
        True,
    ),
    ("map value int32 to int64", p3(m("map<string, int32> v = 1;")), p3(m("map<string, int64> v = 1;")), True, True),
    ("map value int32 to string", p3(m("map<string, int32> v = 1;")), p3(m("map<string, string> v = 1;")), False, False),
    (
        "map to repeated message",
        p3(m("map<string, int32> v = 1;")),
        p3(m("repeated N v = 1;") + "\n" + m("string key = 1;", "int32 value = 2;", name="N")),
        False,
        False,
    ),
    ("field removed and reserved", BASE, p3(m("int32 a = 1;", extra="reserved 2; reserved \"b\";")), True, True),
    ("reserved number reused", p3(m("int32 a = 1;", extra="reserved 3;")), p3(m("int32 a = 1;", "string c = 3;")), False, False),
    ("message renamed", BASE, p3(m("int32 a = 1;", "string b = 2;", name="M2")), False, False),
    ("messages reordered", BASE + m("int32 x = 1;", name="Other"), p3(m("int32 x = 1;", name="Other") + "\n" + m("int32 a = 1;", "string b = 2;")), True, True),
    ("well-known type field added", p3(m("int32 a = 1;"), imports=TS), p3(m("int32 a = 1;", "google.protobuf.Timestamp at = 2;"), imports=TS), True, True),
    (
        "Timestamp to Duration",
        p3(m("google.protobuf.Timestamp t = 1;"), imports=TS),
        p3(m("google.protobuf.Duration t = 1;"), imports=TS),
        False,
        False,
    ),
]  # fmt: skip
