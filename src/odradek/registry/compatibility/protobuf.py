"""Protobuf compatibility as a pure check over descriptors: can ``reader`` parse ``writer``'s bytes?

Fields are identified by number (renames are free). Rules, Confluent's names:

- PACKAGE_CHANGED: incompatible when: the file's package differs
- SYNTAX_CHANGED: incompatible when: proto2 ↔ proto3 (default and presence semantics change)
- MESSAGE_REMOVED: incompatible when: a writer message (by full name) is missing from the reader
- FIELD_KIND_CHANGED: incompatible when: scalar ↔ message ↔ enum ↔ map
- FIELD_SCALAR_KIND_CHANGED: incompatible when: scalar types outside one wire-compatible group: {int32,
  int64, uint32, uint64, bool}, {sint32, sint64}, {string, bytes}, {fixed32, sfixed32}, {fixed64, sfixed64},
  {float}, {double}
- FIELD_NAMED_TYPE_CHANGED: incompatible when: a message or enum field now names another type
- FIELD_NUMERIC_LABEL_CHANGED: incompatible when: a numeric field between singular and repeated (packed
  encoding)
- REQUIRED_FIELD_ADDED / REQUIRED_FIELD_REMOVED: incompatible when: proto2 ``required`` fields appear or go
- ONEOF_FIELD_REMOVED: incompatible when: a field of a oneof is removed
- FIELD_MOVED_TO_EXISTING_ONEOF: incompatible when: a field joins a oneof that already existed
- MULTIPLE_FIELDS_MOVED_TO_ONEOF: incompatible when: two or more existing fields move into one new oneof
- RESERVED_FIELD_REUSED: incompatible when: a new field uses a number or name an older version reserves
  (`reserved_reused`, any level)

Compatible: messages, enums, fields and oneofs added; fields removed (outside a oneof); enum
constants changed; string/bytes/message fields between singular and repeated; one field moved into a
new oneof; oneof fields moved to the top level. Referenced message types are compared by full name,
recursively (dependencies included), each pair once.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.descriptor_pb2 import DescriptorProto, FieldDescriptorProto, FileDescriptorProto

from odradek.registry.compatibility.result import Incompatibility
from odradek.registry.formats.protobuf import ProtobufForm

T = FieldDescriptorProto
SCALAR_GROUPS = {
    T.TYPE_INT32: "varint",
    T.TYPE_INT64: "varint",
    T.TYPE_UINT32: "varint",
    T.TYPE_UINT64: "varint",
    T.TYPE_BOOL: "varint",
    T.TYPE_SINT32: "zigzag",
    T.TYPE_SINT64: "zigzag",
    T.TYPE_STRING: "length",
    T.TYPE_BYTES: "length",
    T.TYPE_FIXED32: "fixed32",
    T.TYPE_SFIXED32: "fixed32",
    T.TYPE_FIXED64: "fixed64",
    T.TYPE_SFIXED64: "fixed64",
    T.TYPE_FLOAT: "float",
    T.TYPE_DOUBLE: "double",
}
LENGTH_DELIMITED = {T.TYPE_STRING, T.TYPE_BYTES, T.TYPE_MESSAGE, T.TYPE_GROUP}


@dataclass(frozen=True, slots=True)
class _Messages:
    by_name: dict[str, DescriptorProto]

    @classmethod
    def of(cls, form: ProtobufForm) -> _Messages:
        by_name: dict[str, DescriptorProto] = {}
        for file in (*form.dependencies.values(), form.file):
            prefix = f".{file.package}" if file.package else ""
            for message in file.message_type:
                _collect(message, prefix, by_name)
        return cls(by_name)


def _collect(message: DescriptorProto, prefix: str, out: dict[str, DescriptorProto]) -> None:
    name = f"{prefix}.{message.name}"
    out[name] = message
    for nested in message.nested_type:
        _collect(nested, name, out)


def _top_level(file: FileDescriptorProto) -> list[str]:
    prefix = f".{file.package}" if file.package else ""
    names: dict[str, DescriptorProto] = {}
    for message in file.message_type:
        _collect(message, prefix, names)
    return [name for name, message in names.items() if not message.options.map_entry]


def check(reader: ProtobufForm, writer: ProtobufForm) -> list[Incompatibility]:
    out: list[Incompatibility] = []
    if reader.file.package != writer.file.package:
        out.append(
            Incompatibility(
                "PACKAGE_CHANGED", "/", f"package '{writer.file.package}' became '{reader.file.package}'"
            )
        )
    if _syntax(reader.file) != _syntax(writer.file):
        out.append(
            Incompatibility(
                "SYNTAX_CHANGED", "/", f"syntax {_syntax(writer.file)} became {_syntax(reader.file)}"
            )
        )
    checker = _Checker(_Messages.of(reader), _Messages.of(writer))
    for name in _top_level(writer.file):
        if name not in checker.reader.by_name:
            out.append(Incompatibility("MESSAGE_REMOVED", name, f"message {name[1:]} was removed"))
        else:
            out += checker.message(name, name)
    return out


def _syntax(file: FileDescriptorProto) -> str:
    return file.syntax or "proto2"


class _Checker:
    def __init__(self, reader: _Messages, writer: _Messages) -> None:
        self.reader = reader
        self.writer = writer
        self.done: set[tuple[str, str]] = set()

    def message(self, reader_name: str, writer_name: str) -> list[Incompatibility]:
        if (reader_name, writer_name) in self.done:
            return []
        self.done.add((reader_name, writer_name))
        reader = self.reader.by_name.get(reader_name)
        writer = self.writer.by_name.get(writer_name)
        if reader is None or writer is None:
            return []
        path = reader_name[1:]
        out: list[Incompatibility] = []
        r_fields = {f.number: f for f in reader.field}
        w_fields = {f.number: f for f in writer.field}
        moved_to_new_oneof: dict[int, list[int]] = {}
        w_oneofs = {o.name for o in writer.oneof_decl}
        r_oneofs = {o.name for o in reader.oneof_decl}
        for number, w_field in sorted(w_fields.items()):
            field_path = f"{path}.{w_field.name}"
            r_field = r_fields.get(number)
            if r_field is None:
                if _in_oneof(w_field) and writer.oneof_decl[w_field.oneof_index].name in r_oneofs:
                    out.append(
                        Incompatibility(
                            "ONEOF_FIELD_REMOVED", field_path, f"oneof field {number} was removed"
                        )
                    )
                if w_field.label == T.LABEL_REQUIRED:
                    out.append(
                        Incompatibility(
                            "REQUIRED_FIELD_REMOVED", field_path, f"required field {number} was removed"
                        )
                    )
                continue
            out += self._field(r_field, w_field, field_path)
            if _in_oneof(r_field) and not _in_oneof(w_field):
                oneof = reader.oneof_decl[r_field.oneof_index].name
                if oneof in w_oneofs:
                    out.append(
                        Incompatibility(
                            "FIELD_MOVED_TO_EXISTING_ONEOF",
                            field_path,
                            f"field {number} moved into oneof '{oneof}'",
                        )
                    )
                else:
                    moved_to_new_oneof.setdefault(r_field.oneof_index, []).append(number)
        for index, numbers in moved_to_new_oneof.items():
            if len(numbers) > 1:
                out.append(
                    Incompatibility(
                        "MULTIPLE_FIELDS_MOVED_TO_ONEOF",
                        f"{path}.{reader.oneof_decl[index].name}",
                        f"fields {numbers} moved into one new oneof",
                    )
                )
        for number, r_field in sorted(r_fields.items()):
            if number not in w_fields and r_field.label == T.LABEL_REQUIRED:
                out.append(
                    Incompatibility(
                        "REQUIRED_FIELD_ADDED", f"{path}.{r_field.name}", f"required field {number} was added"
                    )
                )
        return out

    def _field(
        self, reader: FieldDescriptorProto, writer: FieldDescriptorProto, path: str
    ) -> list[Incompatibility]:
        r_kind, w_kind = self._kind(reader, self.reader), self._kind(writer, self.writer)
        if r_kind != w_kind:
            return [Incompatibility("FIELD_KIND_CHANGED", path, f"a {w_kind} field became a {r_kind} field")]
        if r_kind == "scalar":
            if SCALAR_GROUPS.get(reader.type) != SCALAR_GROUPS.get(writer.type):
                return [
                    Incompatibility(
                        "FIELD_SCALAR_KIND_CHANGED",
                        path,
                        f"{_type_name(writer)} became {_type_name(reader)} (not wire-compatible)",
                    )
                ]
            if (reader.label == T.LABEL_REPEATED) != (
                writer.label == T.LABEL_REPEATED
            ) and reader.type not in LENGTH_DELIMITED:
                return [
                    Incompatibility(
                        "FIELD_NUMERIC_LABEL_CHANGED",
                        path,
                        "a numeric field changed between singular and repeated",
                    )
                ]
            return []
        if r_kind == "map":
            r_entry = self.reader.by_name[reader.type_name]
            w_entry = self.writer.by_name[writer.type_name]
            out: list[Incompatibility] = []
            for r_part, w_part, part in zip(r_entry.field, w_entry.field, ("key", "value"), strict=False):
                out += self._field(r_part, w_part, f"{path}.{part}")
            return out
        if _short(reader.type_name) != _short(writer.type_name):
            return [
                Incompatibility(
                    "FIELD_NAMED_TYPE_CHANGED",
                    path,
                    f"type {writer.type_name.lstrip('.')} became {reader.type_name.lstrip('.')}",
                )
            ]
        if r_kind == "message":
            return self.message(reader.type_name, writer.type_name)
        return []

    def _kind(self, field: FieldDescriptorProto, messages: _Messages) -> str:
        if field.type == T.TYPE_ENUM:
            return "enum"
        if field.type in (T.TYPE_MESSAGE, T.TYPE_GROUP):
            entry = messages.by_name.get(field.type_name)
            if entry is not None and entry.options.map_entry:
                return "map"
            return "message"
        return "scalar"


def reserved_reused(new: ProtobufForm, old: ProtobufForm) -> list[Incompatibility]:
    """Fields of the new schema on numbers or names an older version reserves (whatever the level).

    Not a question of which side reads: reserving is how a schema says "this number once meant
    something else", so data written before the reservation may still carry it.
    """
    new_messages, old_messages = _Messages.of(new), _Messages.of(old)
    out = []
    for name, message in new_messages.by_name.items():
        previous = old_messages.by_name.get(name)
        if previous is None:
            continue
        for field in message.field:
            number_reserved = any(r.start <= field.number < r.end for r in previous.reserved_range)
            if number_reserved or field.name in previous.reserved_name:
                out.append(
                    Incompatibility(
                        "RESERVED_FIELD_REUSED",
                        f"{name[1:]}.{field.name}",
                        f"field {field.number} ('{field.name}') uses a number or name the old one reserves",
                    )
                )
    return out


def _in_oneof(field: FieldDescriptorProto) -> bool:
    return field.HasField("oneof_index") and not field.proto3_optional


def _short(type_name: str) -> str:
    return type_name.lstrip(".")


def _type_name(field: FieldDescriptorProto) -> str:
    return str(T.Type.Name(field.type)).removeprefix("TYPE_").lower()
