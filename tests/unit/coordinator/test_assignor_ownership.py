"""Which claims on partitions count before a sticky rebalance."""

from __future__ import annotations

import pytest
from assignor_layouts import tps

from odradek.coordinator.group.assignors.group_view import GroupView
from odradek.coordinator.group.assignors.ownership import resolve_owners
from odradek.coordinator.group.assignors.types import MemberSubscription as M
from odradek.model.topic_partition import TopicPartition


def view() -> GroupView:
    members = [
        M("A", ("t0",), tuple(tps("t0-0 t0-1 t0-5")), generation=3),  # t0-5 does not exist
        M("B", ("t0",), tuple(tps("t0-0 t0-2 t1-0")), generation=2),  # B does not subscribe to t1
        M("C", ("t0", "t1"), tuple(tps("t0-1")), generation=3),
    ]
    return GroupView.of(members, {"t0": 3, "t1": 1})


def test_highest_generation_wins_and_ties_count_for_nobody() -> None:
    assert resolve_owners(view()) == {TopicPartition("t0", 0): "A", TopicPartition("t0", 2): "B"}


def test_without_generations_every_shared_claim_is_void() -> None:
    assert resolve_owners(view(), use_generations=False) == {TopicPartition("t0", 2): "B"}


def test_duplicate_member_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="member 'A' appears twice"):
        GroupView.of([M("A", ("t",)), M("A", ("u",))], {"t": 1})
