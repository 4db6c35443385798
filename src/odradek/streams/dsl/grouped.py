"""Grouped streams and tables, and their windowed forms: where aggregations are declared."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from odradek.streams.dsl.ktable import KTable
from odradek.streams.dsl.options import EmitStrategy, Materialized
from odradek.streams.internal_serdes import ChangeSerde, WindowedSerde
from odradek.streams.operators import aggregate as agg
from odradek.streams.operators.session import SessionWindowedAggregateProcessor
from odradek.streams.operators.sliding import SlidingWindowedAggregateProcessor
from odradek.streams.operators.stateless import PassThroughProcessor
from odradek.streams.operators.table import ValueGetterSupplier
from odradek.streams.operators.windowed import LATE_CHILD, TimeWindowedAggregateProcessor, _sum
from odradek.streams.processor import Processor
from odradek.streams.serdes import Serde, Serdes
from odradek.streams.state.spec import StoreKind, StoreSpec
from odradek.streams.windows import SessionWindows, SlidingWindows, TimeWindows

if TYPE_CHECKING:
    from odradek.streams.dsl.builder import StreamsBuilder
    from odradek.streams.dsl.kstream import KStream


def _count_aggregator(_key: Any, _value: Any, agg: int) -> int:
    return agg + 1


_sum_merger = _sum


class KGroupedStream:
    def __init__(
        self,
        stream: KStream,
        key_serde: Serde[Any] | None,
        value_serde: Serde[Any] | None,
        name: str | None,
        repartition_required: bool,
    ) -> None:
        self.stream = stream
        self.builder: StreamsBuilder = stream.builder
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.name = name
        self.repartition_required = repartition_required

    def _input(self, store_name: str) -> KStream:
        """The stream to aggregate: through `{name or store}-repartition` when the key changed upstream."""
        if not self.repartition_required:
            return self.stream
        return self.stream._through_internal(self.name or store_name, self.key_serde, self.value_serde)

    def _aggregate(
        self,
        prefix: str,
        supplier: Callable[[str], Processor],
        materialized: Materialized | str | None,
        value_serde: Serde[Any] | None,
        name: str | None,
    ) -> KTable:
        mat = Materialized.coerce(materialized)
        builder = self.builder
        spec = builder.store_spec(
            mat, StoreKind.TIMESTAMPED_KEY_VALUE, f"{prefix}STATE-STORE-", self.key_serde, value_serde
        )
        source = self._input(spec.name)
        node = builder.node_name(name, prefix)
        builder.topology.add_processor(node, lambda: supplier(spec.name), source.node)
        builder.topology.add_state_store(spec, node)
        return KTable(
            builder,
            node,
            mat.key_serde or self.key_serde,
            mat.value_serde or value_serde,
            source.source_topics,
            spec.name,
            ValueGetterSupplier.from_store(spec.name),
        )

    def count(self, materialized: Materialized | str | None = None, name: str | None = None) -> KTable:
        caching = Materialized.coerce(materialized).caching
        return self._aggregate(
            "KSTREAM-AGGREGATE-",
            lambda store: agg.StreamCountProcessor(store, caching),
            materialized,
            Serdes.LONG,
            name,
        )

    def reduce(
        self,
        reducer: Callable[[Any, Any], Any],
        materialized: Materialized | str | None = None,
        name: str | None = None,
    ) -> KTable:
        caching = Materialized.coerce(materialized).caching
        return self._aggregate(
            "KSTREAM-REDUCE-",
            lambda store: agg.StreamReduceProcessor(store, reducer, caching),
            materialized,
            self.value_serde,
            name,
        )

    def aggregate(
        self,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        materialized: Materialized | str | None = None,
        name: str | None = None,
    ) -> KTable:
        """`aggregator(key, value, aggregate) -> new aggregate`, starting from `initializer()`."""
        caching = Materialized.coerce(materialized).caching
        return self._aggregate(
            "KSTREAM-AGGREGATE-",
            lambda store: agg.StreamAggregateProcessor(store, initializer, aggregator, caching),
            materialized,
            None,
            name,
        )

    def windowed_by(self, windows: TimeWindows | SlidingWindows | SessionWindows) -> Any:
        if isinstance(windows, TimeWindows):
            return TimeWindowedKStream(self, windows)
        if isinstance(windows, SlidingWindows):
            return SlidingWindowedKStream(self, windows)
        return SessionWindowedKStream(self, windows)

    def cogroup(self, aggregator: Callable[[Any, Any, Any], Any]) -> CogroupedKStream:
        return CogroupedKStream(self.builder).cogroup(self, aggregator)


class _WindowedBase:
    def __init__(self, grouped: KGroupedStream, windows: Any) -> None:
        self.grouped = grouped
        self.windows = windows
        self.emit = EmitStrategy.ON_WINDOW_UPDATE

    def emit_strategy(self, strategy: EmitStrategy | str) -> Any:
        """`EmitStrategy.ON_WINDOW_CLOSE` ("EMIT FINAL", KIP-825): one result per window, when it closes."""
        self.emit = EmitStrategy(strategy)
        return self

    def _build(
        self,
        prefix: str,
        make: Callable[[str, bool], Processor],
        spec_of: Callable[[str], StoreSpec],
        extra_specs: list[StoreSpec],
        materialized: Materialized | str | None,
        value_serde: Serde[Any] | None,
        name: str | None,
        late_records_topic: str | None,
    ) -> KTable:
        grouped = self.grouped
        builder = grouped.builder
        mat = Materialized.coerce(materialized)
        store_name = builder.internal_name(mat.name, f"{prefix}STATE-STORE-", "a window store")
        spec = spec_of(store_name)
        spec.key_serde = mat.key_serde or grouped.key_serde
        spec.value_serde = mat.value_serde or value_serde
        spec.persistent, spec.logging = mat.persistent, mat.logging
        if mat.retention_ms is not None:
            if mat.retention_ms < spec.retention_ms:
                from odradek.streams.errors import TopologyException

                raise TopologyException(
                    f"retention of {store_name!r} ({mat.retention_ms} ms) must be at least"
                    f" window size + grace"
                    f" ({spec.retention_ms} ms)"
                )
            spec.retention_ms = mat.retention_ms
        source = grouped._input(store_name)
        node = builder.node_name(name, prefix)
        late = late_records_topic is not None
        builder.topology.add_processor(node, lambda: make(store_name, late), source.node)
        builder.topology.add_state_store(spec, node)
        for extra in extra_specs:
            builder.topology.add_state_store(extra, node)
        if late_records_topic is not None:
            builder.topology.add_processor(f"{node}-{LATE_CHILD}", PassThroughProcessor, node)
            builder.topology.add_sink(
                f"{node}-late-sink",
                late_records_topic,
                f"{node}-{LATE_CHILD}",
                key_serde=grouped.key_serde,
                value_serde=grouped.value_serde,
            )
        return KTable(
            builder,
            node,
            WindowedSerde(mat.key_serde or grouped.key_serde),
            mat.value_serde or value_serde,
            source.source_topics,
            store_name,
            ValueGetterSupplier.from_store(store_name),
            self.windows,
        )


class TimeWindowedKStream(_WindowedBase):
    """Tumbling and hopping windows. count/reduce (and aggregate with `merger`) run on panes."""

    windows: TimeWindows

    def _spec(self, merger: Callable[[Any, Any, Any], Any] | None) -> Callable[[str], StoreSpec]:
        w = self.windows
        retention = max(w.retention_ms(), 1)

        def spec_of(name: str) -> StoreSpec:
            spec = StoreSpec(
                name,
                StoreKind.WINDOW,
                retention_ms=retention,
                window_size_ms=w.pane_ms if merger is not None else w.size_ms,
            )
            if merger is not None and w.pane_ms != w.size_ms:
                spec.panes = (w, merger)
            return spec

        return spec_of

    def aggregate(
        self,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        merger: Callable[[Any, Any, Any], Any] | None = None,
        materialized: Materialized | str | None = None,
        name: str | None = None,
        late_records_topic: str | None = None,
    ) -> KTable:
        """With `merger(key, agg1, agg2)` (combining two partial aggregates) hopping windows run on panes."""
        final = self.emit is EmitStrategy.ON_WINDOW_CLOSE
        caching = Materialized.coerce(materialized).caching
        w = self.windows
        return self._build(
            "KSTREAM-AGGREGATE-",
            lambda store, late: TimeWindowedAggregateProcessor(
                store, w, initializer, aggregator, merger, final, late, caching
            ),
            self._spec(merger),
            [],
            materialized,
            None,
            name,
            late_records_topic,
        )

    def count(
        self,
        materialized: Materialized | str | None = None,
        name: str | None = None,
        late_records_topic: str | None = None,
    ) -> KTable:
        final = self.emit is EmitStrategy.ON_WINDOW_CLOSE
        caching = Materialized.coerce(materialized).caching
        w = self.windows
        return self._build(
            "KSTREAM-AGGREGATE-",
            lambda store, late: TimeWindowedAggregateProcessor(
                store, w, lambda: 0, _count_aggregator, _sum_merger, final, late, caching
            ),
            self._spec(_sum_merger),
            [],
            materialized,
            Serdes.LONG,
            name,
            late_records_topic,
        )

    def reduce(
        self,
        reducer: Callable[[Any, Any], Any],
        materialized: Materialized | str | None = None,
        name: str | None = None,
        late_records_topic: str | None = None,
    ) -> KTable:
        final = self.emit is EmitStrategy.ON_WINDOW_CLOSE
        caching = Materialized.coerce(materialized).caching
        w = self.windows

        def aggregator(_k: Any, value: Any, agg_: Any) -> Any:
            return value if agg_ is None else reducer(agg_, value)

        def merger(_k: Any, a: Any, b: Any) -> Any:
            return reducer(a, b)

        return self._build(
            "KSTREAM-REDUCE-",
            lambda store, late: TimeWindowedAggregateProcessor(
                store, w, lambda: None, aggregator, merger, final, late, caching
            ),
            self._spec(merger),
            [],
            materialized,
            self.grouped.value_serde,
            name,
            late_records_topic,
        )


class SlidingWindowedKStream(_WindowedBase):
    windows: SlidingWindows

    def aggregate(
        self,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        materialized: Materialized | str | None = None,
        name: str | None = None,
        late_records_topic: str | None = None,
        value_serde: Serde[Any] | None = None,
    ) -> KTable:
        w = self.windows
        grouped = self.grouped
        caching = Materialized.coerce(materialized).caching
        mat = Materialized.coerce(materialized)
        buffer = StoreSpec(
            f"{mat.name or grouped.builder.new_name('KSTREAM-SLIDING-BUFFER-')}-buffer",
            StoreKind.WINDOW,
            grouped.key_serde,
            grouped.value_serde,
            mat.persistent,
            mat.logging,
            retention_ms=w.retention_ms() + w.time_difference_ms + 2,
            window_size_ms=1,
            retain_duplicates=True,
        )

        def spec_of(name_: str) -> StoreSpec:
            return StoreSpec(
                name_, StoreKind.WINDOW, retention_ms=w.retention_ms(), window_size_ms=w.time_difference_ms
            )

        return self._build(
            "KSTREAM-AGGREGATE-",
            lambda store, late: SlidingWindowedAggregateProcessor(
                store, buffer.name, w, initializer, aggregator, late, caching
            ),
            spec_of,
            [buffer],
            materialized,
            value_serde,
            name,
            late_records_topic,
        )

    def count(
        self,
        materialized: Materialized | str | None = None,
        name: str | None = None,
        late_records_topic: str | None = None,
    ) -> KTable:
        return self.aggregate(
            lambda: 0, _count_aggregator, materialized, name, late_records_topic, Serdes.LONG
        )

    def reduce(
        self,
        reducer: Callable[[Any, Any], Any],
        materialized: Materialized | str | None = None,
        name: str | None = None,
        late_records_topic: str | None = None,
    ) -> KTable:
        return self.aggregate(
            lambda: None,
            lambda _k, v, a: v if a is None else reducer(a, v),
            materialized,
            name,
            late_records_topic,
            self.grouped.value_serde,
        )


class SessionWindowedKStream(_WindowedBase):
    windows: SessionWindows

    def aggregate(
        self,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        merger: Callable[[Any, Any, Any], Any],
        materialized: Materialized | str | None = None,
        name: str | None = None,
        late_records_topic: str | None = None,
        value_serde: Serde[Any] | None = None,
    ) -> KTable:
        """`merger(key, agg1, agg2)` combines two sessions that a record bridges."""
        w = self.windows
        final = self.emit is EmitStrategy.ON_WINDOW_CLOSE
        caching = Materialized.coerce(materialized).caching

        def spec_of(name_: str) -> StoreSpec:
            return StoreSpec(name_, StoreKind.SESSION, retention_ms=max(w.retention_ms(), 1))

        return self._build(
            "KSTREAM-AGGREGATE-",
            lambda store, late: SessionWindowedAggregateProcessor(
                store, w, initializer, aggregator, merger, final, late, caching
            ),
            spec_of,
            [],
            materialized,
            value_serde,
            name,
            late_records_topic,
        )

    def count(
        self,
        materialized: Materialized | str | None = None,
        name: str | None = None,
        late_records_topic: str | None = None,
    ) -> KTable:
        return self.aggregate(
            lambda: 0, _count_aggregator, _sum_merger, materialized, name, late_records_topic, Serdes.LONG
        )

    def reduce(
        self,
        reducer: Callable[[Any, Any], Any],
        materialized: Materialized | str | None = None,
        name: str | None = None,
        late_records_topic: str | None = None,
    ) -> KTable:
        return self.aggregate(
            lambda: None,
            lambda _k, v, a: v if a is None else reducer(a, v),
            lambda _k, a, b: b if a is None else (a if b is None else reducer(a, b)),
            materialized,
            name,
            late_records_topic,
            self.grouped.value_serde,
        )


class CogroupedKStream:
    """Several grouped streams aggregated into one table, each with its own aggregator."""

    def __init__(self, builder: StreamsBuilder) -> None:
        self.builder = builder
        self.inputs: list[tuple[KGroupedStream, Callable[[Any, Any, Any], Any]]] = []

    def cogroup(
        self, grouped: KGroupedStream, aggregator: Callable[[Any, Any, Any], Any]
    ) -> CogroupedKStream:
        self.inputs.append((grouped, aggregator))
        return self

    def aggregate(
        self,
        initializer: Callable[[], Any],
        materialized: Materialized | str | None = None,
        name: str | None = None,
    ) -> KTable:
        builder = self.builder
        mat = Materialized.coerce(materialized)
        first = self.inputs[0][0]
        spec = builder.store_spec(
            mat,
            StoreKind.TIMESTAMPED_KEY_VALUE,
            "COGROUPKSTREAM-AGGREGATE-STATE-STORE-",
            first.key_serde,
            None,
        )
        base = builder.node_name(name, "COGROUPKSTREAM-AGGREGATE-")
        nodes, topics = [], frozenset[str]()
        for i, (grouped, aggregator) in enumerate(self.inputs):
            source = grouped._input(f"{spec.name}-{i}" if grouped.name is None else grouped.name)
            node = f"{base}-{i}"
            builder.topology.add_processor(
                node, _cogroup_supplier(spec.name, initializer, aggregator, mat.caching), source.node
            )
            nodes.append(node)
            topics = topics | source.source_topics
        builder.topology.add_state_store(spec, *nodes)
        builder.topology.copartition(topics)
        merge = f"{base}-merge"
        builder.topology.add_processor(merge, PassThroughProcessor, *nodes)
        return KTable(
            builder,
            merge,
            mat.key_serde or first.key_serde,
            mat.value_serde,
            topics,
            spec.name,
            ValueGetterSupplier.from_store(spec.name),
        )


def _cogroup_supplier(
    store: str, initializer: Callable[[], Any], aggregator: Callable[[Any, Any, Any], Any], caching: bool
) -> Callable[[], Processor]:
    return lambda: agg.CogroupAggregateProcessor(store, initializer, aggregator, caching)


class KGroupedTable:
    def __init__(
        self,
        builder: StreamsBuilder,
        node: str,
        key_serde: Serde[Any] | None,
        value_serde: Serde[Any] | None,
        name: str | None,
    ) -> None:
        self.builder = builder
        self.node = node
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.name = name

    def aggregate(
        self,
        initializer: Callable[[], Any],
        adder: Callable[[Any, Any, Any], Any],
        subtractor: Callable[[Any, Any, Any], Any],
        materialized: Materialized | str | None = None,
        name: str | None = None,
        value_serde: Serde[Any] | None = None,
    ) -> KTable:
        builder = self.builder
        mat = Materialized.coerce(materialized)
        spec = builder.store_spec(
            mat, StoreKind.TIMESTAMPED_KEY_VALUE, "KTABLE-AGGREGATE-STATE-STORE-", self.key_serde, value_serde
        )
        base = self.name or spec.name
        topic = f"{base}-repartition"
        topology = builder.topology
        topology.add_internal_topic(topic)
        topology.add_sink(
            f"{base}-repartition-sink",
            topic,
            self.node,
            key_serde=self.key_serde,
            value_serde=ChangeSerde(self.value_serde),
        )
        source = f"{base}-repartition-source"
        topology.add_source(
            source, topic, key_serde=self.key_serde, value_serde=ChangeSerde(self.value_serde)
        )
        node = builder.node_name(name, "KTABLE-AGGREGATE-")
        topology.add_processor(
            node,
            lambda: agg.TableAggregateProcessor(spec.name, initializer, adder, subtractor, mat.caching),
            source,
        )
        topology.add_state_store(spec, node)
        return KTable(
            builder,
            node,
            mat.key_serde or self.key_serde,
            mat.value_serde or value_serde,
            frozenset([topic]),
            spec.name,
            ValueGetterSupplier.from_store(spec.name),
        )

    def count(self, materialized: Materialized | str | None = None, name: str | None = None) -> KTable:
        return self.aggregate(
            lambda: 0, lambda _k, _v, a: a + 1, lambda _k, _v, a: a - 1, materialized, name, Serdes.LONG
        )

    def reduce(
        self,
        adder: Callable[[Any, Any], Any],
        subtractor: Callable[[Any, Any], Any],
        materialized: Materialized | str | None = None,
        name: str | None = None,
    ) -> KTable:
        return self.aggregate(
            lambda: None,
            lambda _k, v, a: v if a is None else adder(a, v),
            lambda _k, v, a: subtractor(a, v),
            materialized,
            name,
            self.value_serde,
        )
