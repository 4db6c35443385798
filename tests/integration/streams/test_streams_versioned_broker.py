"""A versioned table against a real odradek broker: the stream-table join reads the rate valid at
each payment's time, the changelog carries every version with its timestamp, a new instance
restores the whole history from it, and interactive queries read `?as_of=`."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from streams_kafka import Kafka, wait_for

from odradek.streams import Serdes, Stores, StreamsBuilder
from odradek.streams.runtime.kafka_streams import KafkaStreams


def _app(rates: str, payments: str, out: str) -> StreamsBuilder:
    b = StreamsBuilder()
    table = b.table(
        rates,
        value_serde=Serdes.LONG,
        materialized=Stores.persistent_versioned_key_value_store("rates", 3_600_000, persistent=False),
    )
    b.stream(payments, value_serde=Serdes.LONG).join(table, lambda amount, rate: amount * rate).to(
        out, value_serde=Serdes.LONG
    )
    return b


def _http(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_versioned_table_join_changelog_restore_and_as_of_queries(kafka: Kafka, tmp_path: Path) -> None:
    rates, payments, out = kafka.topic("rates"), kafka.topic("payments"), kafka.topic("paid")
    long = Serdes.LONG.serialize
    kafka.produce(rates, [(b"usd", long("", 10), 1_000), (b"usd", long("", 30), 5_000)])
    kafka.produce(rates, [(b"usd", long("", 20), 3_000)])  # late: valid from 3 s to 5 s
    config = kafka.config("versioned", **{"application.server": "127.0.0.1:0"})
    first = KafkaStreams(_app(rates, payments, out).build(), config)
    first.start()
    try:
        first.wait_until_running(60)
        wait_for(lambda: first.store("rates").get("usd", 3_500) == 20, what="the late rate applied")
        kafka.produce(payments, [(b"usd", long("", 2), 4_000), (b"usd", long("", 2), 2_000)])
        paid = kafka.read(out, lambda msgs: len(msgs) >= 2)
        assert [Serdes.LONG.deserialize("", m.value()) for m in paid] == [40, 20]
    finally:
        first.close()
    changelog = kafka.read(f"{config['application.id']}-rates-changelog", lambda msgs: len(msgs) >= 3)
    assert [m.timestamp()[1] for m in changelog] == [1_000, 5_000, 3_000]

    second = KafkaStreams(_app(rates, payments, out).build(), {**config, "state.dir": str(tmp_path / "b")})
    second.start()
    try:
        second.wait_until_running(60)  # an in-memory store: the whole history comes from the changelog
        base = f"http://{second.application_server}/v1/stores/rates/keys/usd"
        assert _http(f"{base}?as_of=2000")["value"] == 10
        assert _http(f"{base}?as_of=4000")["value"] == 20
        assert _http(base)["value"] == 30
    finally:
        second.close()
