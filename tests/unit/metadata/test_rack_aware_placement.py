"""Rack-aware placement: every partition spans min(RF, racks) racks, leaders stay spread evenly."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.placement import PlacementError, place_new_topic, place_rack_aware
from odradek.metadata.records import RegisterBrokerRecord
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId


@given(
    rack_of=st.lists(st.sampled_from("abcd"), min_size=1, max_size=9),
    partitions=st.integers(1, 40),
    rf=st.integers(1, 4),
    start=st.integers(0, 20),
    shift=st.integers(0, 20),
)
def test_replicas_span_racks_and_leaders_are_even(
    rack_of: list[str], partitions: int, rf: int, start: int, shift: int
) -> None:
    racks = {i + 1: r for i, r in enumerate(rack_of)}
    if rf > len(racks):
        with pytest.raises(PlacementError):
            place_rack_aware(racks, partitions, rf, start_index=start, shift=shift)
        return
    placed = place_rack_aware(racks, partitions, rf, start_index=start, shift=shift)
    rack_count = len(set(rack_of))
    for replicas in placed:
        assert len(replicas) == rf == len(set(replicas))
        assert len({racks[r] for r in replicas}) == min(rf, rack_count)
    leaders = Counter(r[0] for r in placed)
    if partitions >= len(racks):
        assert max(leaders.values()) - min(leaders[b] for b in racks) <= 1


def image(*brokers: tuple[int, str | None]) -> ClusterImage:
    return replay(
        ClusterImage.EMPTY, [RegisterBrokerRecord(BrokerId(b), "h", 9000 + b, rack) for b, rack in brokers]
    )


def test_new_topics_use_racks_when_every_broker_has_one() -> None:
    cluster = image((1, "a"), (2, "a"), (3, "b"), (4, "b"))
    for replicas in place_new_topic(cluster, 12, 2, random.Random(1)):
        assert {1, 2} & set(replicas) and {3, 4} & set(replicas)


def test_a_replication_factor_above_the_live_brokers_is_refused() -> None:
    with pytest.raises(PlacementError) as e:
        place_new_topic(image((1, "a"), (2, "b")), 3, 3, random.Random(1))
    assert e.value.error_code == ErrorCode.INVALID_REPLICATION_FACTOR
    assert "only 2 broker(s) are registered" in e.value.message
