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
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import FeatureLevelRecord
from odradek.model.errors import ErrorCode
from odradek.protocol import codec
from odradek.protocol.messages import api_versions as msg

FEATURES = ["group.version", "eligible.leader.replicas.version"]
REQUEST = msg.ApiVersionsRequest(client_software_name="tests", client_software_version="1.0")


def answer(
    dispatcher: Dispatcher,
    version: int,
    request: msg.ApiVersionsRequest = REQUEST,
    image: ClusterImage = ClusterImage.EMPTY,
) -> msg.ApiVersionsResponse:
    node = SimpleNamespace(api_versions=dispatcher.api_versions)
    ports = SimpleNamespace(node=node, metadata=SimpleNamespace(image=image))
    ctx = SimpleNamespace(api_version=version, ports=ports)
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
        assert [f.name for f in decoded.finalized_features] == FEATURES
        assert [(f.max_version_level, f.min_version_level) for f in decoded.finalized_features] == [
            (1, 1)
        ] * 2
        assert [(f.min_version, f.max_version) for f in decoded.supported_features] == [(0, 1)] * 2


def test_the_finalized_features_are_the_clusters() -> None:
    """A cluster that set eligible.leader.replicas.version to 0 no longer lists it (Kafka leaves
    level-0 features out), and the cached answer follows the image."""
    dispatcher = Dispatcher(ENTRIES, ports=None)  # type: ignore[arg-type]
    ordinary = handler.encode(answer(dispatcher, 3), 3)
    off = replay(ClusterImage.EMPTY, [FeatureLevelRecord("eligible.leader.replicas.version", 0)])
    body = handler.encode(answer(dispatcher, 3, image=off), 3)
    decoded, _end = codec.decode(msg.RESPONSE, 3, codec.joined(body), 0)
    assert [f.name for f in decoded.finalized_features] == ["group.version"]
    assert codec.joined(handler.encode(answer(dispatcher, 3), 3)) == codec.joined(ordinary)


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
