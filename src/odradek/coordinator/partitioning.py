"""Which partition of a coordinator topic owns a key (a group id or a transactional id).

Kafka computes ``Utils.abs(key.hashCode()) % numPartitions`` with Java's ``String.hashCode``:
``h = 31 * h + c`` over the string's UTF-16 code units, in 32-bit two's complement arithmetic;
``Utils.abs`` maps ``Integer.MIN_VALUE`` to 0. Matching it exactly keeps a group on the same
``__consumer_offsets`` partition as in Kafka, so logs written by either broker agree.
"""

from __future__ import annotations

import functools

_INT_MIN = -(2**31)


def java_string_hash(text: str) -> int:
    """Java's ``String.hashCode`` (a signed 32-bit int)."""
    h = 0
    units = text.encode("utf-16-be")
    for i in range(0, len(units), 2):
        h = (31 * h + ((units[i] << 8) | units[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


@functools.lru_cache(maxsize=4096)
def coordinator_partition(key: str, num_partitions: int) -> int:
    # Cached: every group request asks again (a synchronous commit per message, for one), and the
    # hash walks the id in Python.
    h = java_string_hash(key)
    return (0 if h == _INT_MIN else abs(h)) % num_partitions
