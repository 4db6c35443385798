"""What `topic list` and `topic describe` print.

`topic list --output json`:
    {"topics": [{"name": "orders", "partitions": 3, "internal": false}]}

`topic describe --output json`:
    {"topics": [{"name": "orders", "topic_id": "...", "internal": false, "partition_count": 3,
                 "replication_factor": 1, "configs": {"cleanup.policy": "compact"},
                 "partitions": [{"partition": 0, "leader": 1, "replicas": [1], "isr": [1],
                                 "elr": [], "last_known_elr": [],
                                 "log_start_offset": 0, "log_end_offset": 42}]}]}

`configs` holds the configs whose value does not come from the broker's built-in defaults (topic
overrides and broker-level settings), as kafka-topics.sh shows them; a sensitive value is null.
The text form follows kafka-topics.sh --describe (Kafka 4's `Elr` and `LastKnownElr`: the eligible
leader replicas of KIP-966, from DescribeTopicPartitions; null/absent when the cluster does not
serve it), with the two offsets appended per partition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicListing:
    name: str
    partitions: int
    internal: bool


@dataclass(frozen=True, slots=True)
class PartitionView:
    partition: int
    leader: int | None
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    log_start_offset: int | None
    log_end_offset: int | None
    elr: tuple[int, ...] | None = None
    last_known_elr: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class TopicView:
    name: str
    topic_id: str | None
    internal: bool
    partitions: tuple[PartitionView, ...]
    configs: tuple[tuple[str, str | None], ...]

    @property
    def replication_factor(self) -> int:
        return len(self.partitions[0].replicas) if self.partitions else 0


def list_doc(listings: Sequence[TopicListing]) -> dict[str, object]:
    return {
        "topics": [{"name": t.name, "partitions": t.partitions, "internal": t.internal} for t in listings]
    }


def render_list_text(listings: Sequence[TopicListing]) -> str:
    return "".join(f"{t.name}\n" for t in listings)


def topic_doc(view: TopicView) -> dict[str, object]:
    return {
        "name": view.name,
        "topic_id": view.topic_id,
        "internal": view.internal,
        "partition_count": len(view.partitions),
        "replication_factor": view.replication_factor,
        "configs": dict(view.configs),
        "partitions": [
            {
                "partition": p.partition,
                "leader": p.leader,
                "replicas": list(p.replicas),
                "isr": list(p.isr),
                "elr": None if p.elr is None else list(p.elr),
                "last_known_elr": None if p.last_known_elr is None else list(p.last_known_elr),
                "log_start_offset": p.log_start_offset,
                "log_end_offset": p.log_end_offset,
            }
            for p in view.partitions
        ],
    }


def describe_doc(views: Sequence[TopicView]) -> dict[str, object]:
    return {"topics": [topic_doc(v) for v in views]}


def _ids(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids)


def _value(v: object) -> str:
    return "-" if v is None else str(v)


def _elr(p: PartitionView) -> str:
    if p.elr is None:
        return ""
    return f"Elr: {_ids(p.elr)}\tLastKnownElr: {_ids(p.last_known_elr or ())}\t"


def render_describe_text(views: Sequence[TopicView]) -> str:
    lines: list[str] = []
    for v in views:
        configs = ",".join(f"{k}={_value(val)}" for k, val in v.configs)
        lines.append(
            f"Topic: {v.name}\tTopicId: {_value(v.topic_id)}\tPartitionCount: {len(v.partitions)}\t"
            f"ReplicationFactor: {v.replication_factor}\tConfigs: {configs}"
        )
        lines.extend(
            f"\tTopic: {v.name}\tPartition: {p.partition}\tLeader: {_value(p.leader)}\t"
            f"Replicas: {_ids(p.replicas)}\tIsr: {_ids(p.isr)}\t{_elr(p)}"
            f"LogStartOffset: {_value(p.log_start_offset)}\tLogEndOffset: {_value(p.log_end_offset)}"
            for p in v.partitions
        )
    return "".join(line + "\n" for line in lines)
