"""`KTable` (a changelog: the latest value per key) and `GlobalKTable`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from odradek.streams.dsl.options import Materialized
from odradek.streams.internal_serdes import SuppressedSerde
from odradek.streams.operators import table as t
from odradek.streams.operators.stateless import PassThroughProcessor
from odradek.streams.operators.suppress import Suppressed, SuppressProcessor
from odradek.streams.operators.table_joins import TableTableJoinProcessor
from odradek.streams.processor import Processor
from odradek.streams.serdes import Serde
from odradek.streams.state.keyvalue import ValueAndTimestamp
from odradek.streams.state.spec import StoreKind, StoreSpec
from odradek.streams.windows import SessionWindows

if TYPE_CHECKING:
    from odradek.streams.dsl.builder import StreamsBuilder
    from odradek.streams.dsl.grouped import KGroupedTable
    from odradek.streams.dsl.kstream import KStream


class GlobalKTable:
    def __init__(self, store_name: str, topic: str) -> None:
        self.store_name = store_name
        self.topic = topic

    @property
    def queryable_store_name(self) -> str:
        return self.store_name


class KTable:
    def __init__(
        self,
        builder: StreamsBuilder,
        node: str,
        key_serde: Serde[Any] | None,
        value_serde: Serde[Any] | None,
        source_topics: frozenset[str],
        store_name: str | None,
        getter: t.ValueGetterSupplier,
        windows: Any = None,
    ) -> None:
        self.builder = builder
        self.node = node
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.source_topics = source_topics
        self.store_name = store_name
        self._getter = getter
        self.windows = windows

    @property
    def queryable_store_name(self) -> str | None:
        return self.store_name

    def value_getter(self) -> t.ValueGetterSupplier:
        return self._getter

    def _versioned(self) -> bool:
        """A versioned table (KIP-914): its values come from a versioned store, nothing stateful
        in between."""
        stores = self.builder.topology.stores
        return any(
            s in stores and stores[s].kind is StoreKind.VERSIONED_KEY_VALUE for s in self._getter.stores
        )

    def _derive(
        self,
        prefix: str,
        supplier: Callable[[], Processor],
        name: str | None,
        getter: t.ValueGetterSupplier,
        materialized: Materialized | str | None,
        value_serde: Serde[Any] | None,
        key_serde: Any = ...,
    ) -> KTable:
        builder = self.builder
        node = builder.node_name(name, prefix)
        builder.topology.add_processor(
            node, supplier, self.node, stores=self._getter.stores if prefix.startswith("KTABLE-JOIN") else ()
        )
        ks = self.key_serde if key_serde is ... else key_serde
        if materialized is None:
            return KTable(builder, node, ks, value_serde, self.source_topics, None, getter, self.windows)
        mat = Materialized.coerce(materialized)
        spec = builder.store_spec(
            mat, StoreKind.TIMESTAMPED_KEY_VALUE, f"{prefix}STATE-STORE-", ks, value_serde
        )
        store_node = f"{node}-materialize"
        builder.topology.add_processor(store_node, lambda: t.TableMaterializer(spec.name), node)
        builder.topology.add_state_store(spec, store_node)
        return KTable(
            builder,
            store_node,
            mat.key_serde or ks,
            mat.value_serde or value_serde,
            self.source_topics,
            spec.name,
            t.ValueGetterSupplier.from_store(spec.name),
            self.windows,
        )

    # -- stateless ------------------------------------------------------------------------------------

    def filter(
        self,
        predicate: Callable[[Any, Any], bool],
        materialized: Materialized | str | None = None,
        name: str | None = None,
    ) -> KTable:
        """Keeps the rows for which `predicate(key, value)` holds; a row that stops matching becomes a
        delete (`Change(None, old)`)."""
        return self._derive(
            "KTABLE-FILTER-",
            lambda: t.TableFilterProcessor(predicate, False, self._versioned()),
            name,
            self._getter.filtered(predicate, False),
            materialized,
            self.value_serde,
        )

    def filter_not(
        self,
        predicate: Callable[[Any, Any], bool],
        materialized: Materialized | str | None = None,
        name: str | None = None,
    ) -> KTable:
        return self._derive(
            "KTABLE-FILTER-",
            lambda: t.TableFilterProcessor(predicate, True, self._versioned()),
            name,
            self._getter.filtered(predicate, True),
            materialized,
            self.value_serde,
        )

    def map_values(
        self,
        mapper: Callable[..., Any],
        with_key: bool = False,
        materialized: Materialized | str | None = None,
        name: str | None = None,
    ) -> KTable:
        fn: Callable[[Any, Any], Any] = mapper if with_key else (lambda _k, v: mapper(v))
        return self._derive(
            "KTABLE-MAPVALUES-",
            lambda: t.TableMapValuesProcessor(fn),
            name,
            self._getter.mapped(fn),
            materialized,
            None,
        )

    def to_stream(self, mapper: Callable[[Any, Any], Any] | None = None, name: str | None = None) -> KStream:
        """The table's changes as a stream of (key, new value); deletes are `None` values."""
        from odradek.streams.dsl.kstream import KStream

        node = self.builder.node_name(name, "KTABLE-TOSTREAM-")
        self.builder.topology.add_processor(node, lambda: t.TableToStreamProcessor(mapper), self.node)
        return KStream(
            self.builder,
            node,
            self.key_serde if mapper is None else None,
            self.value_serde,
            self.source_topics,
            mapper is not None,
        )

    def suppress(self, suppressed: Suppressed, name: str | None = None) -> KTable:
        """Hold updates back (see `Suppressed`): `until_window_closes()` gives each window's final result."""
        builder = self.builder
        if self._versioned():
            from odradek.streams.errors import TopologyException

            raise TopologyException("suppress() is not supported on a versioned table (KIP-914)")
        base = builder.internal_name(suppressed.name or name, "KTABLE-SUPPRESS-", "a suppress buffer")
        grace, gap = 0, 0
        if suppressed.until_window_close:
            if self.windows is None:
                from odradek.streams.errors import TopologyException

                raise TopologyException("suppress(until_window_closes) needs a windowed table (windowed_by)")
            grace = self.windows.grace_ms
            if isinstance(self.windows, SessionWindows):
                gap = self.windows.inactivity_gap_ms
        spec = StoreSpec(
            f"{base}-store",
            StoreKind.KEY_VALUE,
            self.key_serde,
            SuppressedSerde(self.value_serde),
            persistent=False,
        )
        node = base
        builder.topology.add_processor(
            node, lambda: SuppressProcessor(spec.name, suppressed, grace, gap), self.node
        )
        builder.topology.add_state_store(spec, node)
        return KTable(
            builder,
            node,
            self.key_serde,
            self.value_serde,
            self.source_topics,
            None,
            self._getter,
            self.windows,
        )

    # -- grouping -------------------------------------------------------------------------------------

    def group_by(
        self,
        selector: Callable[[Any, Any], tuple[Any, Any]],
        *,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        name: str | None = None,
    ) -> KGroupedTable:
        """`selector(key, value) -> (new_key, new_value)`; aggregate with an adder and a subtractor."""
        from odradek.streams.dsl.grouped import KGroupedTable

        node = self.builder.node_name(None, "KTABLE-SELECT-")
        self.builder.topology.add_processor(node, lambda: t.TableGroupByProcessor(selector), self.node)
        return KGroupedTable(self.builder, node, key_serde, value_serde, name)

    # -- joins ----------------------------------------------------------------------------------------

    def join(self, other: KTable, joiner: Callable[[Any, Any], Any], **kwargs: Any) -> KTable:
        return self._join(other, joiner, "inner", **kwargs)

    def left_join(self, other: KTable, joiner: Callable[[Any, Any], Any], **kwargs: Any) -> KTable:
        return self._join(other, joiner, "left", **kwargs)

    def outer_join(self, other: KTable, joiner: Callable[[Any, Any], Any], **kwargs: Any) -> KTable:
        return self._join(other, joiner, "outer", **kwargs)

    def _join(
        self,
        other: KTable,
        joiner: Callable[[Any, Any], Any],
        kind: str,
        *,
        foreign_key_extractor: Callable[[Any], Any] | None = None,
        materialized: Materialized | str | None = None,
        name: str | None = None,
        value_serde: Serde[Any] | None = None,
    ) -> KTable:
        if foreign_key_extractor is not None:
            from odradek.streams.dsl.fk_join import foreign_key_join

            if kind == "outer":
                from odradek.streams.errors import TopologyException

                raise TopologyException("a foreign-key join is inner or left")
            return foreign_key_join(
                self, other, foreign_key_extractor, joiner, kind == "left", materialized, name, value_serde
            )
        builder = self.builder
        topology = builder.topology
        topology.copartition(self.source_topics | other.source_topics)
        base = builder.node_name(name, "KTABLE-JOIN-")
        this_node, other_node = f"{base}-this", f"{base}-other"
        this_getter, other_getter = self._getter, other._getter
        topology.add_processor(
            this_node,
            lambda: TableTableJoinProcessor(other_getter, joiner, kind, True),
            self.node,
            stores=other_getter.stores,
        )
        topology.add_processor(
            other_node,
            lambda: TableTableJoinProcessor(this_getter, joiner, kind, False),
            other.node,
            stores=this_getter.stores,
        )
        merge = f"{base}-merge"
        topology.add_processor(merge, PassThroughProcessor, this_node, other_node)
        getter = _joined_getter(this_getter, other_getter, joiner, kind)
        joined = KTable(
            builder,
            merge,
            self.key_serde,
            value_serde,
            self.source_topics | other.source_topics,
            None,
            getter,
        )
        if materialized is None:
            return joined
        mat = Materialized.coerce(materialized)
        spec = builder.store_spec(
            mat, StoreKind.TIMESTAMPED_KEY_VALUE, "KTABLE-JOIN-STATE-STORE-", self.key_serde, value_serde
        )
        store_node = f"{base}-materialize"
        topology.add_processor(store_node, lambda: t.TableMaterializer(spec.name), merge)
        topology.add_state_store(spec, store_node)
        return KTable(
            builder,
            store_node,
            self.key_serde,
            mat.value_serde or value_serde,
            joined.source_topics,
            spec.name,
            t.ValueGetterSupplier.from_store(spec.name),
        )


def _joined_getter(
    this: t.ValueGetterSupplier, other: t.ValueGetterSupplier, joiner: Callable[[Any, Any], Any], kind: str
) -> t.ValueGetterSupplier:
    def make(context: Any) -> t.Getter:
        left_get, right_get = this.make(context), other.make(context)

        def get(key: Any) -> ValueAndTimestamp | None:
            left, right = left_get(key), right_get(key)
            lv = left[0] if left is not None else None
            rv = right[0] if right is not None else None
            if (kind == "inner" and (lv is None or rv is None)) or (kind == "left" and lv is None):
                return None
            if lv is None and rv is None:
                return None
            ts = max(x[1] for x in (left, right) if x is not None)
            return ValueAndTimestamp(joiner(lv, rv), ts)

        return get

    return t.ValueGetterSupplier(this.stores + other.stores, make)
