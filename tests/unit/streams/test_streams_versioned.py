"""Versioned tables (KIP-889 stores, KIP-914 semantics) in the test driver: a stream-table join reads
the table as of each stream record's time, out-of-order table updates change only the history
(aggregations and table-table joins ignore them), records older than the history retention are
dropped, and the changelog carries every version with its timestamp."""

from __future__ import annotations

import pytest

from odradek.streams import (
    Materialized,
    Serdes,
    Stores,
    StreamsBuilder,
    Suppressed,
    TopologyException,
    TopologyTestDriver,
    VersionedRecord,
)
from odradek.streams.testing import TestRecord as Rec

S = Serdes.STRING


def _priced_orders(persistent: bool) -> StreamsBuilder:
    b = StreamsBuilder()
    prices = b.table(
        "prices",
        key_serde=S,
        value_serde=Serdes.LONG,
        materialized=Stores.persistent_versioned_key_value_store("prices", 60_000, persistent=persistent),
    )
    b.stream("orders", key_serde=S, value_serde=Serdes.LONG).join(prices, lambda qty, price: qty * price).to(
        "totals", key_serde=S, value_serde=Serdes.LONG
    )
    b.stream("quotes", key_serde=S, value_serde=Serdes.LONG).left_join(
        prices.filter(lambda _k, price: price < 100), lambda qty, price: [qty, price]
    ).to("quoted", key_serde=S, value_serde=Serdes.JSON)
    return b


@pytest.mark.parametrize("persistent", [True, False])
def test_stream_table_join_reads_the_table_as_of_the_record_time(persistent: bool) -> None:
    with TopologyTestDriver(_priced_orders(persistent).build()) as driver:
        prices = driver.create_input_topic("prices", S, Serdes.LONG)
        orders = driver.create_input_topic("orders", S, Serdes.LONG)
        quotes = driver.create_input_topic("quotes", S, Serdes.LONG)
        totals = driver.create_output_topic("totals", S, Serdes.LONG)
        quoted = driver.create_output_topic("quoted", S, Serdes.JSON)
        prices.pipe_input("lamp", 10, timestamp=1_000)
        prices.pipe_input("lamp", 200, timestamp=5_000)
        prices.pipe_input("lamp", 20, timestamp=3_000)  # late: a price valid from 3 s to 5 s
        orders.pipe_input("lamp", 2, timestamp=500)  # before any price: no inner join result
        orders.pipe_input("lamp", 2, timestamp=2_000)  # late order: the price of then, 10
        orders.pipe_input("lamp", 2, timestamp=4_000)
        orders.pipe_input("lamp", 2, timestamp=6_000)
        assert totals.read_values_to_list() == [20, 40, 400]
        quotes.pipe_input("lamp", 1, timestamp=4_500)
        quotes.pipe_input("lamp", 1, timestamp=5_500)  # 200 is filtered out: a left join gets None
        assert quoted.read_values_to_list() == [[1, 20], [1, None]]
        store = driver.get_key_value_store("prices")
        assert store.get("lamp") == VersionedRecord(200, 5_000, None)
        assert store.get("lamp", 3_500) == VersionedRecord(20, 3_000, 5_000)
        changelog = driver.topics["test-driver-prices-changelog"]
        assert [r.timestamp for r in changelog] == [1_000, 5_000, 3_000]


def test_out_of_order_updates_change_history_not_aggregates_or_table_joins() -> None:
    b = StreamsBuilder()
    stock = b.table(
        "stock",
        key_serde=S,
        value_serde=Serdes.LONG,
        materialized=Materialized("stock", history_retention_ms=10_000),
    )
    stock.group_by(lambda _item, qty: ("all", qty), key_serde=S, value_serde=Serdes.LONG, name="all").reduce(
        lambda a, b: a + b, lambda a, b: a - b, materialized="total"
    ).to_stream().to("total", key_serde=S, value_serde=Serdes.LONG)
    names = b.table("names", key_serde=S, value_serde=S)
    stock.join(names, lambda qty, name: f"{name}:{qty}").to_stream().to("joined", key_serde=S, value_serde=S)
    stock.to_stream().to("stock-changes", key_serde=S, value_serde=Serdes.LONG)
    with TopologyTestDriver(b.build()) as driver:
        stock_in = driver.create_input_topic("stock", S, Serdes.LONG)
        driver.create_input_topic("names", S, S).pipe_input("a", "apple", timestamp=0)
        stock_in.pipe_input("a", 5, timestamp=1_000)
        stock_in.pipe_input("a", 7, timestamp=3_000)
        stock_in.pipe_input("a", 6, timestamp=2_000)  # out of order
        stock_in.pipe_input("a", 1, timestamp=30_000)
        stock_in.pipe_input("a", 9, timestamp=15_000)  # older than the 10 s history: dropped
        total = driver.create_output_topic("total", S, Serdes.LONG).read_values_to_list()
        assert total[-1] == 1 and 6 not in total and 13 not in total
        joined = driver.create_output_topic("joined", S, S).read_values_to_list()
        assert joined == ["apple:5", "apple:7", "apple:1"]
        changes = driver.create_output_topic("stock-changes", S, Serdes.LONG).read_values_to_list()
        assert changes == [5, 7, 6, 1]  # to_stream shows the out-of-order record, as Kafka Streams
        assert driver.get_key_value_store("stock").get("a", 2_500) is None  # beyond the history now
        assert driver.get_key_value_store("stock").get("a").value == 1


def test_versioned_only_where_kafka_streams_allows_it() -> None:
    b = StreamsBuilder()
    table = b.table("t", materialized=Materialized("t", history_retention_ms=1_000))
    with pytest.raises(TopologyException, match="versioned table"):
        table.suppress(Suppressed.until_time_limit(100))
    with pytest.raises(TopologyException, match="only source tables"):
        b.stream("s").group_by_key().count(materialized=Materialized("c", history_retention_ms=1))
    with pytest.raises(TopologyException, match="versioned store spec"):
        b.table("u", materialized=Stores.key_value("u"))  # type: ignore[arg-type]


class _Message:
    def __init__(self, key: bytes, value: bytes | None, timestamp: int) -> None:
        self._record = (key, value, timestamp)

    def key(self) -> bytes:
        return self._record[0]

    def value(self) -> bytes | None:
        return self._record[1]

    def timestamp(self) -> tuple[int, int]:
        return 0, self._record[2]


def test_the_runtime_restores_a_versioned_store_from_its_changelog_records(tmp_path: object) -> None:
    from pathlib import Path

    from odradek.streams.runtime.queries import LocalStoreView
    from odradek.streams.runtime.restore import apply_changelog
    from odradek.streams.state.factory import open_store

    spec = Stores.persistent_versioned_key_value_store("v", 60_000, S, Serdes.LONG)
    restored = open_store(spec, Path(str(tmp_path)))
    messages = [_Message(b"k", Serdes.LONG.serialize("", n), ts) for n, ts in [(1, 100), (3, 300), (2, 200)]]
    apply_changelog(restored, [*messages, _Message(b"k", None, 400)])
    assert restored.get("k", 250) == VersionedRecord(2, 200, 300)
    assert restored.get("k") is None
    view = LocalStoreView("v", lambda: [restored])
    assert view.get("k", 350) == 3
    assert view.get("k") is None
    restored.close()


def test_join_grace_period_waits_for_late_table_updates() -> None:
    b = StreamsBuilder()
    prices = b.table(
        "prices",
        key_serde=S,
        value_serde=Serdes.LONG,
        materialized=Materialized("p", history_retention_ms=60_000),
    )
    b.stream("orders", key_serde=S, value_serde=Serdes.LONG).join(
        prices, lambda qty, price: qty * price, grace_ms=1_000, name="priced"
    ).to("totals", key_serde=S, value_serde=Serdes.LONG)
    with TopologyTestDriver(b.build()) as driver:
        prices_in = driver.create_input_topic("prices", S, Serdes.LONG)
        orders = driver.create_input_topic("orders", S, Serdes.LONG)
        totals = driver.create_output_topic("totals", S, Serdes.LONG)
        prices_in.pipe_input("lamp", 10, timestamp=1_000)
        orders.pipe_input("lamp", 1, timestamp=3_000)  # buffered until stream time 4000
        orders.pipe_input("lamp", 2, timestamp=2_500)
        assert totals.read_values_to_list() == []
        prices_in.pipe_input("lamp", 20, timestamp=2_000)  # late, but within the join's grace
        orders.pipe_input("desk", 1, timestamp=4_000)  # stream time 4000: both are due (not this one)
        assert totals.read_records_to_list() == [
            Rec("lamp", 40, 2_500),  # in timestamp order, each with the price of its time
            Rec("lamp", 20, 3_000),
        ]
        orders.pipe_input("lamp", 3, timestamp=1_500)  # already past its grace: joins at once
        assert totals.read_values_to_list() == [30]
        assert "test-driver-priced-Buffer-changelog" in driver.produced_topic_names()
    b = StreamsBuilder()
    plain = b.table("t")
    with pytest.raises(TopologyException, match="needs a versioned table"):
        b.stream("s").join(plain, lambda a, c: a, grace_ms=10)
    versioned = b.table("v", materialized=Materialized("v", history_retention_ms=100))
    with pytest.raises(TopologyException, match="history retention"):
        b.stream("s2").join(versioned, lambda a, c: a, grace_ms=101)


def test_filter_of_a_versioned_table_forwards_every_delete() -> None:
    b = StreamsBuilder()
    for topic, retention in (("plain", None), ("versioned", 60_000)):
        table = b.table(
            topic,
            key_serde=S,
            value_serde=Serdes.LONG,
            materialized=Materialized(topic, history_retention_ms=retention),
        )
        table.filter(lambda _k, v: v > 10).to_stream().to(
            f"{topic}-big", key_serde=S, value_serde=Serdes.LONG
        )
    with TopologyTestDriver(b.build()) as driver:
        for topic in ("plain", "versioned"):
            driver.create_input_topic(topic, S, Serdes.LONG).pipe_input("k", 5, timestamp=1)
        assert driver.create_output_topic("plain-big", S, Serdes.LONG).read_values_to_list() == []
        assert driver.create_output_topic("versioned-big", S, Serdes.LONG).read_values_to_list() == [None]
