"""A `Topology` is the pure description of a stream-processing application: a graph of sources,
processors and sinks, the state stores they use and the internal topics they need. It does no I/O;
the `TopologyTestDriver` and the Kafka runtime both execute it.

Nodes are added as in Kafka Streams' `Topology` (`add_source`, `add_processor`, `add_sink`,
`add_state_store`, `add_global_store`); the DSL (`StreamsBuilder`) adds them for you. The graph splits
into *sub-topologies*: groups of nodes connected by parent/child edges or a shared state store. Each
sub-topology runs as one task per input partition ("task id" `"{subtopology}_{partition}"`);
repartition topics connect sub-topologies through Kafka.

Internal topic names (repartition topics, changelogs) are written here without the application id;
the runtime prefixes them with `"{application.id}-"`, as Kafka Streams does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from odradek.streams.errors import TopologyException
from odradek.streams.processor import Processor
from odradek.streams.serdes import Serde
from odradek.streams.state.spec import StoreSpec

TimestampExtractor = Callable[[Any, Any, int, int], int]
"""`(key, value, record_timestamp, partition_time) -> timestamp` of an input record."""
Partitioner = Callable[[str, Any, Any, bytes | None, int], int | None]
"""`(topic, key, value, key_bytes, num_partitions) -> partition` (None: the default partitioner)."""
TopicNameExtractor = Callable[[Any, Any, Any], str]
"""`(key, value, record_metadata) -> topic` for dynamic routing in a sink."""


@dataclass
class SourceNode:
    name: str
    topics: tuple[str, ...]
    key_serde: Serde[Any] | None = None
    value_serde: Serde[Any] | None = None
    timestamp_extractor: TimestampExtractor | None = None
    offset_reset: str | None = None
    children: list[str] = field(default_factory=list)
    pattern: re.Pattern[str] | None = None
    """A pattern source (`builder.stream(re.compile(...))`) reads every topic whose whole name
    matches, including topics created while the application runs; `topics` is then empty."""


@dataclass
class ProcessorNode:
    name: str
    supplier: Callable[[], Processor]
    parents: list[str]
    stores: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


@dataclass
class SinkNode:
    name: str
    topic: str | None
    parents: list[str]
    key_serde: Serde[Any] | None = None
    value_serde: Serde[Any] | None = None
    partitioner: Partitioner | None = None
    topic_extractor: TopicNameExtractor | None = None
    children: list[str] = field(default_factory=list)


Node = SourceNode | ProcessorNode | SinkNode


@dataclass
class InternalTopic:
    name: str
    """Without the application id."""
    kind: str
    """'repartition' or 'changelog'."""
    num_partitions: int | None = None
    """Fixed count; None: as many as the upstream source topics (repartition) or the task count."""
    config: dict[str, str] = field(default_factory=dict)


@dataclass
class GlobalStore:
    spec: StoreSpec
    source: str
    topic: str
    processor: str


@dataclass
class Subtopology:
    id: int
    nodes: list[str]
    source_topics: list[str]
    sink_topics: list[str]
    stores: list[str]
    source_patterns: list[re.Pattern[str]] = field(default_factory=list)


class Topology:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.stores: dict[str, StoreSpec] = {}
        self.global_stores: dict[str, GlobalStore] = {}
        self.internal_topics: dict[str, InternalTopic] = {}
        self.copartition_groups: list[set[str]] = []
        self._topic_to_source: dict[str, str] = {}
        self._pattern_sources: dict[str, re.Pattern[str]] = {}
        """source node name -> its pattern"""

    # -- building -------------------------------------------------------------------------------------

    def _check_new(self, name: str) -> None:
        if not name:
            raise TopologyException("a node needs a name")
        if name in self.nodes:
            raise TopologyException(f"a node named {name!r} already exists in this topology")

    def _check_parents(self, name: str, parents: Iterable[str]) -> list[str]:
        found = list(parents)
        if not found:
            raise TopologyException(f"{name!r} needs at least one parent")
        for parent in found:
            node = self.nodes.get(parent)
            if node is None:
                raise TopologyException(f"{name!r}: unknown parent {parent!r}")
            if isinstance(node, SinkNode):
                raise TopologyException(f"{name!r}: a sink ({parent!r}) cannot be a parent")
        return found

    def add_source(
        self,
        name: str,
        *topics: str,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        timestamp_extractor: TimestampExtractor | None = None,
        offset_reset: str | None = None,
        pattern: re.Pattern[str] | str | None = None,
    ) -> Topology:
        """A source reading `topics`, or (with `pattern=`) every topic whose whole name matches."""
        self._check_new(name)
        if pattern is not None:
            if topics:
                raise TopologyException(f"source {name!r}: give topics or a pattern, not both")
            compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
            for other, known in self._pattern_sources.items():
                if known.pattern == compiled.pattern:
                    raise TopologyException(
                        f"pattern {compiled.pattern!r} is already read by source {other!r}"
                    )
            for topic, other in self._topic_to_source.items():
                if compiled.fullmatch(topic):
                    raise TopologyException(
                        f"pattern {compiled.pattern!r} of source {name!r} matches topic {topic!r},"
                        f" which source {other!r} already reads"
                    )
            self._pattern_sources[name] = compiled
            self.nodes[name] = SourceNode(
                name, (), key_serde, value_serde, timestamp_extractor, offset_reset, pattern=compiled
            )
            return self
        if not topics:
            raise TopologyException(f"source {name!r} needs at least one topic")
        for topic in topics:
            if topic in self._topic_to_source:
                raise TopologyException(
                    f"topic {topic!r} is already read by source {self._topic_to_source[topic]!r}"
                )
            for other, known in self._pattern_sources.items():
                if known.fullmatch(topic):
                    raise TopologyException(
                        f"topic {topic!r} is already matched by pattern {known.pattern!r} of source {other!r}"
                    )
        for topic in topics:
            self._topic_to_source[topic] = name
        self.nodes[name] = SourceNode(
            name, tuple(topics), key_serde, value_serde, timestamp_extractor, offset_reset
        )
        return self

    def add_processor(
        self, name: str, supplier: Callable[[], Processor], *parents: str, stores: Iterable[str] = ()
    ) -> Topology:
        self._check_new(name)
        found = self._check_parents(name, parents)
        self.nodes[name] = ProcessorNode(name, supplier, found)
        for parent in found:
            self.nodes[parent].children.append(name)
        self.connect_processor_and_state_stores(name, *stores)
        return self

    def add_sink(
        self,
        name: str,
        topic: str | TopicNameExtractor,
        *parents: str,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        partitioner: Partitioner | None = None,
    ) -> Topology:
        self._check_new(name)
        found = self._check_parents(name, parents)
        if isinstance(topic, str):
            node = SinkNode(name, topic, found, key_serde, value_serde, partitioner)
        else:
            node = SinkNode(name, None, found, key_serde, value_serde, partitioner, topic)
        self.nodes[name] = node
        for parent in found:
            self.nodes[parent].children.append(name)
        return self

    def add_state_store(self, spec: StoreSpec, *processor_names: str) -> Topology:
        if spec.name in self.stores or spec.name in self.global_stores:
            raise TopologyException(f"a state store named {spec.name!r} already exists")
        self.stores[spec.name] = spec
        if spec.logging:
            changelog = f"{spec.name}-changelog"
            self.internal_topics[changelog] = InternalTopic(
                changelog,
                "changelog",
                config={"cleanup.policy": spec.changelog_cleanup_policy(), **spec.log_config},
            )
        self.connect_processor_and_state_stores_many(processor_names, spec.name)
        return self

    def connect_processor_and_state_stores_many(self, processors: Iterable[str], *stores: str) -> None:
        for processor in processors:
            self.connect_processor_and_state_stores(processor, *stores)

    def connect_processor_and_state_stores(self, processor: str, *stores: str) -> Topology:
        node = self.nodes.get(processor)
        if not isinstance(node, ProcessorNode):
            raise TopologyException(f"{processor!r} is not a processor of this topology")
        for store in stores:
            if store not in self.stores and store not in self.global_stores:
                raise TopologyException(f"{processor!r}: unknown state store {store!r}")
            if store not in node.stores:
                node.stores.append(store)
        return self

    def add_global_store(
        self,
        spec: StoreSpec,
        source_name: str,
        topic: str,
        processor_name: str,
        supplier: Callable[[], Processor],
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        timestamp_extractor: TimestampExtractor | None = None,
    ) -> Topology:
        """A store every instance holds in full, filled from `topic` (which is its own changelog)."""
        if spec.name in self.stores or spec.name in self.global_stores:
            raise TopologyException(f"a state store named {spec.name!r} already exists")
        spec.logging = False
        self.add_source(
            source_name,
            topic,
            key_serde=key_serde,
            value_serde=value_serde,
            timestamp_extractor=timestamp_extractor,
        )
        self.global_stores[spec.name] = GlobalStore(spec, source_name, topic, processor_name)
        self.add_processor(processor_name, supplier, source_name)
        node = self.nodes[processor_name]
        assert isinstance(node, ProcessorNode)
        node.stores.append(spec.name)
        return self

    def add_internal_topic(
        self, name: str, kind: str = "repartition", num_partitions: int | None = None
    ) -> None:
        self.internal_topics[name] = InternalTopic(name, kind, num_partitions)

    def copartition(self, topics: Iterable[str]) -> None:
        """Declare that `topics` must have the same partition count (a join's inputs)."""
        group = set(topics)
        merged = [g for g in self.copartition_groups if g & group]
        for g in merged:
            group |= g
            self.copartition_groups.remove(g)
        self.copartition_groups.append(group)

    # -- reading --------------------------------------------------------------------------------------

    def source_for_topic(self, topic: str) -> SourceNode | None:
        """The source reading `topic`: by name, else the pattern source whose pattern matches it."""
        name = self._topic_to_source.get(topic)
        if name is None:
            name = self.pattern_source_of(topic)
        node = self.nodes.get(name) if name else None
        return node if isinstance(node, SourceNode) else None

    def pattern_source_of(self, topic: str) -> str | None:
        """The pattern source whose pattern matches the whole of `topic` (internal topics never match:
        names starting with `__`, as the consumer's `exclude.internal.topics`)."""
        if topic.startswith("__"):
            return None
        for name, pattern in self._pattern_sources.items():
            if pattern.fullmatch(topic):
                return name
        return None

    def source_patterns(self) -> list[re.Pattern[str]]:
        return list(self._pattern_sources.values())

    def pattern_matches(self, topics: Iterable[str]) -> dict[str, list[str]]:
        """Pattern source name -> the given topics it reads (sorted)."""
        out: dict[str, list[str]] = {name: [] for name in self._pattern_sources}
        for topic in sorted(topics):
            if topic in self._topic_to_source:
                continue
            name = self.pattern_source_of(topic)
            if name is not None:
                out[name].append(topic)
        return out

    def global_topics(self) -> set[str]:
        return {g.topic for g in self.global_stores.values()}

    def global_node_names(self) -> set[str]:
        return {n for g in self.global_stores.values() for n in (g.source, g.processor)}

    def subtopologies(self) -> list[Subtopology]:
        """Connected groups of non-global nodes, numbered in the order their first node was added."""
        globals_ = self.global_node_names()
        names = [n for n in self.nodes if n not in globals_]
        parent_of: dict[str, str] = {n: n for n in names}

        def root(n: str) -> str:
            while parent_of[n] != n:
                parent_of[n] = parent_of[parent_of[n]]
                n = parent_of[n]
            return n

        def union(a: str, b: str) -> None:
            ra, rb = root(a), root(b)
            if ra != rb:
                parent_of[max(ra, rb, key=names.index)] = min(ra, rb, key=names.index)

        store_owner: dict[str, str] = {}
        for name in names:
            node = self.nodes[name]
            if isinstance(node, ProcessorNode | SinkNode):
                for parent in node.parents:
                    union(name, parent)
            if isinstance(node, ProcessorNode):
                for store in node.stores:
                    if store in self.global_stores:
                        continue
                    if store in store_owner:
                        union(name, store_owner[store])
                    else:
                        store_owner[store] = name
        groups: dict[str, list[str]] = {}
        for name in names:
            groups.setdefault(root(name), []).append(name)
        result = []
        for i, members in enumerate(groups.values()):
            sources = [t for m in members if isinstance(n := self.nodes[m], SourceNode) for t in n.topics]
            patterns = [
                n.pattern
                for m in members
                if isinstance(n := self.nodes[m], SourceNode) and n.pattern is not None
            ]
            sinks = [
                n.topic for m in members if isinstance(n := self.nodes[m], SinkNode) and n.topic is not None
            ]
            stores: list[str] = []
            for m in members:
                node = self.nodes[m]
                if isinstance(node, ProcessorNode):
                    stores += [s for s in node.stores if s not in stores and s not in self.global_stores]
            result.append(Subtopology(i, members, sources, sinks, stores, patterns))
        return result

    def check_copartitioning(self, partition_counts: Mapping[str, int]) -> None:
        """Raise `TopologyException` unless each co-partition group's known topics agree on partitions."""
        for group in self.copartition_groups:
            counts = {t: partition_counts[t] for t in sorted(group) if t in partition_counts}
            if len(set(counts.values())) > 1:
                listed = ", ".join(f"{t}={n}" for t, n in counts.items())
                raise TopologyException(
                    "topics joined together must have the same number of partitions"
                    f" (co-partitioning): {listed}"
                )

    def describe(self) -> TopologyDescription:
        return TopologyDescription(self)


class TopologyDescription:
    """Prints like Kafka Streams' `TopologyDescription` (`print(topology.describe())`)."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.subtopologies = topology.subtopologies()

    def _node_lines(self, name: str) -> list[str]:
        node = self.topology.nodes[name]
        if isinstance(node, SourceNode) and node.pattern is not None:
            head = f"    Source: {name} (topics: [{node.pattern.pattern}])"
        elif isinstance(node, SourceNode):
            head = f"    Source: {name} (topics: [{', '.join(node.topics)}])"
        elif isinstance(node, ProcessorNode):
            head = f"    Processor: {name} (stores: [{', '.join(node.stores)}])"
        else:
            target = node.topic if node.topic is not None else "<dynamic>"
            head = f"    Sink: {name} (topic: {target})"
        lines = [head]
        if node.children:
            lines.append(f"      --> {', '.join(node.children)}")
        else:
            lines.append("      --> none") if not isinstance(node, SinkNode) else None
        if isinstance(node, ProcessorNode | SinkNode):
            lines.append(f"      <-- {', '.join(node.parents)}")
        return lines

    def __str__(self) -> str:
        out = ["Topologies:"]
        for sub in self.subtopologies:
            out.append(f"   Sub-topology: {sub.id}")
            for name in sub.nodes:
                out += self._node_lines(name)
        for i, (store, g) in enumerate(self.topology.global_stores.items(), start=len(self.subtopologies)):
            out.append(f"   Sub-topology: {i} for global store (will not generate tasks)")
            out.append(f"    Source: {g.source} (topics: [{g.topic}])")
            out.append(f"      --> {g.processor}")
            out.append(f"    Processor: {g.processor} (stores: [{store}])")
            out.append("      --> none")
            out.append(f"      <-- {g.source}")
        return "\n".join(out) + "\n"

    __repr__ = __str__
