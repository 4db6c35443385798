"""Where a partition's leader is now, for clients that sent to the wrong broker (KIP-951).

A Produce (v10+) or Fetch (v16+) partition that answers NOT_LEADER_OR_FOLLOWER (Fetch: also
FENCED_LEADER_EPOCH) carries `current_leader` (the leader's id and epoch in this broker's metadata
image), and the response's `node_endpoints` names each such leader's endpoint on the listener the
client came in on, so the client moves to the new leader without a Metadata round trip.

`not_hosted_error` is Kafka's rule for a partition this broker does not host: NOT_LEADER_OR_FOLLOWER
when the metadata has it on other brokers (the client's metadata is stale), not
UNKNOWN_TOPIC_OR_PARTITION.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from odradek.broker.endpoints import broker_endpoint
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId

if TYPE_CHECKING:
    from odradek.broker.context import RequestContext
    from odradek.broker.ports import BrokerPorts


def not_hosted_error(ports: BrokerPorts, topic: str | None, partition: int, error: ErrorCode) -> ErrorCode:
    """`error` for a partition not hosted here, or NOT_LEADER_OR_FOLLOWER when the image places it
    on other brokers only."""
    if error is not ErrorCode.UNKNOWN_TOPIC_OR_PARTITION or topic is None:
        return error
    found = ports.metadata.image.topic(topic)
    registration = None if found is None else found.partitions.get(partition)
    if registration is None or ports.node.node_id in registration.replicas:
        return error
    return ErrorCode.NOT_LEADER_OR_FOLLOWER


@dataclass(slots=True)
class LeaderHints:
    """The current leaders named in one response, and their endpoints."""

    ctx: RequestContext
    leaders: set[int] = field(default_factory=set)

    def current_leader(self, topic: str, partition: int) -> tuple[int, int]:
        """(leader id, leader epoch) in the image, (-1, -1) when unknown; remembers the leader."""
        found = self.ctx.ports.metadata.image.topic(topic)
        registration = None if found is None else found.partitions.get(partition)
        if registration is None:
            return -1, -1
        image = self.ctx.ports.metadata.image
        leader = image.live_leader(registration)
        if leader >= 0:
            self.leaders.add(leader)
        return leader, registration.leader_epoch

    def node_endpoints(self) -> list[tuple[int, str, int, str | None]]:
        """(node id, host, port, rack) of every leader named, on the request's listener."""
        brokers = self.ctx.ports.metadata.image.brokers
        found = []
        for node_id in sorted(self.leaders):
            registration = brokers.get(BrokerId(node_id))
            if registration is not None:
                host, port = broker_endpoint(self.ctx, registration)
                found.append((node_id, host, port, registration.rack))
        return found
