"""Writing partitions in tests the way Kafka's docs do: ``tps("t0-0 t1-2")``."""

from __future__ import annotations

from odradek.model.topic_partition import TopicPartition


def tps(text: str) -> list[TopicPartition]:
    result = []
    for item in text.split():
        topic, partition = item.rsplit("-", 1)
        result.append(TopicPartition(topic, int(partition)))
    return result


def racks(topic: str, *per_partition: str) -> dict[TopicPartition, frozenset[str]]:
    """``racks("t0", "a", "ab")``: t0-0 has a replica on rack a, t0-1 on racks a and b."""
    return {TopicPartition(topic, p): frozenset(r) for p, r in enumerate(per_partition)}
