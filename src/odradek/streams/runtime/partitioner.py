"""Kafka's default partitioner for keyed records: murmur2 of the key bytes, sign bit cleared, modulo
the partition count (Java's `Utils.murmur2` / `toPositive`). The runtime's producers use librdkafka's
`murmur2_random` so records land where Java clients and Kafka Streams would put them; interactive
queries use this function to find the partition (and so the instance) that holds a key.
"""

from __future__ import annotations

_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """The 32-bit murmur2 hash with Kafka's seed, as a signed int (like Java)."""
    length = len(data)
    h = (0x9747B28C ^ length) & _MASK
    rounded = length - (length % 4)
    for i in range(0, rounded, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = (h * _M) & _MASK
        h ^= k
    rest = length % 4
    if rest == 3:
        h ^= data[rounded + 2] << 16
    if rest >= 2:
        h ^= data[rounded + 1] << 8
    if rest >= 1:
        h ^= data[rounded]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key_bytes: bytes, num_partitions: int) -> int:
    return (murmur2(key_bytes) & 0x7FFFFFFF) % num_partitions
