"""range (classic, rack-aware), roundrobin and the server-side range against closed formulas."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from assignor_strategies import all_partitions, groups, member_ids, min_moves_identical, moves
from hypothesis import given, settings
from hypothesis import strategies as st

from odradek.coordinator.group.assignors import range as classic_range
from odradek.coordinator.group.assignors import round_robin, server_range
from odradek.coordinator.group.assignors.types import Assignment, MemberSubscription
from odradek.model.topic_partition import TopicPartition


def kafka_order(members: list[MemberSubscription]) -> list[MemberSubscription]:
    static = sorted((m for m in members if m.instance_id is not None), key=lambda m: m.instance_id or "")
    dynamic = sorted((m for m in members if m.instance_id is None), key=lambda m: m.member_id)
    return static + dynamic


def plain_ranges(members: list[MemberSubscription], counts: dict[str, int]) -> Assignment:
    result: Assignment = {m.member_id: [] for m in members}
    for topic, n in counts.items():
        subscribers = [m.member_id for m in kafka_order(members) if topic in m.topics]
        if not subscribers:
            continue
        quota, extras = divmod(n, len(subscribers))
        start = 0
        for i, member in enumerate(subscribers):
            length = quota + (1 if i < extras else 0)
            result[member] += [TopicPartition(topic, p) for p in range(start, start + length)]
            start += length
    return {m: sorted(p) for m, p in result.items()}


def numbers_by_topic(result: Assignment) -> dict[str, dict[str, list[int]]]:
    """topic -> member -> partition numbers"""
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for member, partitions in result.items():
        for tp in partitions:
            table[tp.topic][member].append(tp.partition)
    return table


def check_range_counts_and_co_partitioning(
    result: Assignment, members: list[MemberSubscription], counts: dict[str, int]
) -> None:
    table = numbers_by_topic(result)
    seen: dict[tuple[frozenset[str], int], dict[str, list[int]]] = {}
    for topic, n in counts.items():
        subscribers = frozenset(m.member_id for m in members if topic in m.topics)
        if not subscribers:
            continue
        quota, extras = divmod(n, len(subscribers))
        sizes = sorted(len(table[topic].get(m, [])) for m in subscribers)
        assert sizes == [quota] * (len(subscribers) - extras) + [quota + 1] * extras
        numbers = {m: sorted(table[topic].get(m, [])) for m in subscribers}
        assert seen.setdefault((subscribers, n), numbers) == numbers


@settings(max_examples=100, deadline=None)
@given(group=groups(claims="any"))
def test_classic_range_is_kafkas_ranges(group) -> None:
    members, counts = group
    assert classic_range.assign(members, counts) == plain_ranges(members, counts)


@st.composite
def racked(draw: st.DrawFn):
    members, counts = draw(groups(claims="none"))
    members = [replace(m, rack=draw(st.sampled_from([None, "", "a", "b", "c"]))) for m in members]
    rack_sets = st.frozensets(st.sampled_from("abcd"), max_size=3)
    racks = {tp: draw(rack_sets) for tp in all_partitions(counts)}
    return members, counts, racks


@settings(max_examples=150, deadline=None)
@given(case=racked())
def test_rack_aware_range_keeps_counts_and_co_partitioning(case) -> None:
    members, counts, racks = case
    check_range_counts_and_co_partitioning(classic_range.assign(members, counts, racks), members, counts)


@settings(max_examples=60, deadline=None)
@given(case=racked())
def test_range_ignores_racks_every_partition_has(case) -> None:
    members, counts, _ = case
    everywhere = {tp: frozenset("abc") for tp in all_partitions(counts)}
    assert classic_range.assign(members, counts, everywhere) == plain_ranges(members, counts)


@settings(max_examples=100, deadline=None)
@given(group=groups(homogeneous=True, claims="none"))
def test_round_robin_deals_in_member_order(group) -> None:
    members, counts = group
    order = [m.member_id for m in kafka_order(members)]
    subscribed = [tp for tp in all_partitions(counts) if tp.topic in members[0].topics]
    expected: Assignment = {m: [] for m in order}
    for i, tp in enumerate(subscribed):
        expected[order[i % len(order)]].append(tp)
    assert round_robin.assign(members, counts) == {m: sorted(p) for m, p in expected.items()}


@settings(max_examples=100, deadline=None)
@given(group=groups(claims="none"))
def test_server_range_of_a_new_group_is_the_classic_range(group) -> None:
    members, counts = group
    assert server_range.assign(members, counts) == plain_ranges(members, counts)


@settings(max_examples=100, deadline=None)
@given(group=groups(claims="any"))
def test_server_range_counts_and_co_partitioning(group) -> None:
    members, counts = group
    check_range_counts_and_co_partitioning(server_range.assign(members, counts), members, counts)


@settings(max_examples=100, deadline=None)
@given(group=groups(claims="none"), data=st.data())
def test_server_range_moves_the_minimum_after_membership_changes(group, data: st.DataObject) -> None:
    members, counts = group
    first = server_range.assign(members, counts)
    settled = [replace(m, owned_partitions=tuple(first[m.member_id])) for m in members]
    leaving = data.draw(st.sets(st.sampled_from([m.member_id for m in members]), max_size=len(members) - 1))
    taken = {m.member_id for m in members}
    joining = [
        MemberSubscription(i, data.draw(st.lists(st.sampled_from(sorted(counts)), min_size=1, unique=True)))
        for i in data.draw(st.lists(member_ids.filter(lambda i: i not in taken), unique=True, max_size=3))
    ]
    after = [m for m in settled if m.member_id not in leaving] + joining
    result = server_range.assign(after, counts)
    check_range_counts_and_co_partitioning(result, after, counts)
    # A topic alone in its (subscribers, partition count) group moves the fewest partitions possible.
    keys = {t: (frozenset(m.member_id for m in after if t in m.topics), n) for t, n in counts.items()}
    for topic, key in keys.items():
        subscribers = key[0]
        if not subscribers or list(keys.values()).count(key) > 1:
            continue
        owners = {tp: m.member_id for m in after for tp in m.owned_partitions if tp.topic == topic}
        owned_counts = [sum(1 for o in owners.values() if o == s) for s in subscribers]
        topic_result = {m: [tp for tp in ps if tp.topic == topic] for m, ps in result.items()}
        assert moves(topic_result, owners) == min_moves_identical(owned_counts, counts[topic])


@settings(max_examples=60, deadline=None)
@given(group=groups(claims="any"))
def test_server_range_keeps_an_unchanged_assignment(group) -> None:
    members, counts = group
    first = server_range.assign(members, counts)
    again = [replace(m, owned_partitions=tuple(first[m.member_id])) for m in members]
    assert server_range.assign(again, counts) == first
