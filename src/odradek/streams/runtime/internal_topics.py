"""Internal topics: how many partitions each repartition and changelog topic needs, and creating them.

`plan_internal_topics` is pure: given the topology and the partition counts of the user's topics it
returns every internal topic with its partition count and configs. A sub-topology has as many tasks
as its widest source topic; a repartition topic gets its configured count, else the count of the
sub-topology that writes it; co-partition groups make repartition topics in them as wide as the
group's user topics; a changelog has one partition per task of the sub-topology owning its store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from odradek.streams.errors import StreamsException, TopologyException
from odradek.streams.topology import SinkNode, Topology

log = logging.getLogger("odradek.streams")


@dataclass(frozen=True)
class PlannedTopic:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def plan_internal_topics(
    topology: Topology, physical: Callable[[str], str], counts: Mapping[str, int]
) -> dict[str, PlannedTopic]:
    subs = topology.subtopologies()
    internal = topology.internal_topics
    known: dict[str, int] = {t: n for t, n in counts.items()}
    for name, topic in internal.items():
        if topic.num_partitions:
            known[name] = topic.num_partitions

    def writers(topic: str) -> list[int]:
        out = []
        for sub in subs:
            for node_name in sub.nodes:
                node = topology.nodes[node_name]
                if isinstance(node, SinkNode) and node.topic == topic:
                    out.append(sub.id)
        return out

    # a pattern source's sub-topology is as wide as the widest topic its pattern matches now
    matched: dict[int, list[int]] = {}
    for sub in subs:
        if sub.source_patterns:
            matched[sub.id] = [
                n
                for t, n in counts.items()
                if t not in internal
                and not t.startswith("__")
                and any(p.fullmatch(t) for p in sub.source_patterns)
            ]
    sub_counts: dict[int, int] = {}
    for _ in range(len(subs) + len(internal) + 1):
        for group in topology.copartition_groups:
            user = [known[t] for t in group if t in known and t not in internal]
            if user:
                for t in group:
                    if t in internal and not internal[t].num_partitions:
                        known[t] = max(user)
        for sub in subs:
            sources = [known[t] for t in sub.source_topics if t in known] + matched.get(sub.id, [])
            if sources:
                sub_counts[sub.id] = max(sources)
        for name, topic in internal.items():
            if topic.kind == "repartition" and name not in known:
                found = [sub_counts[s] for s in writers(name) if s in sub_counts]
                if found:
                    known[name] = max(found)
    unsized = [n for n, t in internal.items() if t.kind == "repartition" and n not in known] + [
        s for sub in subs if sub.id not in sub_counts for s in sub.stores if topology.stores[s].logging
    ]
    patterns = ", ".join(p.pattern for sub in subs for p in sub.source_patterns)
    if unsized and patterns:
        raise StreamsException(
            f"pattern {patterns!r} matches no topic yet: internal topics ({', '.join(sorted(unsized))})"
            " are sized by their input topics; create a matching topic first"
        )
    missing = [t for sub in subs for t in sub.source_topics if t not in known]
    if missing:
        raise StreamsException(f"source topics do not exist (create them first): {sorted(set(missing))}")
    topology.check_copartitioning(known)
    plan: dict[str, PlannedTopic] = {}
    for name, topic in internal.items():
        if topic.kind == "repartition":
            plan[physical(name)] = PlannedTopic(physical(name), known[name], {"cleanup.policy": "delete"})
    for sub in subs:
        for store in sub.stores:
            spec = topology.stores[store]
            if spec.logging:
                changelog = f"{store}-changelog"
                plan[physical(changelog)] = PlannedTopic(
                    physical(changelog), sub_counts[sub.id], dict(internal[changelog].config)
                )
    return plan


def ensure_internal_topics(admin: object, plan: Mapping[str, PlannedTopic], replication_factor: int) -> None:
    """Create the planned topics that are missing; one that exists with other partitions is an error."""
    from confluent_kafka.admin import AdminClient, NewTopic

    assert isinstance(admin, AdminClient)
    existing = admin.list_topics(timeout=30).topics
    to_create = []
    for topic in plan.values():
        meta = existing.get(topic.name)
        if meta is not None and meta.error is None:
            if len(meta.partitions) != topic.partitions:
                raise TopologyException(
                    f"internal topic {topic.name} has {len(meta.partitions)} partitions, the topology needs"
                    f" {topic.partitions}; reset the application (odradek streams reset) or fix the topic"
                )
            continue
        to_create.append(NewTopic(topic.name, topic.partitions, replication_factor, config=topic.config))
    if not to_create:
        return
    for name, future in admin.create_topics(to_create, operation_timeout=30).items():
        try:
            future.result()
            log.info("created internal topic %s", name)
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise StreamsException(f"cannot create internal topic {name}: {exc}") from exc
