"""The balanced, sticky target for members with different subscriptions: a min-cost flow.

The assignment is a flow: each partition sends one unit to one member subscribed to its topic, each
member sends its load to a sink ``T``. Its cost is ``big * sum(load^2) + moves``, where ``moves`` counts
the partitions not at their current owner (a partition without an owner costs nothing anywhere) and
``big = members + 1`` makes one step of balance outweigh every possible saving in moves (see
`balancer` for the priorities). A flow is of minimum cost exactly when its residual graph has no
negative cycle, so we start from a cheap guess and cancel negative cycles until there is none.

The residual graph is kept at member level. A hop ``A -> B`` moves one partition from A to B, which
B subscribes to; its cost is the cheapest such partition's change in ``moves``: -1 if A holds one that
B owns, 0 if A holds one it does not own itself, +1 if it only has its own. Choosing the cheapest
partition per pair loses nothing: a simple cycle visits a member once, so it moves at most one
partition out of each. ``T -> A`` takes one partition off A's load (cost ``-big * (2 * load - 1)``),
``B -> T`` adds one to B's (cost ``big * (2 * load + 1)``); a cycle through T is a chain of moves from
A to B. Negative cycles are found with Bellman-Ford over ``members + 1`` nodes; each cancel lowers the
integer cost, so the loop ends, typically after as many cancels as partitions must change hands.

Cost: O(members^3) per cancel. Groups with identical subscriptions (the usual case) never come here.
"""

from __future__ import annotations

from collections.abc import Mapping

from odradek.coordinator.group.assignors.group_view import GroupView
from odradek.coordinator.group.assignors.types import Assignment
from odradek.model.topic_partition import TopicPartition

UNOWNED = -1


class _Flow:
    def __init__(self, view: GroupView, owners: Mapping[TopicPartition, str]) -> None:
        self.members = view.member_ids
        index = {member: i for i, member in enumerate(self.members)}
        topic_bit = {topic: 1 << k for k, topic in enumerate(view.partition_counts)}
        self.eligible = [view.topics[member] for member in self.members]
        self.eligible_mask = [sum(topic_bit[t] for t in topics) for topics in self.eligible]
        self.topic_bit = topic_bit
        self.big = len(self.members) + 1
        m = len(self.members)
        self.origin: dict[TopicPartition, int] = {}
        self.held: list[set[TopicPartition]] = [set() for _ in range(m)]
        self.load = [0] * m
        # per member and topic bit: how many held partitions it owns itself / does not own
        self.own: list[dict[int, int]] = [{} for _ in range(m)]
        self.other: list[dict[int, int]] = [{} for _ in range(m)]
        self.own_mask = [0] * m
        self.other_mask = [0] * m
        # back[a][b]: partitions held by a that b owns
        self.back = [[0] * m for _ in range(m)]
        for tp in view.partitions():
            owner = owners.get(tp)
            self.origin[tp] = UNOWNED if owner is None else index[owner]
        self._initial_guess(view)

    def _initial_guess(self, view: GroupView) -> None:
        unowned: list[TopicPartition] = []
        for tp, owner in self.origin.items():
            if owner == UNOWNED:
                unowned.append(tp)
            else:
                self._place(tp, owner)
        subscribers = {t: [i for i, e in enumerate(self.eligible) if t in e] for t in view.partition_counts}
        # The most constrained partitions first, each to its least loaded subscriber.
        unowned.sort(key=lambda tp: (len(subscribers[tp.topic]), tp))
        for tp in unowned:
            self._place(tp, min(subscribers[tp.topic], key=lambda i: (self.load[i], i)))

    def _count(self, member: int, tp: TopicPartition, delta: int) -> None:
        bit = self.topic_bit[tp.topic]
        owner = self.origin[tp]
        counts, masks = (self.own, self.own_mask) if owner == member else (self.other, self.other_mask)
        left = counts[member].get(bit, 0) + delta
        counts[member][bit] = left
        masks[member] = masks[member] | bit if left else masks[member] & ~bit
        if owner not in (UNOWNED, member):
            self.back[member][owner] += delta
        self.load[member] += delta

    def _place(self, tp: TopicPartition, member: int) -> None:
        self.held[member].add(tp)
        self._count(member, tp, 1)

    def _move(self, tp: TopicPartition, source: int, target: int) -> None:
        self.held[source].remove(tp)
        self._count(source, tp, -1)
        self._place(tp, target)

    def hop_cost(self, source: int, target: int) -> int | None:
        if self.back[source][target]:
            return -1
        if self.other_mask[source] & self.eligible_mask[target]:
            return 0
        if self.own_mask[source] & self.eligible_mask[target]:
            return 1
        return None

    def _pick(self, source: int, target: int) -> TopicPartition:
        """The smallest partition ``source`` can hand ``target`` at the hop's cost."""
        cost = self.hop_cost(source, target)
        for tp in sorted(self.held[source]):
            owner = self.origin[tp]
            if tp.topic in self.eligible[target] and (
                (cost == -1 and owner == target)
                or (cost == 0 and owner != source)
                or (cost == 1 and owner == source)
            ):
                return tp
        raise AssertionError(f"no partition for hop {source} -> {target}")

    def negative_cycle(self) -> list[int] | None:
        """Nodes of a negative cycle in the residual graph (``len(members)`` is T), or None."""
        sink = len(self.members)
        edges: list[tuple[int, int, int]] = []
        for a in range(sink):
            for b in range(sink):
                cost = self.hop_cost(a, b) if a != b else None
                if cost is not None:
                    edges.append((a, b, cost))
            if self.load[a]:
                edges.append((sink, a, -self.big * (2 * self.load[a] - 1)))
            edges.append((a, sink, self.big * (2 * self.load[a] + 1)))
        dist = [0] * (sink + 1)
        pred = [-1] * (sink + 1)
        last = -1
        for _ in range(sink + 1):
            last = -1
            for a, b, cost in edges:
                if dist[a] + cost < dist[b]:
                    dist[b] = dist[a] + cost
                    pred[b] = a
                    last = b
            if last < 0:
                return None
        node = last
        for _ in range(sink + 1):
            node = pred[node]
        cycle = [node]
        previous = pred[node]
        while previous != node:
            cycle.append(previous)
            previous = pred[previous]
        cycle.reverse()
        return cycle

    def cancel(self, cycle: list[int]) -> None:
        sink = len(self.members)
        hops = [(a, b) for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True) if sink not in (a, b)]
        moves = [(self._pick(a, b), a, b) for a, b in hops]
        for tp, source, target in moves:
            self._move(tp, source, target)

    def assignment(self) -> Assignment:
        return {member: sorted(self.held[i]) for i, member in enumerate(self.members)}


def balance_heterogeneous(view: GroupView, owners: Mapping[TopicPartition, str]) -> Assignment:
    flow = _Flow(view, owners)
    while (cycle := flow.negative_cycle()) is not None:
        flow.cancel(cycle)
    return flow.assignment()
