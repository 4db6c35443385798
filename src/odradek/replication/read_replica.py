"""Which replica a consumer should fetch from (KIP-392, Kafka's `ReplicaSelector`).

With `replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector`, a leader
answers a consumer's fetch (v11+, which carries the consumer's `client.rack` as `rack_id`) with a
`preferred_read_replica` when an in-sync replica in the consumer's rack has the data the consumer
asks for (its log end offset is at or past the fetch offset); several such: the one with the
largest log end offset. The leader itself in the consumer's rack, no rack, or no such replica: no
preference (the consumer keeps fetching from the leader). Unset (the default), or Kafka's
`LeaderSelector`: always the leader. Pure: the broker's Fetch handler gives the candidates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from odradek.model.ids import BrokerId

RACK_AWARE = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
LEADER = "org.apache.kafka.common.replica.LeaderSelector"
SELECTORS = (RACK_AWARE, LEADER)


@dataclass(frozen=True, slots=True)
class ReplicaView:
    broker: BrokerId
    rack: str | None
    log_end_offset: int


def preferred_read_replica(
    selector: str | None,
    client_rack: str,
    fetch_offset: int,
    leader: ReplicaView,
    in_sync_followers: Iterable[ReplicaView],
) -> BrokerId | None:
    """The replica the consumer should fetch from instead of the leader, or None (the leader)."""
    if selector != RACK_AWARE or not client_rack:
        return None
    if leader.rack == client_rack:
        return None
    same_rack = [r for r in in_sync_followers if r.rack == client_rack and r.log_end_offset >= fetch_offset]
    if not same_rack:
        return None
    return max(same_rack, key=lambda r: (r.log_end_offset, -r.broker)).broker
