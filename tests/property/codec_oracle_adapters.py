"""Adapters over the two oracle encoders: kio 0.6.5 and kafka-python 3.0.12 (dev dependencies).

Each adapter decodes bytes into the oracle's own object, re-encodes that object, and turns it into a
plain tree (lists of field values in schema order; ints, strings, bytes, UUIDs, floats, None) so the
values can be compared with ours whatever the oracle names its fields or types its values.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import importlib
import io
import pkgutil
import re
import typing
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

from codec_strategies import Override
from hypothesis import strategies as st

from odradek.model.topic_partition import ZERO_UUID
from odradek.protocol.schema import FieldSchema, MessageSchema, StructSchema, in_range

# --- our side --------------------------------------------------------------------------------


def ours_plain(struct: StructSchema, version: int, obj: Any) -> list[Any]:
    """The values of the fields present in `version`, in schema order, as a plain tree."""
    out = []
    for f in struct.fields:
        if in_range(f.versions, version):
            out.append(_ours_value(f, version, getattr(obj, f.attr)))
    return out


def _ours_value(f: FieldSchema, version: int, value: Any) -> Any:
    if value is None:
        return None
    if f.array:
        return [_ours_elem(f, version, v) for v in value]
    return _ours_elem(f, version, value)


def _ours_elem(f: FieldSchema, version: int, value: Any) -> Any:
    if f.type == "struct":
        assert f.struct is not None
        return ours_plain(f.struct, version, value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return value


# --- kio -------------------------------------------------------------------------------------

_MS = datetime.timedelta(milliseconds=1)
TIMEDELTA_MS = (-(2**53 // 1000), 2**53 // 1000)
"""The int64 milliseconds kio round-trips through a `datetime.timedelta`: it reads them as an int64
count of microseconds and writes them back through a float, exact below 2**53 microseconds."""
DATETIME_MS = (0, 253402300799999)
"""The int64 epoch milliseconds kio can turn into an aware `datetime` (1970 .. 9999-12-31)."""
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def kio_class(schema: MessageSchema, version: int) -> type[Any]:
    from kio.index import load_request_schema, load_response_schema

    if schema.kind == "request":
        return load_request_schema(schema.api_key, version)
    if schema.kind == "response":
        return load_response_schema(schema.api_key, version)
    # kio.schema.request_header.v2.header.RequestHeader, ...consumer_protocol_assignment.v3.data...
    module = re.sub(r"(?<!^)(?=[A-Z])", "_", schema.name).lower()
    name = "header" if schema.kind == "header" else "data"
    return getattr(importlib.import_module(f"kio.schema.{module}.v{version}.{name}"), schema.name)  # type: ignore[no-any-return]


def _kio_entity(annotation: Any) -> type[Any] | None:
    """The nested dataclass of a struct (or array of structs) field annotation."""
    todo = [annotation]
    while todo:
        t = todo.pop()
        if dataclasses.is_dataclass(t):
            return t  # type: ignore[return-value]
        todo.extend(typing.get_args(t))
    return None


def _kio_pairs(struct: StructSchema, cls: type[Any], version: int) -> Iterator[tuple[FieldSchema, Any, Any]]:
    """(our field, kio field, kio annotation) for the fields present in `version`, in order."""
    ours = [f for f in struct.fields if in_range(f.versions, version)]
    theirs = dataclasses.fields(cls)
    if len(ours) != len(theirs):
        raise AssertionError(f"{struct.name} v{version}: {len(ours)} fields here, {len(theirs)} in kio")
    hints = typing.get_type_hints(cls)
    for f, k in zip(ours, theirs, strict=True):
        yield f, k, hints[k.name]


def kio_override(schema: MessageSchema, version: int) -> Override:
    """Narrow the fields kio maps onto richer Python types to the values those types can hold."""
    from kio.schema.errors import ErrorCode

    narrowed: dict[tuple[int, str], st.SearchStrategy[Any]] = {}
    codes = st.sampled_from(sorted(int(c) for c in ErrorCode))

    def walk(struct: StructSchema, cls: type[Any]) -> None:
        for f, k, annotation in _kio_pairs(struct, cls, version):
            kind = k.metadata.get("kafka_type")
            optional = type(None) in typing.get_args(annotation)
            if kind == "error_code":
                narrowed[(id(struct), f.attr)] = codes
            elif kind == "timedelta_i64":
                narrowed[(id(struct), f.attr)] = st.integers(*TIMEDELTA_MS)
            elif kind == "datetime_i64":
                when = st.integers(*DATETIME_MS)
                narrowed[(id(struct), f.attr)] = st.one_of(st.just(-1), when) if optional else when
            if f.struct is not None:
                entity = _kio_entity(annotation)
                assert entity is not None, f"{struct.name}.{f.attr}: no kio entity"
                walk(f.struct, entity)

    walk(schema.root, kio_class(schema, version))

    def override(struct: StructSchema, f: FieldSchema) -> st.SearchStrategy[Any] | None:
        return narrowed.get((id(struct), f.attr))

    return override


def kio_roundtrip(schema: MessageSchema, version: int, raw: bytes) -> tuple[Any, int, bytes]:
    """kio's object for `raw`, the bytes it consumed, and its re-encoding of that object."""
    from kio.serial import entity_reader, entity_writer

    cls = kio_class(schema, version)
    obj, size = entity_reader(cls)(memoryview(raw), 0)
    out = io.BytesIO()
    entity_writer(cls)(out, obj)
    return obj, size, out.getvalue()


def kio_plain(obj: Any) -> Any:
    """A kio entity as a plain tree comparable with `ours_plain` (kio's richer types undone)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [_kio_value(f, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
    raise TypeError(obj)


def _kio_value(f: dataclasses.Field[Any], value: Any) -> Any:
    kind = f.metadata.get("kafka_type")
    if value is None:
        # kio reads the all-zero UUID as None and an Optional datetime's -1 as None
        return {"datetime_i64": -1, "uuid": ZERO_UUID}.get(kind or "")
    if isinstance(value, tuple):
        return [_kio_scalar(kind, v) for v in value]
    return _kio_scalar(kind, value)


def _kio_scalar(kind: str | None, value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return kio_plain(value)
    if isinstance(value, datetime.timedelta):
        return value // _MS
    if isinstance(value, datetime.datetime):
        # kio builds the datetime through a float, so round to the nearest millisecond
        micros = (value - _EPOCH) // datetime.timedelta(microseconds=1)
        return (micros + 500) // 1000
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, bool | str | float | uuid.UUID):
        return value
    if isinstance(value, int):
        return int(value)
    raise TypeError(f"unexpected kio value {value!r} ({kind})")


# --- kafka-python ------------------------------------------------------------------------------

_kp_registry: dict[tuple[int, str], Any] | None = None


def _subclasses(cls: type[Any]) -> Iterator[type[Any]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def kp_class(schema: MessageSchema) -> Any:
    """kafka-python's primary message class for `schema` (None when it has none)."""
    global _kp_registry
    if _kp_registry is None:
        with warnings.catch_warnings():
            # kafka-python loads its JSON specs with the deprecated importlib.resources.read_text
            warnings.simplefilter("ignore", DeprecationWarning)
            import kafka.protocol as kp
            from kafka.protocol.api_message import ApiMessage

            for mod in pkgutil.walk_packages(kp.__path__, "kafka.protocol."):
                if ".old" not in mod.name:
                    importlib.import_module(mod.name)
        _kp_registry = {(c.API_KEY, c.type): c for c in _subclasses(ApiMessage) if c._class_version is None}
    if schema.kind in ("request", "response"):
        return _kp_registry.get((schema.api_key, schema.kind))
    if schema.kind == "header":
        from kafka.protocol.api_header import RequestHeader, ResponseHeader

        return RequestHeader if schema.name == "RequestHeader" else ResponseHeader
    from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment, ConsumerProtocolSubscription

    return {
        "ConsumerProtocolSubscription": ConsumerProtocolSubscription,
        "ConsumerProtocolAssignment": ConsumerProtocolAssignment,
    }.get(schema.name)


def kp_roundtrip(schema: MessageSchema, version: int, raw: bytes) -> tuple[Any, int, bytes]:
    """kafka-python's object for `raw`, the bytes it consumed, and its re-encoding.

    API messages go through kafka-python's generic JSON-driven codec (`ApiMessage.decode/encode`),
    not the per-API overrides that rewrite messages for its client (ApiVersionsResponse decodes as
    v0 whenever error_code != 0; MetadataRequest v0 and DeleteTopicsRequest v0-5 rewrite fields).
    """
    from kafka.protocol.api_message import ApiMessage

    cls = kp_class(schema)
    if schema.kind in ("request", "response"):
        obj = ApiMessage.decode.__func__(cls, raw, version=version)  # type: ignore[attr-defined]
        obj._header = None  # decode bypasses __init__, which sets it
        again = bytes(ApiMessage.encode(obj, version=version))
        # ApiMessage.decode does not report the bytes it used; the re-encoding's length stands in,
        # and the byte comparison that follows checks it.
        return obj, len(again), again
    data = io.BytesIO(raw)
    flexible = schema.is_flexible(version)
    if schema.kind == "header":
        obj = cls.decode(data, flexible=flexible)
        return obj, data.tell(), bytes(obj.encode(flexible=flexible))
    obj = cls._struct.decode(data, version=version, compact=flexible, tagged=flexible, data_class=cls)
    return obj, data.tell(), bytes(obj.encode(version=version, header=False))


_KP_NONE = {"uuid": ZERO_UUID, "bitfield": -(2**31)}
"""kafka-python reads the all-zero UUID as None, and an authorized-operations bit field of -2**31
("not requested", bit 31 alone) as None."""


def kp_plain(obj: Any, version: int, struct: StructSchema) -> list[Any]:
    """kafka-python's object as a plain tree: its fields present in `version`, in order.

    `struct` (our schema of the same struct, walked in step) supplies the default of a tagged
    struct field kafka-python leaves as None when the tag is absent.
    """
    ours = [f for f in struct.fields if in_range(f.versions, version)]
    theirs = [f for f in obj._struct._fields if f.for_version_q(version)]
    if len(ours) != len(theirs):
        raise AssertionError(
            f"{struct.name} v{version}: {len(ours)} fields here, {len(theirs)} in kafka-python"
        )
    out = []
    for mine, f in zip(ours, theirs, strict=True):
        value = getattr(obj, f.name)
        if value is None and f.type_str in _KP_NONE:
            value = _KP_NONE[f.type_str]
        if value is None and f.is_struct() and mine.tag is not None and in_range(mine.tagged, version):
            assert mine.struct is not None
            out.append(ours_plain(mine.struct, version, mine.struct.cls()))
        elif f.is_struct_array() and value is not None:
            assert mine.struct is not None
            out.append([kp_plain(v, version, mine.struct) for v in value])
        elif f.is_struct() and value is not None:
            assert mine.struct is not None
            out.append(kp_plain(value, version, mine.struct))
        elif f.is_array() and value is not None:
            out.append([_kp_scalar(v) for v in value])
        else:
            out.append(_kp_scalar(value))
    return out


def _kp_scalar(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, set):
        # kafka-python reads authorized-operations int32 fields as a set of bit numbers
        bits = sum(1 << b for b in value)
        return bits - 2**32 if bits >= 2**31 else bits
    return value
