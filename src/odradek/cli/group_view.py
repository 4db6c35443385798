"""What `group list` and `group describe` print, and the lag table.

Lag of a partition = log end offset - committed offset (as kafka-consumer-groups.sh computes it:
not clamped, unknown when either side is unknown). The offsets table covers every partition the
group has committed or that a member is assigned, in (topic, partition) order.

`group list --output json`:
    {"groups": [{"group": "billing", "state": "Stable", "type": "classic", "simple": false}]}

`group describe --output json`:
    {"groups": [{"group": "billing", "state": "Stable", "type": "classic", "protocol": "range",
                 "coordinator": {"id": 1, "host": "127.0.0.1", "port": 9092}, "total_lag": 5,
                 "members": [{"member_id": "...", "group_instance_id": null, "client_id": "...",
                              "host": "/127.0.0.1", "assignment": [{"topic": "orders", "partition": 0}]}],
                 "offsets": [{"topic": "orders", "partition": 0, "current_offset": 37,
                              "log_end_offset": 42, "lag": 5, "member_id": "...",
                              "client_id": "...", "host": "/127.0.0.1"}]}]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from odradek.cli.output import render_table
from odradek.model.topic_partition import TopicPartition

# confluent-kafka's ConsumerGroupState member name -> the name Kafka's tools print.
STATE_NAMES = {
    "UNKNOWN": "Unknown",
    "PREPARING_REBALANCING": "PreparingRebalance",
    "COMPLETING_REBALANCING": "CompletingRebalance",
    "STABLE": "Stable",
    "DEAD": "Dead",
    "EMPTY": "Empty",
}


def parse_state(text: str) -> str:
    """A Kafka state name (any case) -> confluent-kafka's ConsumerGroupState member name."""
    for member, kafka_name in STATE_NAMES.items():
        if text.lower() in (kafka_name.lower(), member.lower()):
            return member
    raise ValueError(f"unknown group state {text!r}: use one of {', '.join(STATE_NAMES.values())}")


@dataclass(frozen=True, slots=True)
class GroupListing:
    group: str
    state: str
    type: str
    simple: bool


@dataclass(frozen=True, slots=True)
class Coordinator:
    id: int
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class MemberView:
    member_id: str
    group_instance_id: str | None
    client_id: str
    host: str
    assignment: tuple[TopicPartition, ...]


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic_partition: TopicPartition
    current_offset: int | None
    log_end_offset: int | None
    lag: int | None
    member: MemberView | None


@dataclass(frozen=True, slots=True)
class GroupView:
    group: str
    state: str
    type: str
    protocol: str
    coordinator: Coordinator | None
    members: tuple[MemberView, ...]
    offsets: tuple[PartitionLag, ...]

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.offsets if p.lag is not None)


def lag_table(
    committed: Mapping[TopicPartition, int],
    log_end_offsets: Mapping[TopicPartition, int],
    members: Sequence[MemberView],
) -> tuple[PartitionLag, ...]:
    owners = {tp: m for m in members for tp in m.assignment}
    rows = []
    for tp in sorted(committed.keys() | owners.keys()):
        current, end = committed.get(tp), log_end_offsets.get(tp)
        lag = None if current is None or end is None else end - current
        rows.append(PartitionLag(tp, current, end, lag, owners.get(tp)))
    return tuple(rows)


def list_doc(groups: Sequence[GroupListing]) -> dict[str, object]:
    return {
        "groups": [{"group": g.group, "state": g.state, "type": g.type, "simple": g.simple} for g in groups]
    }


def render_list_text(groups: Sequence[GroupListing]) -> str:
    return render_table(("GROUP", "STATE", "TYPE"), ((g.group, g.state, g.type) for g in groups))


def _member_doc(m: MemberView) -> dict[str, object]:
    return {
        "member_id": m.member_id,
        "group_instance_id": m.group_instance_id,
        "client_id": m.client_id,
        "host": m.host,
        "assignment": [{"topic": tp.topic, "partition": tp.partition} for tp in m.assignment],
    }


def group_doc(g: GroupView) -> dict[str, object]:
    c = g.coordinator
    return {
        "group": g.group,
        "state": g.state,
        "type": g.type,
        "protocol": g.protocol,
        "coordinator": None if c is None else {"id": c.id, "host": c.host, "port": c.port},
        "total_lag": g.total_lag,
        "members": [_member_doc(m) for m in g.members],
        "offsets": [
            {
                "topic": p.topic_partition.topic,
                "partition": p.topic_partition.partition,
                "current_offset": p.current_offset,
                "log_end_offset": p.log_end_offset,
                "lag": p.lag,
                "member_id": p.member.member_id if p.member else None,
                "client_id": p.member.client_id if p.member else None,
                "host": p.member.host if p.member else None,
            }
            for p in g.offsets
        ],
    }


def describe_doc(groups: Sequence[GroupView]) -> dict[str, object]:
    return {"groups": [group_doc(g) for g in groups]}


def render_describe_text(groups: Sequence[GroupView]) -> str:
    out: list[str] = []
    for g in groups:
        c = g.coordinator
        coordinator = "-" if c is None else f"{c.id} ({c.host}:{c.port})"
        out.append(
            f"GROUP: {g.group}  STATE: {g.state}  TYPE: {g.type}  PROTOCOL: {g.protocol or '-'}  "
            f"COORDINATOR: {coordinator}  MEMBERS: {len(g.members)}  TOTAL-LAG: {g.total_lag}\n\n"
        )
        out.append(
            render_table(
                (
                    "TOPIC",
                    "PARTITION",
                    "CURRENT-OFFSET",
                    "LOG-END-OFFSET",
                    "LAG",
                    "CONSUMER-ID",
                    "HOST",
                    "CLIENT-ID",
                ),
                (
                    (
                        p.topic_partition.topic,
                        p.topic_partition.partition,
                        p.current_offset,
                        p.log_end_offset,
                        p.lag,
                    )
                    + (
                        (p.member.member_id, p.member.host, p.member.client_id)
                        if p.member
                        else (None, None, None)
                    )
                    for p in g.offsets
                ),
            )
        )
        if g.members:
            out.append("\n")
            out.append(
                render_table(
                    ("MEMBER-ID", "GROUP-INSTANCE-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"),
                    (
                        (
                            m.member_id,
                            m.group_instance_id,
                            m.client_id,
                            m.host,
                            ",".join(map(str, m.assignment)) or None,
                        )
                        for m in g.members
                    ),
                )
            )
        out.append("\n")
    return "".join(out).rstrip("\n") + "\n"
