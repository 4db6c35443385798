"""Wires the foreign-key join's processors and internal topics (see `operators/fk_join.py`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from odradek.streams.dsl.options import Materialized
from odradek.streams.operators import fk_join as fk
from odradek.streams.operators.table import ValueGetterSupplier
from odradek.streams.serdes import Serde, Serdes
from odradek.streams.state.spec import StoreKind, StoreSpec

if TYPE_CHECKING:
    from odradek.streams.dsl.ktable import KTable


def foreign_key_join(
    left: KTable,
    right: KTable,
    extractor: Callable[[Any], Any],
    joiner: Callable[[Any, Any], Any],
    left_join: bool,
    materialized: Materialized | str | None,
    name: str | None,
    value_serde: Serde[Any] | None,
) -> KTable:
    from odradek.streams.dsl.ktable import KTable

    builder = left.builder
    topology = builder.topology
    base = builder.internal_name(name, "KTABLE-FK-JOIN-", "a foreign-key join's topics")
    sub_topic, resp_topic = f"{base}-subscription-registration-topic", f"{base}-subscription-response-topic"
    topology.add_internal_topic(sub_topic)
    topology.add_internal_topic(resp_topic)
    composite = fk.CompositeKeySerde(right.key_serde, left.key_serde)

    sender = f"{base}-subscription-send"
    topology.add_processor(
        sender, lambda: fk.SubscriptionSender(extractor, left.value_serde, left_join), left.node
    )
    topology.add_processor(f"{sender}-subscribe", _pass, sender)
    topology.add_sink(
        f"{base}-subscription-sink",
        sub_topic,
        f"{sender}-subscribe",
        key_serde=right.key_serde,
        value_serde=fk.SubscriptionSerde(left.key_serde),
    )
    store = StoreSpec(f"{base}-subscription-store", StoreKind.KEY_VALUE, composite, Serdes.BYTES)
    receiver = f"{base}-subscription-receive"
    sub_source = f"{base}-subscription-source"
    topology.add_source(
        sub_source, sub_topic, key_serde=right.key_serde, value_serde=fk.SubscriptionSerde(left.key_serde)
    )
    right_getter = right.value_getter()
    topology.add_processor(
        receiver,
        lambda: fk.SubscriptionReceiver(store.name, right_getter, composite),
        sub_source,
        stores=right_getter.stores,
    )
    change = f"{base}-foreign-change"
    topology.add_processor(change, lambda: fk.ForeignTableChangeProcessor(store.name, composite), right.node)
    topology.add_state_store(store, receiver, change)
    topology.add_sink(
        f"{base}-response-sink",
        resp_topic,
        receiver,
        change,
        key_serde=left.key_serde,
        value_serde=fk.ResponseSerde(right.value_serde),
    )
    topology.copartition(right.source_topics | {sub_topic})

    resp_source = f"{base}-response-source"
    topology.add_source(
        resp_source, resp_topic, key_serde=left.key_serde, value_serde=fk.ResponseSerde(right.value_serde)
    )
    local = f"{sender}-local"
    topology.add_processor(local, _pass, sender)
    mat = Materialized.coerce(materialized)
    result = builder.store_spec(
        mat, StoreKind.TIMESTAMPED_KEY_VALUE, f"{base}-result-STATE-STORE-", left.key_serde, value_serde
    )
    if mat.name is None:
        result.name = f"{base}-result-store"
    left_getter = left.value_getter()
    resolver = f"{base}-response-resolve"
    topology.add_processor(
        resolver,
        lambda: fk.ResponseResolver(left_getter, result.name, joiner, left_join, left.value_serde),
        resp_source,
        local,
        stores=left_getter.stores,
    )
    topology.add_state_store(result, resolver)
    topology.copartition(left.source_topics | {resp_topic})
    return KTable(
        builder,
        resolver,
        left.key_serde,
        mat.value_serde or value_serde,
        left.source_topics,
        result.name,
        ValueGetterSupplier.from_store(result.name),
    )


def _pass() -> Any:
    from odradek.streams.operators.stateless import PassThroughProcessor

    return PassThroughProcessor()
