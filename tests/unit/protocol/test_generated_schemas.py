"""Invariants of the generated message schemas that the codec relies on."""

from __future__ import annotations

from odradek.protocol.messages import headers
from odradek.protocol.messages.index import REQUESTS, RESPONSES


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
