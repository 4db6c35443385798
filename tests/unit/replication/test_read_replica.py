"""KIP-392: which replica a consumer in a rack should read from (Kafka's RackAwareReplicaSelector)."""

from __future__ import annotations

from odradek.model.ids import BrokerId
from odradek.replication.read_replica import LEADER, RACK_AWARE, ReplicaView, preferred_read_replica

LEADER_A = ReplicaView(BrokerId(1), "a", 100)
B2 = ReplicaView(BrokerId(2), "b", 100)
B3 = ReplicaView(BrokerId(3), "b", 90)
C4 = ReplicaView(BrokerId(4), "c", 100)


def test_a_consumer_in_another_rack_reads_from_an_in_sync_replica_of_its_rack() -> None:
    assert preferred_read_replica(RACK_AWARE, "b", 50, LEADER_A, [B2, B3, C4]) == 2  # the furthest
    assert preferred_read_replica(RACK_AWARE, "b", 95, LEADER_A, [B3]) is None  # lacks the offset
    assert preferred_read_replica(RACK_AWARE, "c", 100, LEADER_A, [B2, C4]) == 4


def test_the_leader_otherwise() -> None:
    assert preferred_read_replica(RACK_AWARE, "a", 0, LEADER_A, [B2]) is None  # same rack as the leader
    assert preferred_read_replica(RACK_AWARE, "", 0, LEADER_A, [B2]) is None  # no client.rack
    assert preferred_read_replica(RACK_AWARE, "z", 0, LEADER_A, [B2]) is None  # nobody in its rack
    assert preferred_read_replica(None, "b", 0, LEADER_A, [B2]) is None  # no selector configured
    assert preferred_read_replica(LEADER, "b", 0, LEADER_A, [B2]) is None
