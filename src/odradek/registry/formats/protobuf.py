"""Protobuf schemas, parsed by protoc itself (grpcio-tools' in-process compiler), never by hand.

A schema arrives as ``.proto`` text or, as confluent-kafka's serializers send it, as a base64
``FileDescriptorProto``. Text is compiled by protoc in a private temporary directory holding the
referenced files (each reference's ``name`` is its import path); protoc's own errors (file, line,
column) become the 42201 message. A descriptor is checked by building it in a private
`DescriptorPool` with its dependencies. Imports of Google's well-known types
(``google/protobuf/*.proto``) resolve without references, as in Confluent's registry.

The parsed form is `ProtobufForm`: the schema's ``FileDescriptorProto`` and those of its
dependencies, which the compatibility check reads. Identity (`canonical`) is the descriptor
serialized deterministically without source positions, file name or derived JSON names, so
comments, whitespace and text-vs-descriptor spelling do not create new ids; `normalized` further
orders fields by number and reserved ranges.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import grpc_tools
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message
from grpc_tools import _protoc_compiler

from odradek.registry.formats import protobuf_text
from odradek.registry.formats.base import ParsedSchema, SchemaParseError
from odradek.registry.model import SchemaType

MAIN_FILE = "schema.proto"
_WELL_KNOWN_DIR = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
_WELL_KNOWN_MODULES = (
    "any_pb2",
    "api_pb2",
    "descriptor_pb2",
    "duration_pb2",
    "empty_pb2",
    "field_mask_pb2",
    "source_context_pb2",
    "struct_pb2",
    "timestamp_pb2",
    "type_pb2",
    "wrappers_pb2",
)
# Files Confluent's registry knows without references (its serializers never register them:
# `skip.known.types`), as confluent-kafka and googleapis-common-protos ship them.
_CONFLUENT_KNOWN = {
    "confluent/meta.proto": "confluent_kafka.schema_registry.confluent.meta_pb2",
    "confluent/type/decimal.proto": "confluent_kafka.schema_registry.confluent.type.decimal_pb2",
    **{
        f"google/type/{name}.proto": f"google.type.{name}_pb2"
        for name in (
            "calendar_period",
            "color",
            "date",
            "datetime",
            "dayofweek",
            "expr",
            "fraction",
            "latlng",
            "money",
            "month",
            "postal_address",
            "quaternion",
            "timeofday",
        )
    },
}
_protoc_lock = threading.Lock()  # protoc's in-process compiler is not documented as reentrant


@dataclass(frozen=True, slots=True)
class ProtobufForm:
    file: descriptor_pb2.FileDescriptorProto
    dependencies: dict[str, descriptor_pb2.FileDescriptorProto]

    def serialized(self) -> str:
        return base64.standard_b64encode(self.file.SerializeToString()).decode()


def as_descriptor(text: str) -> descriptor_pb2.FileDescriptorProto | None:
    """The descriptor if ``text`` is a base64 FileDescriptorProto (not .proto source), else None."""
    stripped = text.strip()
    if not stripped or any(c.isspace() for c in stripped) or ";" in stripped:
        return None
    try:
        raw = base64.b64decode(stripped, validate=True)
        file = descriptor_pb2.FileDescriptorProto.FromString(raw)
    except (binascii.Error, ValueError, DecodeError):
        return None
    return file if file.name else None


def parse(text: str, references: Sequence[tuple[str, str]] = ()) -> ParsedSchema:
    descriptor = as_descriptor(text)
    if descriptor is not None:
        file, deps = _check_descriptor(descriptor, references)
    else:
        file, deps = _compile(text, references)
    form = ProtobufForm(file, deps)
    return ParsedSchema(
        SchemaType.PROTOBUF,
        canonical=_identity(file, normalize=False),
        normalized=_identity(file, normalize=True),
        form=form,
        dependencies={},
    )


def as_text(text: str, references: Sequence[tuple[str, str]] = ()) -> str | None:
    """``.proto`` source for a schema sent as a base64 descriptor, or None (sent as source, or not
    printable). The printed text is compiled back by protoc and kept only if it gives the same
    descriptor (up to what identity ignores), so it is always the registered schema."""
    descriptor = as_descriptor(text)
    if descriptor is None:
        return None
    try:
        original, deps = _check_descriptor(descriptor, references)
        printed = protobuf_text.to_text(descriptor, _options_reader(original, deps))
        compiled, _ = _compile(printed, references)
    except (protobuf_text.Unprintable, SchemaParseError):
        return None
    if _identity(compiled, normalize=False) != _identity(original, normalize=False):
        return None
    return printed


def _options_reader(
    file: descriptor_pb2.FileDescriptorProto, deps: dict[str, descriptor_pb2.FileDescriptorProto]
) -> protobuf_text.OptionsReader:
    """Re-reads options messages in a pool holding the schema and its imports, so custom options
    (extensions of ``google.protobuf.*Options`` the schema or an import defines) are known."""
    pool = _pool(file, deps)

    def read(options: Message) -> Message:
        try:
            descriptor = pool.FindMessageTypeByName(options.DESCRIPTOR.full_name)
        except KeyError:  # no import of descriptor.proto: no custom options either
            return options
        return message_factory.GetMessageClass(descriptor).FromString(options.SerializeToString())

    return read


def _compile(
    text: str, references: Sequence[tuple[str, str]]
) -> tuple[descriptor_pb2.FileDescriptorProto, dict[str, descriptor_pb2.FileDescriptorProto]]:
    with tempfile.TemporaryDirectory(prefix="odradek-proto-") as tmp:
        descriptor_inputs: list[descriptor_pb2.FileDescriptorProto] = []
        for name, ref_text in references:
            ref_descriptor = as_descriptor(ref_text)
            if ref_descriptor is not None:
                ref_descriptor.name = name
                descriptor_inputs.append(ref_descriptor)
            else:
                _write(tmp, name, ref_text)
        named = {name for name, _ in references}
        for known in _CONFLUENT_KNOWN:
            if known not in named and f'"{known}"' in text:
                _with_imports(known, descriptor_inputs)
        _write(tmp, MAIN_FILE, text)
        includes = [tmp.encode(), _WELL_KNOWN_DIR.encode()]
        args = [b"protoc", b"-I" + includes[0], b"-I" + includes[1]]
        if descriptor_inputs:
            inputs = descriptor_pb2.FileDescriptorSet(file=descriptor_inputs)
            inputs_path = os.path.join(tmp, "__references.pb")
            with open(inputs_path, "wb") as f:
                f.write(inputs.SerializeToString())
            args.append(b"--descriptor_set_in=" + inputs_path.encode())
        out = os.path.join(tmp, "__out.pb")
        args += [b"--include_imports", b"--descriptor_set_out=" + out.encode(), MAIN_FILE.encode()]
        with _protoc_lock:
            if not descriptor_inputs:
                _errors_of(MAIN_FILE, includes)
            code = _protoc_compiler.run_main(args)
        if code != 0:
            raise SchemaParseError("protoc could not compile the schema or its references")
        with open(out, "rb") as f:
            result = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    files = {file.name: file for file in result.file}
    main = files.pop(MAIN_FILE)
    return main, files


def _errors_of(name: str, includes: list[bytes]) -> None:
    """protoc's structured errors for ``name`` (it prints nothing), raised as SchemaParseError."""
    try:
        _protoc_compiler.get_protos(name.encode(), includes)
    except _protoc_compiler.ProtocErrors as exc:
        messages = [
            f"{e.filename.decode()}:{e.line + 1}:{e.column + 1}: {e.message.decode()}" for e in exc.errors()
        ]
        raise SchemaParseError("; ".join(messages) or "protoc failed") from exc


def _write(root: str, name: str, text: str) -> None:
    path = os.path.normpath(os.path.join(root, name))
    if not path.startswith(root + os.sep) or name.startswith("/"):
        raise SchemaParseError(f"reference name {name!r} is not a relative import path")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _check_descriptor(
    file: descriptor_pb2.FileDescriptorProto, references: Sequence[tuple[str, str]]
) -> tuple[descriptor_pb2.FileDescriptorProto, dict[str, descriptor_pb2.FileDescriptorProto]]:
    deps: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    for name, ref_text in references:
        ref = as_descriptor(ref_text)
        if ref is None:
            ref, ref_deps = _compile(ref_text, ())
            deps.update(ref_deps)
        ref.name = name
        deps[name] = ref
    _pool(file, deps)
    return file, deps


def _pool(
    file: descriptor_pb2.FileDescriptorProto, deps: dict[str, descriptor_pb2.FileDescriptorProto]
) -> descriptor_pool.DescriptorPool:
    """A private pool holding ``file`` and its imports (SchemaParseError if they do not build)."""
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(proto: descriptor_pb2.FileDescriptorProto) -> None:
        if proto.name in added:
            return
        for dependency in proto.dependency:
            if dependency in deps:
                add(deps[dependency])
            elif dependency.startswith("google/protobuf/") or dependency in _CONFLUENT_KNOWN:
                add(well_known(dependency))
            else:
                raise SchemaParseError(f"import {dependency!r} has no reference")
        pool.Add(proto)
        added.add(proto.name)

    try:
        add(file)
        pool.FindFileByName(file.name)
    except (TypeError, KeyError, ValueError) as exc:
        raise SchemaParseError(f"invalid descriptor: {exc}") from exc
    return pool


def _with_imports(name: str, out: list[descriptor_pb2.FileDescriptorProto]) -> None:
    """A well-known file and what it imports, as descriptor inputs for protoc (once each)."""
    if any(f.name == name for f in out):
        return
    proto = well_known(name)
    for dependency in proto.dependency:
        _with_imports(dependency, out)
    out.append(proto)


def well_known(name: str) -> descriptor_pb2.FileDescriptorProto:
    for module in _WELL_KNOWN_MODULES:
        importlib.import_module(f"google.protobuf.{module}")
    if name in _CONFLUENT_KNOWN:
        importlib.import_module(_CONFLUENT_KNOWN[name])
    try:
        found = descriptor_pool.Default().FindFileByName(name)
    except KeyError as exc:
        raise SchemaParseError(f"unknown well-known import {name!r}") from exc
    proto = descriptor_pb2.FileDescriptorProto()
    found.CopyToProto(proto)
    return proto


def _identity(file: descriptor_pb2.FileDescriptorProto, normalize: bool) -> str:
    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(file)
    copy.ClearField("source_code_info")
    copy.ClearField("name")
    if copy.syntax == "proto2":  # protoc leaves proto2's syntax unset
        copy.ClearField("syntax")
    for message in copy.message_type:
        _clean_message(message, normalize)
    return base64.standard_b64encode(copy.SerializeToString(deterministic=True)).decode()


def _clean_message(message: descriptor_pb2.DescriptorProto, normalize: bool) -> None:
    for field in message.field:
        field.ClearField("json_name")
    if normalize:
        fields = sorted(message.field, key=lambda f: f.number)
        del message.field[:]
        message.field.extend(fields)
        ranges = sorted(message.reserved_range, key=lambda r: r.start)
        del message.reserved_range[:]
        message.reserved_range.extend(ranges)
        names = sorted(message.reserved_name)
        del message.reserved_name[:]
        message.reserved_name.extend(names)
    for nested in message.nested_type:
        _clean_message(nested, normalize)
