"""`KStream`: an unbounded stream of independent records."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from odradek.streams.dsl.options import Materialized, Repartitioned
from odradek.streams.errors import TopologyException
from odradek.streams.internal_serdes import PairSerde
from odradek.streams.operators import stateless as ops
from odradek.streams.operators.stream_joins import (
    OuterKeySerde,
    StreamStreamJoinProcessor,
    StreamTableJoinProcessor,
)
from odradek.streams.operators.table import StreamToTableProcessor, ValueGetterSupplier
from odradek.streams.processor import Processor
from odradek.streams.serdes import Serde, Serdes
from odradek.streams.state.spec import StoreKind, StoreSpec
from odradek.streams.topology import Partitioner, TopicNameExtractor
from odradek.streams.windows import JoinWindows

if TYPE_CHECKING:
    from odradek.streams.dsl.builder import StreamsBuilder
    from odradek.streams.dsl.grouped import KGroupedStream
    from odradek.streams.dsl.ktable import GlobalKTable, KTable


class KStream:
    def __init__(
        self,
        builder: StreamsBuilder,
        node: str,
        key_serde: Serde[Any] | None,
        value_serde: Serde[Any] | None,
        source_topics: frozenset[str],
        repartition_required: bool,
    ) -> None:
        self.builder = builder
        self.node = node
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.source_topics = source_topics
        self.repartition_required = repartition_required

    def _add(
        self,
        prefix: str,
        supplier: Callable[[], Processor],
        name: str | None,
        *,
        key_changed: bool = False,
        key_serde: Any = ...,
        value_serde: Any = ...,
        stores: Iterable[str] = (),
    ) -> KStream:
        node = self.builder.node_name(name, prefix)
        self.builder.topology.add_processor(node, supplier, self.node, stores=stores)
        if key_serde is ...:
            key_serde = None if key_changed else self.key_serde
        return KStream(
            self.builder,
            node,
            key_serde,
            self.value_serde if value_serde is ... else value_serde,
            self.source_topics,
            self.repartition_required or key_changed,
        )

    # -- stateless ------------------------------------------------------------------------------------

    def filter(self, predicate: Callable[[Any, Any], bool], name: str | None = None) -> KStream:
        return self._add("KSTREAM-FILTER-", lambda: ops.FilterProcessor(predicate, False), name)

    def filter_not(self, predicate: Callable[[Any, Any], bool], name: str | None = None) -> KStream:
        return self._add("KSTREAM-FILTER-", lambda: ops.FilterProcessor(predicate, True), name)

    def map(self, mapper: Callable[[Any, Any], tuple[Any, Any]], name: str | None = None) -> KStream:
        """`mapper(key, value) -> (new_key, new_value)`; a later grouping or join repartitions."""
        return self._add(
            "KSTREAM-MAP-", lambda: ops.MapProcessor(mapper), name, key_changed=True, value_serde=None
        )

    def map_values(
        self, mapper: Callable[..., Any], with_key: bool = False, name: str | None = None
    ) -> KStream:
        """`mapper(value)` (or `mapper(key, value)` with `with_key=True`) -> new value."""
        return self._add(
            "KSTREAM-MAPVALUES-", lambda: ops.MapValuesProcessor(mapper, with_key), name, value_serde=None
        )

    def flat_map(
        self, mapper: Callable[[Any, Any], Iterable[tuple[Any, Any]]], name: str | None = None
    ) -> KStream:
        return self._add(
            "KSTREAM-FLATMAP-", lambda: ops.FlatMapProcessor(mapper), name, key_changed=True, value_serde=None
        )

    def flat_map_values(
        self, mapper: Callable[..., Iterable[Any]], with_key: bool = False, name: str | None = None
    ) -> KStream:
        """`mapper(value) -> iterable of values`; an empty result (or None) drops the record. The seed's
        pattern: return `[]` for a record that does not parse, instead of failing the application."""
        return self._add(
            "KSTREAM-FLATMAPVALUES-",
            lambda: ops.FlatMapValuesProcessor(mapper, with_key),
            name,
            value_serde=None,
        )

    def select_key(self, mapper: Callable[[Any, Any], Any], name: str | None = None) -> KStream:
        return self._add(
            "KSTREAM-KEY-SELECT-", lambda: ops.SelectKeyProcessor(mapper), name, key_changed=True
        )

    def peek(self, action: Callable[[Any, Any], Any], name: str | None = None) -> KStream:
        return self._add("KSTREAM-PEEK-", lambda: ops.PeekProcessor(action, True), name)

    def foreach(self, action: Callable[[Any, Any], Any], name: str | None = None) -> None:
        self._add("KSTREAM-FOREACH-", lambda: ops.PeekProcessor(action, False), name)

    def merge(self, other: KStream, name: str | None = None) -> KStream:
        node = self.builder.node_name(name, "KSTREAM-MERGE-")
        self.builder.topology.add_processor(node, ops.PassThroughProcessor, self.node, other.node)
        same_serdes = self.value_serde is other.value_serde
        return KStream(
            self.builder,
            node,
            self.key_serde if self.key_serde is other.key_serde else None,
            self.value_serde if same_serdes else None,
            self.source_topics | other.source_topics,
            self.repartition_required or other.repartition_required,
        )

    def split(self, name: str | None = None) -> BranchedKStream:
        """`split().branch(pred, name="a").branch(pred2, name="b").default_branch()` -> dict of streams."""
        return BranchedKStream(self, name or self.builder.new_name("KSTREAM-BRANCH-"))

    def branch(self, *predicates: Callable[[Any, Any], bool]) -> list[KStream]:
        """The older form: one stream per predicate; a record goes to the first that holds."""
        split = self.split()
        for i, predicate in enumerate(predicates):
            split.branch(predicate, name=str(i))
        return list(split.no_default_branch().values())

    def process(
        self,
        supplier: Callable[[], Processor],
        stores: Iterable[str] = (),
        name: str | None = None,
    ) -> KStream:
        """A Processor API processor (a `Processor` subclass or any zero-argument factory of one)."""
        return self._add(
            "KSTREAM-PROCESSOR-", supplier, name, key_changed=True, value_serde=None, stores=stores
        )

    # -- sinks and repartitioning ---------------------------------------------------------------------

    def to(
        self,
        topic: str | TopicNameExtractor,
        *,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        partitioner: Partitioner | None = None,
        name: str | None = None,
    ) -> None:
        node = self.builder.node_name(name, "KSTREAM-SINK-")
        self.builder.topology.add_sink(
            node,
            topic,
            self.node,
            key_serde=key_serde or self.key_serde,
            value_serde=value_serde or self.value_serde,
            partitioner=partitioner,
        )

    def through(
        self,
        topic: str,
        *,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        partitioner: Partitioner | None = None,
    ) -> KStream:
        """Write to `topic` and read it back (a user-managed repartition)."""
        self.to(topic, key_serde=key_serde, value_serde=value_serde, partitioner=partitioner)
        return self.builder.stream(
            topic, key_serde=key_serde or self.key_serde, value_serde=value_serde or self.value_serde
        )

    def repartition(
        self,
        repartitioned: Repartitioned | None = None,
        *,
        name: str | None = None,
        num_partitions: int | None = None,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        partitioner: Partitioner | None = None,
    ) -> KStream:
        """Through an internal topic `{application.id}-{name}-repartition` the runtime creates."""
        r = repartitioned or Repartitioned(name, num_partitions, key_serde, value_serde, partitioner)
        base = self.builder.internal_name(r.name, "KSTREAM-REPARTITION-", "a repartition topic")
        return self._through_internal(
            base,
            r.key_serde or self.key_serde,
            r.value_serde or self.value_serde,
            r.num_partitions,
            r.partitioner,
        )

    def _through_internal(
        self,
        base: str,
        key_serde: Serde[Any] | None,
        value_serde: Serde[Any] | None,
        num_partitions: int | None = None,
        partitioner: Partitioner | None = None,
    ) -> KStream:
        topology = self.builder.topology
        topic = f"{base}-repartition"
        topology.add_internal_topic(topic, "repartition", num_partitions)
        keyed = f"{base}-repartition-filter"
        topology.add_processor(
            keyed, lambda: ops.FilterProcessor(lambda k, v: k is not None, False), self.node
        )
        topology.add_sink(
            f"{base}-repartition-sink",
            topic,
            keyed,
            key_serde=key_serde,
            value_serde=value_serde,
            partitioner=partitioner,
        )
        source = f"{base}-repartition-source"
        topology.add_source(source, topic, key_serde=key_serde, value_serde=value_serde)
        return KStream(self.builder, source, key_serde, value_serde, frozenset([topic]), False)

    def _repartitioned_if_needed(self, base_hint: str | None, prefix: str) -> KStream:
        if not self.repartition_required:
            return self
        base = self.builder.internal_name(base_hint, prefix, "a repartition topic")
        return self._through_internal(base, self.key_serde, self.value_serde)

    # -- grouping -------------------------------------------------------------------------------------

    def group_by_key(
        self,
        *,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        name: str | None = None,
    ) -> KGroupedStream:
        from odradek.streams.dsl.grouped import KGroupedStream

        return KGroupedStream(
            self,
            key_serde or self.key_serde,
            value_serde or self.value_serde,
            name,
            self.repartition_required,
        )

    def group_by(
        self,
        selector: Callable[[Any, Any], Any],
        *,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        name: str | None = None,
    ) -> KGroupedStream:
        """Re-key with `selector(key, value)`; the aggregation reads through a repartition topic."""
        stream = self.select_key(selector)
        stream.key_serde = key_serde
        return stream.group_by_key(key_serde=key_serde, value_serde=value_serde, name=name)

    def to_table(
        self, materialized: Materialized | str | StoreSpec | None = None, name: str | None = None
    ) -> KTable:
        from odradek.streams.dsl.ktable import KTable

        mat = Materialized.coerce(materialized)
        stream = self._repartitioned_if_needed(name or mat.name, "KSTREAM-TOTABLE-")
        spec = stream.builder.store_spec(
            mat,
            StoreKind.TIMESTAMPED_KEY_VALUE,
            "KSTREAM-TOTABLE-STATE-STORE-",
            stream.key_serde,
            stream.value_serde,
            versioned_ok=True,
        )
        node = self.builder.node_name(name, "KSTREAM-TOTABLE-")
        self.builder.topology.add_processor(node, lambda: StreamToTableProcessor(spec.name), stream.node)
        self.builder.topology.add_state_store(spec, node)
        return KTable(
            self.builder,
            node,
            mat.key_serde or stream.key_serde,
            mat.value_serde or stream.value_serde,
            stream.source_topics,
            spec.name,
            ValueGetterSupplier.from_store(spec.name),
        )

    # -- joins ----------------------------------------------------------------------------------------

    def join(
        self, other: Any, joiner: Callable[..., Any], windows: JoinWindows | None = None, **kwargs: Any
    ) -> KStream:
        return self._join(other, joiner, windows, "inner", **kwargs)

    def left_join(
        self, other: Any, joiner: Callable[..., Any], windows: JoinWindows | None = None, **kwargs: Any
    ) -> KStream:
        return self._join(other, joiner, windows, "left", **kwargs)

    def outer_join(
        self, other: KStream, joiner: Callable[[Any, Any], Any], windows: JoinWindows, **kwargs: Any
    ) -> KStream:
        return self._join(other, joiner, windows, "outer", **kwargs)

    def _join(
        self, other: Any, joiner: Callable[..., Any], windows: JoinWindows | None, kind: str, **kwargs: Any
    ) -> KStream:
        from odradek.streams.dsl.ktable import GlobalKTable, KTable

        if isinstance(other, KStream):
            if windows is None:
                raise TopologyException("a stream-stream join needs JoinWindows")
            return self._stream_stream_join(other, joiner, windows, kind, **kwargs)
        if isinstance(other, KTable):
            if kind == "outer":
                raise TopologyException("a stream-table join is inner or left, never outer")
            return self._stream_table_join(other, joiner, kind == "left", **kwargs)
        if isinstance(other, GlobalKTable):
            key_mapper = kwargs.pop("key_mapper", None)
            if key_mapper is None:
                raise TopologyException(
                    "a stream-global-table join needs key_mapper=(key, value) -> table key"
                )
            return self._stream_global_join(other, key_mapper, joiner, kind == "left", **kwargs)
        raise TopologyException(f"cannot join a stream with {type(other).__name__}")

    def _stream_stream_join(
        self,
        other: KStream,
        joiner: Callable[[Any, Any], Any],
        windows: JoinWindows,
        kind: str,
        name: str | None = None,
        other_value_serde: Serde[Any] | None = None,
        persistent: bool = True,
        logging: bool = True,
    ) -> KStream:
        builder = self.builder
        base = builder.internal_name(name, "KSTREAM-JOIN-", "a stream-stream join's stores")
        left = self._repartitioned_if_needed(f"{base}-left" if name else None, "KSTREAM-JOIN-LEFT-")
        right = other._repartitioned_if_needed(f"{base}-right" if name else None, "KSTREAM-JOIN-RIGHT-")
        builder.topology.copartition(left.source_topics | right.source_topics)
        retention = windows.retention_ms()
        size = windows.size_ms()
        right_serde = other_value_serde or right.value_serde
        this_spec = StoreSpec(
            f"{base}-this-join-store",
            StoreKind.WINDOW,
            left.key_serde,
            left.value_serde,
            persistent,
            logging,
            retention_ms=retention,
            window_size_ms=size,
            retain_duplicates=True,
        )
        other_spec = StoreSpec(
            f"{base}-other-join-store",
            StoreKind.WINDOW,
            right.key_serde,
            right_serde,
            persistent,
            logging,
            retention_ms=retention,
            window_size_ms=size,
            retain_duplicates=True,
        )
        outer_name = None
        if kind != "inner":
            outer_name = f"{base}-outer-shared-join-store"
        this_node, other_node = f"{base}-this-join", f"{base}-other-join"
        topology = builder.topology
        topology.add_processor(
            this_node,
            lambda: StreamStreamJoinProcessor(
                this_spec.name, other_spec.name, outer_name, windows, joiner, True, kind in ("left", "outer")
            ),
            left.node,
        )
        topology.add_processor(
            other_node,
            lambda: StreamStreamJoinProcessor(
                other_spec.name, this_spec.name, outer_name, windows, joiner, False, kind == "outer"
            ),
            right.node,
        )
        topology.add_state_store(this_spec, this_node, other_node)
        topology.add_state_store(other_spec, this_node, other_node)
        if outer_name is not None:
            outer_spec = StoreSpec(
                outer_name,
                StoreKind.KEY_VALUE,
                OuterKeySerde(left.key_serde),
                PairSerde(left.value_serde, right_serde),
                persistent,
                logging,
            )
            topology.add_state_store(outer_spec, this_node, other_node)
        merge = f"{base}-merge"
        topology.add_processor(merge, ops.PassThroughProcessor, this_node, other_node)
        return KStream(builder, merge, left.key_serde, None, left.source_topics | right.source_topics, False)

    def _stream_table_join(
        self,
        table: KTable,
        joiner: Callable[..., Any],
        left: bool,
        name: str | None = None,
        joiner_with_key: bool = False,
        grace_ms: int | None = None,
    ) -> KStream:
        """`grace_ms` (KIP-923, a versioned table only): stream records wait in a buffer until stream
        time passes their timestamp + grace, then join in timestamp order, so a table update that
        arrives late, within the grace, is still seen."""
        stream = self._repartitioned_if_needed(f"{name}-left" if name else None, "KSTREAM-JOIN-")
        self.builder.topology.copartition(stream.source_topics | table.source_topics)
        getter = table.value_getter()
        stores = list(getter.stores)
        buffer: str | None = None
        if grace_ms is not None:
            specs = [self.builder.topology.stores.get(s) for s in getter.stores]
            versioned = [s for s in specs if s is not None and s.kind is StoreKind.VERSIONED_KEY_VALUE]
            if not versioned:
                raise TopologyException("a stream-table join with a grace period needs a versioned table")
            if grace_ms < 0 or grace_ms > versioned[0].history_retention_ms:
                raise TopologyException(
                    f"the join's grace period ({grace_ms} ms) must be between 0 and the table's history"
                    f" retention ({versioned[0].history_retention_ms} ms)"
                )
            buffer = self.builder.internal_name(
                f"{name}-Buffer" if name else None, "KSTREAM-JOIN-BUFFER-", "a join grace buffer"
            )
            self.builder.topology.add_state_store(
                StoreSpec(
                    buffer,
                    StoreKind.KEY_VALUE,
                    OuterKeySerde(Serdes.LONG),
                    PairSerde(stream.key_serde, stream.value_serde),
                )
            )
            stores.append(buffer)
        return stream._add(
            "KSTREAM-LEFTJOIN-" if left else "KSTREAM-JOIN-",
            lambda: StreamTableJoinProcessor(
                getter, joiner, left, None, joiner_with_key, grace_ms=grace_ms, buffer=buffer
            ),
            name,
            value_serde=None,
            stores=stores,
        )

    def _stream_global_join(
        self,
        table: GlobalKTable,
        key_mapper: Callable[[Any, Any], Any],
        joiner: Callable[..., Any],
        left: bool,
        name: str | None = None,
        joiner_with_key: bool = False,
    ) -> KStream:
        getter = ValueGetterSupplier.from_store(table.store_name)
        return self._add(
            "KSTREAM-LEFTJOIN-" if left else "KSTREAM-JOIN-",
            lambda: StreamTableJoinProcessor(getter, joiner, left, key_mapper, joiner_with_key),
            name,
            value_serde=None,
            stores=[table.store_name],
        )


class BranchedKStream:
    def __init__(self, stream: KStream, name: str) -> None:
        self.stream = stream
        self.name = name
        self.predicates: list[Callable[[Any, Any], bool] | None] = []
        self.children: list[str] = []
        self.chains: list[Callable[[KStream], Any] | None] = []
        self.node = stream.builder.topology
        self._built = False

    def branch(
        self,
        predicate: Callable[[Any, Any], bool],
        name: str | None = None,
        chain: Callable[[KStream], Any] | None = None,
    ) -> BranchedKStream:
        self.predicates.append(predicate)
        self.children.append(f"{self.name}-{name if name is not None else len(self.children) + 1}")
        self.chains.append(chain)
        return self

    def default_branch(
        self, name: str | None = None, chain: Callable[[KStream], Any] | None = None
    ) -> dict[str, Any]:
        self.predicates.append(None)
        self.children.append(f"{self.name}-{name if name is not None else '0'}")
        self.chains.append(chain)
        return self._build()

    def no_default_branch(self) -> dict[str, Any]:
        return self._build()

    def _build(self) -> dict[str, Any]:
        if self._built:
            raise TopologyException("this split() was already finished")
        self._built = True
        topology = self.stream.builder.topology
        predicates, children = list(self.predicates), list(self.children)
        topology.add_processor(self.name, lambda: ops.BranchProcessor(predicates, children), self.stream.node)
        out: dict[str, Any] = {}
        for child, chain in zip(children, self.chains, strict=True):
            topology.add_processor(child, ops.PassThroughProcessor, self.name)
            branch = KStream(
                self.stream.builder,
                child,
                self.stream.key_serde,
                self.stream.value_serde,
                self.stream.source_topics,
                self.stream.repartition_required,
            )
            out[child] = chain(branch) if chain is not None else branch
        return out
