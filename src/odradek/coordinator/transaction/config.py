"""Transaction coordinator settings (Kafka's broker configs of the same names, same defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from odradek.coordinator.transaction.metadata import TV_2


@dataclass(frozen=True, slots=True)
class TransactionConfig:
    transaction_max_timeout_ms: int = 900_000
    """`transaction.max.timeout.ms`: the largest `transaction.timeout.ms` a producer may ask for."""
    transactional_id_expiration_ms: int = 604_800_000
    """`transactional.id.expiration.ms`: idle transactional ids are removed (tombstoned) after this."""
    num_partitions: int = 50
    """`transaction.state.log.num.partitions`."""
    offsets_topic_num_partitions: int = 50
    """`offsets.topic.num.partitions`, to find the `__consumer_offsets` partition of a group."""
    transaction_version: int = TV_2
    """The finalized `transaction.version` feature level: used when the coordinator itself aborts
    (timeouts, fencing); 2 enables the KIP-890 epoch bump per transaction."""
    abort_timed_out_transaction_cleanup_interval_ms: int = 10_000
    """`transaction.abort.timed.out.transaction.cleanup.interval.ms`."""
    remove_expired_transactional_id_cleanup_interval_ms: int = 3_600_000
    """`transaction.remove.expired.transaction.cleanup.interval.ms`."""
