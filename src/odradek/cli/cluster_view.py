"""What `odradek cluster describe` shows, from plain data (pure): brokers with their leader and
replica counts, the controller, and the partitions that need attention.

* under-replicated: fewer in-sync replicas than replicas;
* under min ISR: fewer in-sync replicas than the topic's `min.insync.replicas` (acks=all is refused);
* offline: no live leader (clients get LEADER_NOT_AVAILABLE).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from odradek.cli.output import render_table


@dataclass(frozen=True, slots=True)
class BrokerView:
    node_id: int
    host: str
    port: int
    rack: str | None


@dataclass(frozen=True, slots=True)
class PartitionState:
    topic: str
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ClusterView:
    cluster_id: str | None
    controller: int
    brokers: tuple[BrokerView, ...]
    partitions: tuple[PartitionState, ...]
    min_isr: Mapping[str, int]

    def leaders(self, node_id: int) -> int:
        return sum(1 for p in self.partitions if p.leader == node_id)

    def replicas(self, node_id: int) -> int:
        return sum(1 for p in self.partitions if node_id in p.replicas)

    @property
    def under_replicated(self) -> list[PartitionState]:
        return [p for p in self.partitions if len(p.isr) < len(p.replicas)]

    @property
    def under_min_isr(self) -> list[PartitionState]:
        return [p for p in self.partitions if len(p.isr) < self.min_isr.get(p.topic, 1)]

    @property
    def offline(self) -> list[PartitionState]:
        live = {b.node_id for b in self.brokers}
        return [p for p in self.partitions if p.leader < 0 or p.leader not in live]


def cluster_doc(view: ClusterView) -> dict[str, object]:
    def part(p: PartitionState) -> dict[str, object]:
        return {
            "topic": p.topic,
            "partition": p.partition,
            "leader": p.leader,
            "replicas": list(p.replicas),
            "isr": list(p.isr),
        }

    return {
        "cluster_id": view.cluster_id,
        "controller": view.controller,
        "brokers": [
            {
                "id": b.node_id,
                "host": b.host,
                "port": b.port,
                "rack": b.rack,
                "leaders": view.leaders(b.node_id),
                "replicas": view.replicas(b.node_id),
            }
            for b in view.brokers
        ],
        "partitions": len(view.partitions),
        "under_replicated": [part(p) for p in view.under_replicated],
        "under_min_isr": [part(p) for p in view.under_min_isr],
        "offline": [part(p) for p in view.offline],
    }


def cluster_text(view: ClusterView) -> str:
    head = (
        f"Cluster {view.cluster_id or '-'}  controller: {view.controller}  brokers: {len(view.brokers)}\n\n"
    )
    brokers = render_table(
        ("BROKER", "ENDPOINT", "RACK", "LEADERS", "REPLICAS"),
        (
            (
                f"{b.node_id}{' (controller)' if b.node_id == view.controller else ''}",
                f"{b.host}:{b.port}",
                b.rack,
                view.leaders(b.node_id),
                view.replicas(b.node_id),
            )
            for b in view.brokers
        ),
    )
    counts = (
        f"\npartitions: {len(view.partitions)}  under-replicated: {len(view.under_replicated)}  "
        f"under-min-isr: {len(view.under_min_isr)}  offline: {len(view.offline)}\n"
    )
    problems: list[Sequence[object]] = []
    for label, parts in (
        ("offline", view.offline),
        ("under-min-isr", view.under_min_isr),
        ("under-replicated", view.under_replicated),
    ):
        problems += [
            (label, f"{p.topic}-{p.partition}", p.leader, _ids(p.replicas), _ids(p.isr)) for p in parts
        ]
    table = render_table(("STATE", "PARTITION", "LEADER", "REPLICAS", "ISR"), problems) if problems else ""
    return head + brokers + counts + ("\n" + table if table else "")


def _ids(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids)
