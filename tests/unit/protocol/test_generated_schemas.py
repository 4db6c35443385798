"""Invariants of the generated message schemas that the codec relies on."""

from __future__ import annotations

from odradek.protocol.messages import headers
from odradek.protocol.messages.index import REQUESTS, RESPONSES
from odradek.protocol.schema import StructSchema, in_range


def test_both_header_schemas_are_reachable() -> None:
    assert headers.REQUEST_HEADER.name == "RequestHeader"
    assert headers.REQUEST_HEADER.root.cls is headers.RequestHeader
    assert headers.REQUEST_HEADER.valid == (1, 2)
    assert headers.REQUEST_HEADER.flexible == (2, 0x7FFF)
    assert headers.RESPONSE_HEADER.name == "ResponseHeader"
    assert headers.RESPONSE_HEADER.root.cls is headers.ResponseHeader
    assert headers.RESPONSE_HEADER.valid == (0, 1)


def test_index_maps_each_api_key_to_its_own_request_and_response() -> None:
    assert REQUESTS.keys() == RESPONSES.keys()
    for key, schema in REQUESTS.items():
        assert (schema.api_key, schema.kind) == (key, "request")
        assert (RESPONSES[key].api_key, RESPONSES[key].kind) == (key, "response")


_FIXED_WIDTH = {"bool": 1, "int8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4, "int64": 8}
_FIXED_WIDTH |= {"float64": 8, "uuid": 16}


def _min_width(struct: StructSchema, version: int, flexible: bool) -> int:
    """The fewest bytes an encoding of `struct` at `version` can take."""
    width = 1 if flexible else 0  # the tag section count
    for f in struct.fields:
        if not in_range(f.versions, version) or (
            flexible and f.tag is not None and in_range(f.tagged, version)
        ):
            continue
        compact = flexible if isinstance(f.flexible, bool) else in_range(f.flexible, version)
        if f.array:
            width += 1 if compact else 4
        elif f.struct is not None:
            width += 1 if in_range(f.nullable, version) else _min_width(f.struct, version, flexible)
        elif f.type in _FIXED_WIDTH:
            width += _FIXED_WIDTH[f.type]
        else:  # string, bytes, records
            width += 1 if compact else (2 if f.type == "string" else 4)
    return width


def _array_elements(struct: StructSchema, version: int) -> list[tuple[str, StructSchema]]:
    out = []
    for f in struct.fields:
        if in_range(f.versions, version) and f.struct is not None:
            if f.array:
                out.append((f"{struct.name}.{f.attr}", f.struct))
            out += _array_elements(f.struct, version)
    return out


def test_no_array_element_can_be_zero_bytes_wide() -> None:
    """The codec bounds an array's count by the bytes left, which bounds what a hostile count can
    make it build only if each element takes at least one byte. Primitive elements always do; a
    struct element could be empty in a non-flexible version whose fields all came later."""
    cases = [
        (s, v) for s in (*REQUESTS.values(), *RESPONSES.values()) for v in range(s.valid[0], s.valid[1] + 1)
    ]
    assert len(cases) == 484
    assert _min_width(REQUESTS[18].root, 0, False) == 0  # ApiVersions v0 request: an empty body exists
    assert _min_width(REQUESTS[18].root, 3, True) == 3  # v3: two compact strings and the tags
    empty = [
        f"{name} v{version}"
        for schema, version in cases
        for name, elem in _array_elements(schema.root, version)
        if _min_width(elem, version, schema.is_flexible(version)) == 0
    ]
    assert empty == []
