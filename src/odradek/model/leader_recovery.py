"""A partition's leader recovery state (KIP-704).

The controller marks a partition RECOVERING when it elects its leader uncleanly (a replica outside
the ISR and the ELR, which may lack committed records); the new leader recovers and then asks the
controller (AlterPartition) to mark it RECOVERED. While it is RECOVERING its ISR is the leader alone:
the controller refuses an AlterPartition that names more replicas with RECOVERING, or that moves a
RECOVERED partition back to RECOVERING (INVALID_REQUEST). The values are Kafka's (the
`LeaderRecoveryState` field of AlterPartition v1+, LeaderAndIsr v6+ and the metadata records, and
`leader_recovery_state` in the ZooKeeper partition state znode).
"""

from __future__ import annotations

from enum import IntEnum


class LeaderRecoveryState(IntEnum):
    RECOVERED = 0
    RECOVERING = 1
