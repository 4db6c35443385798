"""Partition assignors: pure functions from subscriptions and topic metadata to an assignment.

Two registries, by the names users write:

- `CLASSIC_ASSIGNORS`: what a classic group's leader runs, named as in the JoinGroup protocol name
  (``partition.assignment.strategy`` in librdkafka and Java): ``range``, ``roundrobin``, ``sticky``,
  ``cooperative-sticky``.
- `SERVER_ASSIGNORS`: what the broker runs for KIP-848 groups, named by the client's
  ``group.remote.assignor``: ``uniform`` (the default) and ``range``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from odradek.coordinator.group.assignors import cooperative_sticky, round_robin, server_range, sticky, uniform
from odradek.coordinator.group.assignors import range as classic_range
from odradek.coordinator.group.assignors.types import (
    DEFAULT_GENERATION,
    AssignFn,
    Assignment,
    MemberSubscription,
    PartitionCounts,
    PartitionRacks,
)


class RebalanceProtocol(enum.Enum):
    """How members give partitions up: all at every rebalance, or only those that move (KIP-429)."""

    EAGER = "eager"
    COOPERATIVE = "cooperative"


@dataclass(frozen=True, slots=True)
class ClassicAssignor:
    name: str
    assign: AssignFn
    #: the protocols a member using it supports, preferred first (Kafka's ``supportedProtocols``)
    rebalance_protocols: tuple[RebalanceProtocol, ...]


@dataclass(frozen=True, slots=True)
class ServerAssignor:
    name: str
    assign: AssignFn


_EAGER = (RebalanceProtocol.EAGER,)

CLASSIC_ASSIGNORS: Mapping[str, ClassicAssignor] = MappingProxyType(
    {
        classic_range.NAME: ClassicAssignor(classic_range.NAME, classic_range.assign, _EAGER),
        round_robin.NAME: ClassicAssignor(round_robin.NAME, round_robin.assign, _EAGER),
        sticky.NAME: ClassicAssignor(sticky.NAME, sticky.assign, _EAGER),
        cooperative_sticky.NAME: ClassicAssignor(
            cooperative_sticky.NAME,
            cooperative_sticky.assign,
            (RebalanceProtocol.COOPERATIVE, RebalanceProtocol.EAGER),
        ),
    }
)

SERVER_ASSIGNORS: Mapping[str, ServerAssignor] = MappingProxyType(
    {
        uniform.NAME: ServerAssignor(uniform.NAME, uniform.assign),
        server_range.NAME: ServerAssignor(server_range.NAME, server_range.assign),
    }
)

#: The broker's assignor for members that name none (Kafka's first ``group.consumer.assignors``).
DEFAULT_SERVER_ASSIGNOR = uniform.NAME

__all__ = [
    "CLASSIC_ASSIGNORS",
    "DEFAULT_GENERATION",
    "DEFAULT_SERVER_ASSIGNOR",
    "SERVER_ASSIGNORS",
    "AssignFn",
    "Assignment",
    "ClassicAssignor",
    "MemberSubscription",
    "PartitionCounts",
    "PartitionRacks",
    "RebalanceProtocol",
    "ServerAssignor",
]
