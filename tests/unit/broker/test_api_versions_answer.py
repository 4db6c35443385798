"""ApiVersions' ordinary answer is encoded once per version and throttle time and its bytes reused;
anything else (an error, a throttle, another API list) is encoded afresh, with the same bytes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest

from odradek.broker.context import RequestContext
from odradek.broker.dispatcher import Dispatcher
from odradek.broker.handlers import ENTRIES
from odradek.broker.handlers import api_versions as handler
from odradek.model.errors import ErrorCode
from odradek.protocol import codec
from odradek.protocol.messages import api_versions as msg

REQUEST = msg.ApiVersionsRequest(client_software_name="tests", client_software_version="1.0")


def answer(
    dispatcher: Dispatcher, version: int, request: msg.ApiVersionsRequest = REQUEST
) -> msg.ApiVersionsResponse:
    node = SimpleNamespace(api_versions=dispatcher.api_versions)
    ctx = SimpleNamespace(api_version=version, ports=SimpleNamespace(node=node))
    return handler.handle(cast(RequestContext, ctx), request)


def fresh(response: msg.ApiVersionsResponse, version: int) -> bytes:
    return codec.encode_bytes(msg.RESPONSE, version, response)


@pytest.mark.parametrize("version", range(5))
def test_the_ordinary_answer_is_encoded_once_with_the_same_bytes(version: int) -> None:
    dispatcher = Dispatcher(ENTRIES, ports=None)  # type: ignore[arg-type]
    first, second = answer(dispatcher, version), answer(dispatcher, version)
    body = handler.encode(first, version)
    assert codec.joined(body) == fresh(first, version)
    assert handler.encode(second, version) is body
    decoded, _end = codec.decode(msg.RESPONSE, version, codec.joined(body), 0)
    assert [k.api_key for k in decoded.api_keys] == sorted(int(e.key) for e in ENTRIES)
    if version >= 3:
        assert [f.name for f in decoded.finalized_features] == ["group.version"]


def test_a_throttled_an_erroneous_or_another_brokers_answer_is_encoded_afresh() -> None:
    dispatcher = Dispatcher(ENTRIES, ports=None)  # type: ignore[arg-type]
    ordinary = handler.encode(answer(dispatcher, 3), 3)

    throttled = answer(dispatcher, 3)
    throttled.throttle_time_ms = 250
    assert codec.joined(handler.encode(throttled, 3)) == fresh(throttled, 3) != codec.joined(ordinary)

    bad = answer(
        dispatcher, 3, msg.ApiVersionsRequest(client_software_name="-x", client_software_version="1")
    )
    assert bad.error_code == ErrorCode.INVALID_REQUEST
    assert codec.joined(handler.encode(bad, 3)) == fresh(bad, 3)

    other = Dispatcher([e for e in ENTRIES if e.module != "metadata"], ports=None)  # type: ignore[arg-type]
    smaller = answer(other, 3)
    assert codec.joined(handler.encode(smaller, 3)) == fresh(smaller, 3) != codec.joined(ordinary)
    assert handler.encode(answer(dispatcher, 3), 3) is not ordinary  # re-encoded after the other list
    assert codec.joined(handler.encode(answer(dispatcher, 3), 3)) == codec.joined(ordinary)
