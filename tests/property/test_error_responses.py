"""Every API answers a failed request in its own response shape (UNKNOWN_SERVER_ERROR), at every version.

For random requests of each served API and version: the error response encodes and decodes, carries
the error at the top level when the version has a top-level error code, and otherwise on every item
the request named (mirrored with its identifying fields). Produce with acks=0 has no answer.
"""

from __future__ import annotations

from typing import Any

import pytest
from codec_settings import budget
from codec_strategies import SMALL_SIZES, messages
from hypothesis import given
from hypothesis import strategies as st

from odradek.broker.api import ApiSpec
from odradek.broker.error_response import MIRRORS, error_response
from odradek.broker.handlers import all_specs
from odradek.model.errors import ErrorCode
from odradek.protocol import codec
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.schema import StructSchema, in_range

E = ErrorCode.UNKNOWN_SERVER_ERROR
CASES = [(spec, v) for spec in all_specs() for v in range(spec.min_version, spec.max_version + 1)]
ERROR_FIELDS = ("error_code", "partition_error_code")


def errors_in(struct: StructSchema, obj: Any, version: int) -> list[int]:
    """Every error code of `version` in a decoded response tree."""
    found: list[int] = []
    for f in struct.fields:
        if not in_range(f.versions, version):
            continue
        value = getattr(obj, f.attr)
        if f.attr in ERROR_FIELDS:
            found.append(value)
        elif f.struct is not None:
            for item in value if f.array else [value]:
                if item is not None:
                    found += errors_in(f.struct, item, version)
    return found


def leaves(obj: Any, path: list[str]) -> int:
    if not path:
        return 1
    items = getattr(obj, path[0], None) or []
    return sum(leaves(item, path[1:]) if not isinstance(item, str | int) else 1 for item in items)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].key.name}-v{c[1]}")
@budget(3)
@given(data=st.data())
def test_error_response_in_the_api_shape(case: tuple[ApiSpec, int], data: Any) -> None:
    spec, version = case
    request = data.draw(messages(spec.request, version, sizes=SMALL_SIZES))
    response = error_response(spec.key, spec.request, spec.response, version, request, E)
    if spec.key == ApiKey.PRODUCE and request.acks == 0:
        assert response is None
        return
    chunks = spec.encode(response, version) if spec.encode else codec.encode(spec.response, version, response)
    decoded, end = codec.decode(spec.response, version, b"".join(bytes(c) for c in chunks))
    assert end == sum(len(c) for c in chunks)
    errors = errors_in(spec.response.root, decoded, version)
    assert all(e == E for e in errors), errors
    requested: dict[tuple[str, ...], int] = {}  # mirrors may feed one response array (deletions + upsertions)
    for mirror in MIRRORS.get(spec.key, ()):
        first = mirror.levels[0].request
        if any(f.attr == first and in_range(f.versions, version) for f in spec.request.root.fields):
            target = tuple(level.response for level in mirror.levels)
            requested[target] = requested.get(target, 0) + leaves(
                request, [level.request for level in mirror.levels]
            )
    for target, count in requested.items():
        assert leaves(decoded, list(target)) == count
