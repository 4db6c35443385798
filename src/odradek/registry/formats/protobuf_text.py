"""``.proto`` text for a Protobuf schema registered as a base64 ``FileDescriptorProto``.

confluent-kafka's serializers register Protobuf schemas as descriptors; Confluent's registry answers
``GET /schemas/ids/{id}`` with ``.proto`` text anyway (and the base64 form with
``format=serialized``). `to_text` prints the descriptor as ``.proto`` source, walking protobuf's own
descriptor messages (`descriptor_pb2`): syntax, package, imports, options (custom ones by their full
name), messages with nested types, ``map<K, V>`` fields, oneofs, proto3 ``optional``, defaults,
reserved and extension ranges, enums, ``extend`` blocks and services.

What it cannot print faithfully raises `Unprintable` (proto2 groups, editions, uninterpreted or
message-valued options); the caller then keeps the stored descriptor text. The registry also
compiles every printed text back with protoc and keeps it only when it yields the same descriptor
(`odradek.registry.service`), so a printed schema is always the registered one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

FDP = descriptor_pb2.FieldDescriptorProto
INDENT = "  "
MAX_FIELD_NUMBER = 536_870_911  # 2^29 - 1: "max" in ranges

SCALARS = {
    FDP.TYPE_DOUBLE: "double",
    FDP.TYPE_FLOAT: "float",
    FDP.TYPE_INT64: "int64",
    FDP.TYPE_UINT64: "uint64",
    FDP.TYPE_INT32: "int32",
    FDP.TYPE_FIXED64: "fixed64",
    FDP.TYPE_FIXED32: "fixed32",
    FDP.TYPE_BOOL: "bool",
    FDP.TYPE_STRING: "string",
    FDP.TYPE_BYTES: "bytes",
    FDP.TYPE_UINT32: "uint32",
    FDP.TYPE_SFIXED32: "sfixed32",
    FDP.TYPE_SFIXED64: "sfixed64",
    FDP.TYPE_SINT32: "sint32",
    FDP.TYPE_SINT64: "sint64",
}


class Unprintable(ValueError):
    """The descriptor uses something this printer does not render as .proto text."""


OptionsReader = Callable[[Message], Message]


def _as_is(options: Message) -> Message:
    return options


def to_text(file: descriptor_pb2.FileDescriptorProto, read: OptionsReader = _as_is) -> str:
    """``read`` re-reads an options message with the custom options (extensions) of the
    schema's imports known, so they print by name instead of being lost as unknown fields."""
    if file.syntax not in ("", "proto2", "proto3"):
        raise Unprintable(f"syntax {file.syntax!r}")
    proto3 = file.syntax == "proto3"
    out: list[str] = [f'syntax = "{file.syntax or "proto2"}";']
    if file.package:
        out.append(f"package {file.package};")
    public, weak = set(file.public_dependency), set(file.weak_dependency)
    if file.dependency:
        out.append("")
        for i, name in enumerate(file.dependency):
            kind = "public " if i in public else "weak " if i in weak else ""
            out.append(f"import {kind}{quote(name)};")
    options = option_lines(read, file.options, "")
    if options:
        out.append("")
        out += options
    entries = _map_entries(file.message_type, file.package)
    for message in file.message_type:
        out.append("")
        out += _message(read, message, proto3, entries, "")
    for enum in file.enum_type:
        out.append("")
        out += _enum(read, enum, "")
    out += _extensions(read, file.extension, proto3, entries, "")
    for service in file.service:
        out.append("")
        out += _service(read, service)
    return "\n".join(out) + "\n"


# -- messages ---------------------------------------------------------------------------------


def _map_entries(
    messages: Iterable[descriptor_pb2.DescriptorProto], scope: str
) -> dict[str, descriptor_pb2.DescriptorProto]:
    """Map entry types by full name (``.pkg.Msg.FooEntry``), at every nesting level."""
    found: dict[str, descriptor_pb2.DescriptorProto] = {}
    for message in messages:
        full = f"{scope}.{message.name}" if scope else message.name
        if message.options.map_entry:
            found["." + full] = message
        found.update(_map_entries(message.nested_type, full))
    return found


def _message(
    read: OptionsReader,
    message: descriptor_pb2.DescriptorProto,
    proto3: bool,
    entries: dict[str, descriptor_pb2.DescriptorProto],
    indent: str,
) -> list[str]:
    inner = indent + INDENT
    out = [f"{indent}message {message.name} {{"]
    out += option_lines(read, message.options, inner, skip=("map_entry",))
    real_oneofs = {
        f.oneof_index for f in message.field if f.HasField("oneof_index") and not f.proto3_optional
    }
    emitted_oneofs: set[int] = set()
    for field in message.field:
        if field.HasField("oneof_index") and not field.proto3_optional:
            index = field.oneof_index
            if index in emitted_oneofs:
                continue
            emitted_oneofs.add(index)
            decl = message.oneof_decl[index]
            out.append(f"{inner}oneof {decl.name} {{")
            out += option_lines(read, decl.options, inner + INDENT)
            for member in message.field:
                if (
                    member.HasField("oneof_index")
                    and member.oneof_index == index
                    and not member.proto3_optional
                ):
                    out.append(inner + INDENT + _field(read, member, proto3, entries, in_oneof=True))
            out.append(f"{inner}}}")
        else:
            out.append(inner + _field(read, field, proto3, entries, in_oneof=False))
    unused = set(range(len(message.oneof_decl))) - real_oneofs
    for index in sorted(unused):
        synthetic = any(f.proto3_optional and f.oneof_index == index for f in message.field)
        if not synthetic:  # an empty oneof
            out.append(f"{inner}oneof {message.oneof_decl[index].name} {{")
            out.append(f"{inner}}}")
    out += _ranges("extensions", [(r.start, r.end - 1) for r in message.extension_range], inner)
    out += _ranges("reserved", [(r.start, r.end - 1) for r in message.reserved_range], inner)
    if message.reserved_name:
        out.append(f"{inner}reserved {', '.join(quote(n) for n in message.reserved_name)};")
    for nested in message.nested_type:
        if nested.options.map_entry:
            continue
        out.append("")
        out += _message(read, nested, proto3, entries, inner)
    for enum in message.enum_type:
        out.append("")
        out += _enum(read, enum, inner)
    out += _extensions(read, message.extension, proto3, entries, inner)
    out.append(f"{indent}}}")
    return out


def _field(
    read: OptionsReader,
    field: descriptor_pb2.FieldDescriptorProto,
    proto3: bool,
    entries: dict[str, descriptor_pb2.DescriptorProto],
    in_oneof: bool,
) -> str:
    if field.type == FDP.TYPE_GROUP:
        raise Unprintable("proto2 groups")
    entry = entries.get(field.type_name) if field.label == FDP.LABEL_REPEATED else None
    if entry is not None:
        key, value = sorted(entry.field, key=lambda f: f.number)
        head = f"map<{_type(key)}, {_type(value)}>"
    else:
        head = _type(field)
        label = _label(field, proto3, in_oneof)
        if label:
            head = f"{label} {head}"
    extras: list[str] = []
    if field.HasField("default_value"):
        extras.append(f"default = {_default(field)}")
    if field.HasField("json_name") and field.json_name != json_name(field.name):
        extras.append(f"json_name = {quote(field.json_name)}")
    extras += [f"{name} = {value}" for name, value in _option_pairs(read, field.options)]
    suffix = f" [{', '.join(extras)}]" if extras else ""
    return f"{head} {field.name} = {field.number}{suffix};"


def _label(field: descriptor_pb2.FieldDescriptorProto, proto3: bool, in_oneof: bool) -> str:
    if in_oneof:
        return ""
    if field.label == FDP.LABEL_REPEATED:
        return "repeated"
    if field.label == FDP.LABEL_REQUIRED:
        return "required"
    if proto3:
        return "optional" if field.proto3_optional else ""
    return "optional"


def _type(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type in (FDP.TYPE_MESSAGE, FDP.TYPE_ENUM) or (field.type_name and field.type == 0):
        return str(field.type_name)
    return SCALARS[field.type]


def _default(field: descriptor_pb2.FieldDescriptorProto) -> str:
    value = str(field.default_value)
    if field.type == FDP.TYPE_STRING:
        return quote(value)
    if field.type == FDP.TYPE_BYTES:
        return f'"{value}"'  # descriptors hold bytes defaults C-escaped already
    return value


def json_name(name: str) -> str:
    """protoc's default ``json_name``: underscores dropped, the letter after each one upper-cased."""
    out: list[str] = []
    upper = False
    for c in name:
        if c == "_":
            upper = True
        elif upper:
            out.append(c.upper())
            upper = False
        else:
            out.append(c)
    return "".join(out)


def _ranges(keyword: str, ranges: Sequence[tuple[int, int]], indent: str) -> list[str]:
    if not ranges:
        return []
    parts = []
    for start, end in ranges:
        if start == end:
            parts.append(str(start))
        else:
            parts.append(f"{start} to {'max' if end >= MAX_FIELD_NUMBER else end}")
    return [f"{indent}{keyword} {', '.join(parts)};"]


def _extensions(
    read: OptionsReader,
    fields: Iterable[descriptor_pb2.FieldDescriptorProto],
    proto3: bool,
    entries: dict[str, descriptor_pb2.DescriptorProto],
    indent: str,
) -> list[str]:
    out: list[str] = []
    by_extendee: dict[str, list[descriptor_pb2.FieldDescriptorProto]] = {}
    for field in fields:
        by_extendee.setdefault(field.extendee, []).append(field)
    for extendee, members in by_extendee.items():
        out.append("")
        out.append(f"{indent}extend {extendee} {{")
        for field in members:
            # an extension is never in a oneof; proto3 files may only extend options, with labels
            out.append(
                indent + INDENT + _field(read, field, proto3 and field.proto3_optional, entries, False)
            )
        out.append(f"{indent}}}")
    return out


# -- enums and services -------------------------------------------------------------------------


def _enum(read: OptionsReader, enum: descriptor_pb2.EnumDescriptorProto, indent: str) -> list[str]:
    inner = indent + INDENT
    out = [f"{indent}enum {enum.name} {{"]
    out += option_lines(read, enum.options, inner)
    for value in enum.value:
        pairs = _option_pairs(read, value.options)
        suffix = f" [{', '.join(f'{n} = {v}' for n, v in pairs)}]" if pairs else ""
        out.append(f"{inner}{value.name} = {value.number}{suffix};")
    # enum reserved ranges are inclusive at both ends
    out += _ranges("reserved", [(r.start, r.end) for r in enum.reserved_range], inner)
    if enum.reserved_name:
        out.append(f"{inner}reserved {', '.join(quote(n) for n in enum.reserved_name)};")
    out.append(f"{indent}}}")
    return out


def _service(read: OptionsReader, service: descriptor_pb2.ServiceDescriptorProto) -> list[str]:
    out = [f"service {service.name} {{"]
    out += option_lines(read, service.options, INDENT)
    for method in service.method:
        request = ("stream " if method.client_streaming else "") + method.input_type
        response = ("stream " if method.server_streaming else "") + method.output_type
        head = f"{INDENT}rpc {method.name}({request}) returns ({response})"
        options = option_lines(read, method.options, INDENT * 2)
        if options:
            out += [head + " {", *options, INDENT + "}"]
        else:
            out.append(head + ";")
    out.append("}")
    return out


# -- options --------------------------------------------------------------------------------------


def option_lines(read: OptionsReader, options: Message, indent: str, skip: tuple[str, ...] = ()) -> list[str]:
    return [f"{indent}option {name} = {value};" for name, value in _option_pairs(read, options, skip)]


def _option_pairs(read: OptionsReader, options: Message, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    options = read(options)
    if UnknownFieldSet(options):
        raise Unprintable(f"unknown fields in {options.DESCRIPTOR.full_name}")
    for field, value in options.ListFields():
        if field.name in skip and not field.is_extension:
            continue
        if field.name == "uninterpreted_option":
            raise Unprintable("uninterpreted options")
        if field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
            raise Unprintable(f"message-valued option {field.full_name}")
        name = f"({field.full_name})" if field.is_extension else field.name
        values = value if field.is_repeated else [value]
        pairs += [(name, _scalar(field, v)) for v in values]
    return pairs


def _scalar(field: FieldDescriptor, value: object) -> str:
    if field.type == FieldDescriptor.TYPE_BOOL:
        return "true" if value else "false"
    if field.type == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None and isinstance(value, int)
        return str(field.enum_type.values_by_number[value].name)
    if field.type == FieldDescriptor.TYPE_STRING:
        return quote(str(value))
    if field.type == FieldDescriptor.TYPE_BYTES:
        assert isinstance(value, bytes)
        return '"' + _escape_bytes(value) + '"'
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return str(value)


def quote(text: str) -> str:
    return '"' + _escape_bytes(text.encode("utf-8")) + '"'


def _escape_bytes(data: bytes) -> str:
    out: list[str] = []
    for byte in data:
        c = chr(byte)
        if c in ('"', "\\"):
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif 0x20 <= byte < 0x7F:
            out.append(c)
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)
