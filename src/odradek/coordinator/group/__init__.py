"""Consumer group coordination: classic (JoinGroup/SyncGroup) and KIP-848 (ConsumerGroupHeartbeat) groups."""
