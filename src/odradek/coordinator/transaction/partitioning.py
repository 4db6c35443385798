"""Which `__transaction_state` (or `__consumer_offsets`) partition owns a transactional id (or group).

Kafka uses `Utils.abs(key.hashCode()) % partitions` with Java's `String.hashCode` (31-polynomial over
UTF-16 code units, int32 arithmetic) and `Utils.abs`, which maps Integer.MIN_VALUE to 0. Matching it
exactly keeps a transactional id on the same partition as in Kafka, so logs stay interchangeable.
"""

from __future__ import annotations

TRANSACTION_STATE_TOPIC = "__transaction_state"
CONSUMER_OFFSETS_TOPIC = "__consumer_offsets"
_INT_MIN = -(1 << 31)


def java_string_hash(value: str) -> int:
    h = 0
    units = value.encode("utf-16-be")
    for i in range(0, len(units), 2):
        h = (31 * h + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def java_abs(value: int) -> int:
    return 0 if value == _INT_MIN else abs(value)


def partition_for(key: str, num_partitions: int) -> int:
    return java_abs(java_string_hash(key)) % num_partitions
