"""Hypothesis strategies and independent checks for the assignor property tests.

The checks here do not use the assignors' code: the minimum number of moves for identical
subscriptions is a closed formula, and for small groups with different subscriptions an exhaustive
dynamic programme over load vectors finds the best (balance, moves) pair.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from hypothesis import strategies as st

from odradek.coordinator.group.assignors.types import Assignment, MemberSubscription
from odradek.model.topic_partition import TopicPartition

TOPICS = ("t0", "t1", "t2", "t3", "t4")
MISSING_TOPIC = "gone"  # subscribed to, absent from metadata

member_ids = st.text(alphabet="abcxyz", min_size=1, max_size=3)


@st.composite
def partition_counts(draw: st.DrawFn, max_topics: int = 5, max_partitions: int = 16) -> dict[str, int]:
    n = draw(st.integers(1, max_topics))
    return {TOPICS[i]: draw(st.integers(1, max_partitions)) for i in range(n)}


def all_partitions(counts: Mapping[str, int]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in sorted(counts) for p in range(counts[t])]


@st.composite
def subscriptions(
    draw: st.DrawFn, counts: Mapping[str, int], ids: list[str], homogeneous: bool | None
) -> dict[str, tuple[str, ...]]:
    topics = [*sorted(counts), MISSING_TOPIC]
    subset = st.lists(st.sampled_from(topics), min_size=1, max_size=len(topics), unique=True).map(tuple)
    if homogeneous is None:
        homogeneous = draw(st.booleans())
    if homogeneous:
        shared = draw(subset)
        return dict.fromkeys(ids, shared)
    return {member: draw(subset) for member in ids}


@st.composite
def groups(
    draw: st.DrawFn,
    *,
    homogeneous: bool | None = None,
    max_members: int = 8,
    max_topics: int = 5,
    max_partitions: int = 16,
    claims: str = "disjoint",
) -> tuple[list[MemberSubscription], dict[str, int]]:
    """A group and its topics. ``claims``: ``none``, ``disjoint`` (each partition owned by at most one
    member, at one generation) or ``any`` (overlapping claims, several generations, stale topics)."""
    counts = draw(partition_counts(max_topics, max_partitions))
    ids = draw(st.lists(member_ids, min_size=1, max_size=max_members, unique=True))
    subs = draw(subscriptions(counts, ids, homogeneous))
    owned: dict[str, list[TopicPartition]] = {m: [] for m in ids}
    generation = dict.fromkeys(ids, 1)
    partitions = all_partitions(counts)
    if claims == "disjoint":
        for tp in partitions:
            owner = draw(st.sampled_from([None, *ids]))
            if owner is not None:
                owned[owner].append(tp)
    elif claims == "any":
        for member in ids:
            owned[member] = draw(st.lists(st.sampled_from(partitions), unique=True))
            generation[member] = draw(st.integers(-1, 3))
    static = draw(st.lists(st.sampled_from(ids), unique=True))
    members = [
        MemberSubscription(
            member_id=m,
            topics=subs[m],
            owned_partitions=tuple(owned[m]),
            generation=generation[m],
            instance_id=f"i-{m[::-1]}" if m in static else None,
        )
        for m in ids
    ]
    return members, counts


def check_valid(result: Assignment, members: Iterable[MemberSubscription], counts: Mapping[str, int]) -> None:
    """Every subscribed partition exactly once, only to subscribers; every member listed; sorted."""
    members = list(members)
    assert sorted(result) == sorted(m.member_id for m in members)
    topics = {m.member_id: set(m.topics) & set(counts) for m in members}
    wanted = {TopicPartition(t, p) for ts in topics.values() for t in ts for p in range(counts[t])}
    given = Counter(tp for partitions in result.values() for tp in partitions)
    assert set(given) == wanted
    assert all(n == 1 for n in given.values())
    for member_id, partitions in result.items():
        assert partitions == sorted(partitions)
        assert all(tp.topic in topics[member_id] for tp in partitions)


def valid_owners(
    members: Iterable[MemberSubscription], counts: Mapping[str, int]
) -> dict[TopicPartition, str]:
    """Owners for groups drawn with ``claims="disjoint"``: claims on subscribed, existing partitions."""
    return {
        tp: m.member_id
        for m in members
        for tp in m.owned_partitions
        if tp.topic in m.topics and tp.partition < counts.get(tp.topic, 0)
    }


def moves(result: Assignment, owners: Mapping[TopicPartition, str]) -> int:
    holder = {tp: member for member, partitions in result.items() for tp in partitions}
    return sum(1 for tp, owner in owners.items() if holder.get(tp) != owner)


def sum_of_squares(result: Assignment) -> int:
    return sum(len(partitions) ** 2 for partitions in result.values())


def min_moves_identical(owned_counts: list[int], partitions: int) -> int:
    """Fewest moves to reach n // m or n // m + 1 each, with n % m members at the larger count."""
    quota, extras = divmod(partitions, len(owned_counts))
    kept = sum(min(o, quota) for o in owned_counts) + min(extras, sum(1 for o in owned_counts if o > quota))
    return sum(owned_counts) - kept


def best_balance_and_moves(
    members: list[MemberSubscription], counts: Mapping[str, int], owners: Mapping[TopicPartition, str]
) -> tuple[int, int]:
    """Exhaustive optimum of (sum of squared loads, moves) by dynamic programming over load vectors."""
    ids = [m.member_id for m in members]
    eligible = {t: [i for i, m in enumerate(members) if t in m.topics] for t in counts}
    states: dict[tuple[int, ...], int] = {(0,) * len(ids): 0}
    for tp in all_partitions(counts):
        if not eligible[tp.topic]:
            continue
        following: dict[tuple[int, ...], int] = {}
        for loads, moved in states.items():
            for i in eligible[tp.topic]:
                key = (*loads[:i], loads[i] + 1, *loads[i + 1 :])
                cost = moved + (1 if tp in owners and owners[tp] != ids[i] else 0)
                if cost < following.get(key, cost + 1):
                    following[key] = cost
        states = following
    return min((sum(x * x for x in loads), moved) for loads, moved in states.items())


def has_improving_chain(result: Assignment, members: Iterable[MemberSubscription]) -> bool:
    """Whether some member could pass a partition, through a chain of members each giving one to the
    next, to a member holding two or more fewer: the balance-optimality test for semi-matchings."""
    topics = {m.member_id: set(m.topics) for m in members}
    loads = {m: len(p) for m, p in result.items()}
    for receiver in result:
        # members that can reach `receiver` by a chain of single-partition hand-overs
        seen = {receiver}
        frontier = [receiver]
        while frontier:
            taker = frontier.pop()
            for giver, partitions in result.items():
                if giver not in seen and any(tp.topic in topics[taker] for tp in partitions):
                    if loads[giver] >= loads[receiver] + 2:
                        return True
                    seen.add(giver)
                    frontier.append(giver)
    return False
