"""Hypothesis strategies for generated protocol messages, driven by their schemas.

`messages(schema, version)` builds a random instance of the message class for that version: only the
fields that exist in `version` get random values (the others keep their defaults); null is drawn only
where the field is nullable in that version; tagged fields draw their default half of the time, so
both the "omitted" and the "written" paths of KIP-482 are exercised.

`cases()` lists every (schema, version) the codec knows: every API request and response of
`messages.index`, the request/response headers and every generated data schema.

An `Override` lets an oracle test narrow a field's domain (e.g. kio reads some int16 fields as an
enum of known error codes); it returns None to keep the default strategy.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from odradek.model.topic_partition import ZERO_UUID
from odradek.protocol import messages as generated
from odradek.protocol.messages import headers
from odradek.protocol.messages.index import REQUESTS, RESPONSES
from odradek.protocol.schema import FieldSchema, MessageSchema, StructSchema, in_range

Override = Callable[[StructSchema, FieldSchema], "st.SearchStrategy[Any] | None"]


@dataclass(frozen=True)
class Sizes:
    """Bounds that keep examples small (and tests fast)."""

    text: int = 6
    binary: int = 12
    arrays: tuple[int, ...] = (3, 2, 2)
    """Array size bound by nesting depth: deeper arrays stay smaller."""
    long: int = 130
    """Now and then (1 in 8) a string, bytes or array of primitives has this many characters, bytes
    or elements instead, so that lengths and counts above 127 (a 2-byte uvarint) are covered; 0 =
    never."""

    def array(self, depth: int) -> int:
        return self.arrays[min(depth, len(self.arrays) - 1)]


DEFAULT_SIZES = Sizes()
SMALL_SIZES = Sizes(text=3, binary=4, arrays=(2, 1), long=0)


def sometimes_long(short: st.SearchStrategy[Any], long: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.integers(0, 7).flatmap(lambda k: long if k == 7 else short)


INT_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
}

_uuids = st.one_of(st.just(ZERO_UUID), st.uuids(), st.builds(uuid.UUID, int=st.integers(0, 2**128 - 1)))


def primitive(type_: str, sizes: Sizes = DEFAULT_SIZES) -> st.SearchStrategy[Any]:
    if type_ in INT_RANGES:
        lo, hi = INT_RANGES[type_]
        return st.integers(lo, hi)
    if type_ == "bool":
        return st.booleans()
    if type_ == "float64":
        # NaN != NaN would make equality checks meaningless; infinities and -0.0 stay in.
        return st.floats(allow_nan=False)
    if type_ == "string":
        text = st.text(max_size=sizes.text)
        return sometimes_long(text, st.text(min_size=sizes.long, max_size=sizes.long)) if sizes.long else text
    if type_ in ("bytes", "records"):
        raw = st.binary(max_size=sizes.binary)
        return sometimes_long(raw, st.binary(min_size=sizes.long, max_size=sizes.long)) if sizes.long else raw
    if type_ == "uuid":
        return _uuids
    raise ValueError(f"no strategy for primitive type {type_}")


def _no_override(_struct: StructSchema, _field: FieldSchema) -> None:
    return None


_cache: dict[tuple[int, int, bool, int, int, Sizes], st.SearchStrategy[Any]] = {}
_keep: list[Override] = []
"""Overrides seen so far, kept alive so that their id() in a cache key is never reused."""


def struct_strategy(
    struct: StructSchema,
    version: int,
    flexible: bool,
    depth: int = 0,
    override: Override = _no_override,
    sizes: Sizes = DEFAULT_SIZES,
) -> st.SearchStrategy[Any]:
    key = (id(struct), version, flexible, depth, id(override), sizes)
    hit = _cache.get(key)
    if hit is None:
        _keep.append(override)
        hit = _build_struct(struct, version, flexible, depth, override, sizes)
        _cache[key] = hit
    return hit


def _build_struct(
    struct: StructSchema, version: int, flexible: bool, depth: int, override: Override, sizes: Sizes
) -> st.SearchStrategy[Any]:
    defaults = struct.cls()
    kwargs: dict[str, st.SearchStrategy[Any]] = {}
    for f in struct.fields:
        if not in_range(f.versions, version):
            continue
        strategy = field_strategy(struct, f, version, flexible, depth, override, sizes)
        if flexible and f.tag is not None and in_range(f.tagged, version):
            default = getattr(defaults, f.attr)
            strategy = st.one_of(st.just(default), strategy)
        kwargs[f.attr] = strategy
    return st.builds(struct.cls, **kwargs)


def field_strategy(
    struct: StructSchema,
    f: FieldSchema,
    version: int,
    flexible: bool,
    depth: int,
    override: Override,
    sizes: Sizes,
) -> st.SearchStrategy[Any]:
    if f.type == "struct":
        assert f.struct is not None
        elem = struct_strategy(f.struct, version, flexible, depth + 1, override, sizes)
    else:
        narrowed = override(struct, f)
        elem = primitive(f.type, sizes) if narrowed is None else narrowed
    value: st.SearchStrategy[Any] = elem
    if f.array:
        value = st.lists(elem, max_size=sizes.array(depth))
        if sizes.long and f.type != "struct":
            value = sometimes_long(value, st.lists(elem, min_size=sizes.long, max_size=sizes.long))
    if in_range(f.nullable, version):
        value = st.one_of(st.none(), value)
    return value


def messages(
    schema: MessageSchema, version: int, override: Override = _no_override, sizes: Sizes = DEFAULT_SIZES
) -> st.SearchStrategy[Any]:
    """Random instances of `schema`'s root class, valid for `version`."""
    return struct_strategy(schema.root, version, schema.is_flexible(version), 0, override, sizes)


def versions(schema: MessageSchema) -> range:
    assert schema.valid is not None
    return range(schema.valid[0], schema.valid[1] + 1)


def data_schemas() -> list[MessageSchema]:
    """Every generated "data" schema (consumer protocol, internal topic records...), by module."""
    out = []
    for module in sorted(m.name for m in pkgutil.iter_modules(generated.__path__)):
        schema = getattr(importlib.import_module(f"{generated.__name__}.{module}"), "SCHEMA", None)
        if isinstance(schema, MessageSchema):
            out.append(schema)
    return out


def all_schemas() -> list[MessageSchema]:
    apis = [s for key in sorted(REQUESTS) for s in (REQUESTS[key], RESPONSES[key])]
    return [*apis, headers.REQUEST_HEADER, headers.RESPONSE_HEADER, *data_schemas()]


def cases() -> list[tuple[MessageSchema, int]]:
    """Every (schema, version) pair the codec supports."""
    return [(s, v) for s in all_schemas() for v in versions(s)]


def case_id(case: tuple[MessageSchema, int]) -> str:
    schema, version = case
    return f"{schema.name}-v{version}"


def has_records(struct: StructSchema, version: int) -> bool:
    return any(
        in_range(f.versions, version)
        and (f.type == "records" or (f.struct is not None and has_records(f.struct, version)))
        for f in struct.fields
    )


def chunk_records(struct: StructSchema, version: int, obj: Any, cut: Callable[[bytes], list[bytes]]) -> Any:
    """A copy of `obj` whose records fields are lists of chunks."""
    changes = {}
    for f in struct.fields:
        if not in_range(f.versions, version):
            continue
        value = getattr(obj, f.attr)
        if value is None:
            continue
        if f.type == "records":
            changes[f.attr] = cut(value)
        elif f.struct is not None and f.array:
            changes[f.attr] = [chunk_records(f.struct, version, v, cut) for v in value]
        elif f.struct is not None:
            changes[f.attr] = chunk_records(f.struct, version, value, cut)
    return dataclasses.replace(obj, **changes)
