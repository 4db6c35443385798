"""Null is accepted only where a schema says nullable; array elements never are (Kafka has no
nullable array elements: nullableVersions applies to the array itself)."""

from __future__ import annotations

import pytest

from odradek.protocol import codec
from odradek.protocol.messages import delete_topics, describe_configs
from odradek.protocol.primitives import ProtocolError


def test_null_string_element_in_an_array_is_rejected() -> None:
    # DeleteTopics v1: topic_names []string (int32 count, int16 lengths), timeout_ms int32
    raw = bytes.fromhex("00000002000161ffff00007530")
    with pytest.raises(ProtocolError, match="topic_names"):
        codec.decode(delete_topics.REQUEST, 1, raw)


def test_null_compact_string_element_in_an_array_is_rejected() -> None:
    # DeleteTopics v4: compact array, compact strings (0 = null), timeout_ms, tags
    raw = bytes.fromhex("030261000000753000")
    with pytest.raises(ProtocolError, match="topic_names"):
        codec.decode(delete_topics.REQUEST, 4, raw)


def test_a_nullable_string_array_may_still_be_null() -> None:
    # DescribeConfigs v1: resources[] of (type int8, name string, configuration_keys []string nullable)
    raw = bytes.fromhex("0000000102000174ffffffff00")
    obj, pos = codec.decode(describe_configs.REQUEST, 1, raw)
    assert pos == len(raw)
    assert obj.resources[0].configuration_keys is None


def test_writing_a_null_array_element_is_refused() -> None:
    with pytest.raises(ValueError, match="topic_names"):
        codec.encode_bytes(
            delete_topics.REQUEST, 1, delete_topics.DeleteTopicsRequest(topic_names=["a", None])
        )
