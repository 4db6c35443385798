"""The states of a classic (JoinGroup/SyncGroup) group, their meaning, and the allowed transitions.

Kafka's ``ClassicGroupState`` as a table: `TRANSITIONS[target]` is the set of states a group may move
to ``target`` from; `ClassicGroup.transition_to` refuses anything else. The state names are what
ListGroups and DescribeGroups report.

==================== ================================================================== ===================
state                meaning                                                            entered from
==================== ================================================================== ===================
Empty                no members; offsets may still be kept; expires once its offsets do PreparingRebalance
PreparingRebalance   waiting for the members to (re)join; JoinGroups are parked until   Empty, Stable,
                     all known members joined or the rebalance timeout (the initial     CompletingRebalance
                     delay for a group that was Empty) expires
CompletingRebalance  the generation is formed; waiting for the leader's SyncGroup with  PreparingRebalance
                     the assignment, followers' SyncGroups are parked
Stable               the leader's assignment is stored; members heartbeat               CompletingRebalance
Dead                 the group is being removed (unloaded or deleted); no way out       any state
==================== ================================================================== ===================
"""

from __future__ import annotations

from enum import Enum


class ClassicGroupState(Enum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


S = ClassicGroupState

TRANSITIONS: dict[ClassicGroupState, frozenset[ClassicGroupState]] = {
    S.EMPTY: frozenset({S.PREPARING_REBALANCE}),
    S.PREPARING_REBALANCE: frozenset({S.EMPTY, S.STABLE, S.COMPLETING_REBALANCE}),
    S.COMPLETING_REBALANCE: frozenset({S.PREPARING_REBALANCE}),
    S.STABLE: frozenset({S.COMPLETING_REBALANCE}),
    S.DEAD: frozenset(S),
}
"""target state -> the states it can be entered from."""

MEANING: dict[ClassicGroupState, str] = {
    S.EMPTY: "no members; offsets may still be kept",
    S.PREPARING_REBALANCE: "waiting for members to (re)join",
    S.COMPLETING_REBALANCE: "waiting for the leader's assignment (SyncGroup)",
    S.STABLE: "assignment stored; members heartbeat",
    S.DEAD: "being removed; no transitions out",
}


def can_transition(source: ClassicGroupState, target: ClassicGroupState) -> bool:
    return source in TRANSITIONS[target]
