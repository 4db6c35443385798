"""`StreamsBuilder`: the entry point of the DSL.

    builder = StreamsBuilder()
    counts = (builder.stream("text", value_serde=Serdes.STRING)
              .flat_map_values(str.split)
              .group_by(lambda _, word: word, key_serde=Serdes.STRING)
              .count(materialized="counts"))
    counts.to_stream().to("word-counts", value_serde=Serdes.LONG)
    topology = builder.build()
    print(topology.describe())

Node names follow Kafka Streams (`KSTREAM-FILTER-0000000002`) unless an operator gets `name=`.
Internal topics and stores take the operator's name, so naming stateful operators keeps their state
and repartition topics stable when the topology changes; `StreamsBuilder(explicit_internal_names=True)`
enforces that (KIP-1111): an unnamed repartition topic, changelog or store raises `TopologyException`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from odradek.streams.dsl.options import Materialized
from odradek.streams.errors import TopologyException
from odradek.streams.operators.table import TableSourceProcessor, ValueGetterSupplier
from odradek.streams.serdes import Serde
from odradek.streams.state.spec import StoreKind, Stores, StoreSpec
from odradek.streams.topology import TimestampExtractor, Topology

if TYPE_CHECKING:
    from odradek.streams.dsl.kstream import KStream
    from odradek.streams.dsl.ktable import GlobalKTable, KTable


class StreamsBuilder:
    def __init__(self, explicit_internal_names: bool = False) -> None:
        self.topology = Topology()
        self.explicit_internal_names = explicit_internal_names
        self._index = 0
        self._built = False

    # -- naming ---------------------------------------------------------------------------------------

    def new_name(self, prefix: str) -> str:
        name = f"{prefix}{self._index:010d}"
        self._index += 1
        return name

    def node_name(self, explicit: str | None, prefix: str) -> str:
        return explicit if explicit else self.new_name(prefix)

    def internal_name(self, explicit: str | None, prefix: str, what: str) -> str:
        """A name for a store or internal topic: explicit, or generated (refused under KIP-1111)."""
        if explicit:
            return explicit
        if self.explicit_internal_names:
            raise TopologyException(
                f"{what} needs an explicit name (name= or materialized=) when explicit_internal_names is on"
            )
        return self.new_name(prefix)

    def store_spec(
        self,
        materialized: Materialized,
        kind: StoreKind,
        prefix: str,
        key_serde: Serde[Any] | None,
        value_serde: Serde[Any] | None,
        what: str = "a state store",
        versioned_ok: bool = False,
    ) -> StoreSpec:
        name = self.internal_name(materialized.name, prefix, what)
        if materialized.history_retention_ms is not None:
            if not versioned_ok:
                raise TopologyException(
                    f"store {name!r}: only source tables (builder.table, KStream.to_table) can be"
                    " materialized as versioned stores"
                )
            return Stores.persistent_versioned_key_value_store(
                name,
                materialized.history_retention_ms,
                materialized.key_serde or key_serde,
                materialized.value_serde or value_serde,
                persistent=materialized.persistent,
                logging=materialized.logging,
            )
        return StoreSpec(
            name,
            kind,
            materialized.key_serde or key_serde,
            materialized.value_serde or value_serde,
            persistent=materialized.persistent,
            logging=materialized.logging,
        )

    # -- sources --------------------------------------------------------------------------------------

    def stream(
        self,
        topics: str | Iterable[str] | re.Pattern[str],
        *,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        timestamp_extractor: TimestampExtractor | None = None,
        offset_reset: str | None = None,
        name: str | None = None,
    ) -> KStream:
        """A stream of the records of `topics`; a compiled pattern (`re.compile("orders-.*")`) reads every
        topic whose whole name matches, including topics created while the application runs
        (Kafka Streams' `stream(Pattern)`)."""
        from odradek.streams.dsl.kstream import KStream

        node = self.node_name(name, "KSTREAM-SOURCE-")
        if isinstance(topics, re.Pattern):
            self.topology.add_source(
                node,
                key_serde=key_serde,
                value_serde=value_serde,
                timestamp_extractor=timestamp_extractor,
                offset_reset=offset_reset,
                pattern=topics,
            )
            return KStream(self, node, key_serde, value_serde, frozenset(), False)
        names = (topics,) if isinstance(topics, str) else tuple(topics)
        self.topology.add_source(
            node,
            *names,
            key_serde=key_serde,
            value_serde=value_serde,
            timestamp_extractor=timestamp_extractor,
            offset_reset=offset_reset,
        )
        return KStream(self, node, key_serde, value_serde, frozenset(names), False)

    def table(
        self,
        topic: str,
        *,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        materialized: Materialized | str | StoreSpec | None = None,
        timestamp_extractor: TimestampExtractor | None = None,
        name: str | None = None,
    ) -> KTable:
        """A table from a (compacted) topic, materialized in a store (the table's queryable state).
        With a versioned store (`materialized=Stores.persistent_versioned_key_value_store(name, ms)`
        or `Materialized(history_retention_ms=)`), stream-table joins read the table as of each
        stream record's timestamp (KIP-914)."""
        from odradek.streams.dsl.ktable import KTable

        mat = Materialized.coerce(materialized)
        source = self.node_name(name, "KSTREAM-SOURCE-")
        self.topology.add_source(
            source,
            topic,
            key_serde=mat.key_serde or key_serde,
            value_serde=mat.value_serde or value_serde,
            timestamp_extractor=timestamp_extractor,
        )
        spec = self.store_spec(
            mat,
            StoreKind.TIMESTAMPED_KEY_VALUE,
            f"{topic}-STATE-STORE-",
            key_serde,
            value_serde,
            versioned_ok=True,
        )
        node = self.new_name("KTABLE-SOURCE-")
        self.topology.add_processor(node, lambda: TableSourceProcessor(spec.name), source)
        self.topology.add_state_store(spec, node)
        return KTable(
            self,
            node,
            mat.key_serde or key_serde,
            mat.value_serde or value_serde,
            frozenset([topic]),
            spec.name,
            ValueGetterSupplier.from_store(spec.name),
        )

    def global_table(
        self,
        topic: str,
        *,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        materialized: Materialized | str | None = None,
        name: str | None = None,
    ) -> GlobalKTable:
        """A table every instance holds in full (all partitions of `topic`), for joins by any key."""
        from odradek.streams.dsl.ktable import GlobalKTable

        mat = Materialized.coerce(materialized)
        spec = self.store_spec(
            mat, StoreKind.TIMESTAMPED_KEY_VALUE, f"{topic}-STATE-STORE-", key_serde, value_serde
        )
        source = self.node_name(name, "KSTREAM-SOURCE-")
        processor = self.new_name("KTABLE-SOURCE-")
        self.topology.add_global_store(
            spec,
            source,
            topic,
            processor,
            lambda: TableSourceProcessor(spec.name),
            key_serde=mat.key_serde or key_serde,
            value_serde=mat.value_serde or value_serde,
        )
        return GlobalKTable(spec.name, topic)

    def add_state_store(self, spec: StoreSpec) -> StreamsBuilder:
        """A store for `KStream.process(..., stores=[name])`."""
        self.topology.add_state_store(spec)
        return self

    def build(self, partition_counts: Mapping[str, int] | None = None) -> Topology:
        """The topology. With the partition counts of its topics (when known at build time), joins
        and cogroups are checked for co-partitioning now; `KafkaStreams.start()` checks it anyway
        against the cluster's real counts."""
        if partition_counts is not None:
            self.topology.check_copartitioning(partition_counts)
        return self.topology
