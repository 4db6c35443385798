"""The same job twice: parse JSON readings, drop the ones that do not parse, convert Celsius to
Fahrenheit. First as a hand-written consume-transform-produce loop with confluent-kafka, then as
a topology: the DSL adds offsets committed only after the output is acknowledged, a parse error
that becomes zero records instead of a crash, and a test driver."""

from __future__ import annotations

import json
import sys
from typing import Any

from confluent_kafka import Consumer, Producer

from odradek.streams import KafkaStreams, Serdes, StreamsBuilder


def to_fahrenheit(reading: dict[str, Any]) -> dict[str, Any]:
    return {**reading, "temp_f": reading["temp_c"] * 9 / 5 + 32}


def parse(raw: str) -> list[dict[str, Any]]:
    try:
        return [json.loads(raw)]
    except ValueError:
        return []  # zero records: the bad reading is skipped, the application keeps running


def poll_loop(bootstrap: str) -> None:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "readings-loop", "enable.auto.commit": False}
    )
    producer = Producer({"bootstrap.servers": bootstrap})
    consumer.subscribe(["readings"])
    try:
        while True:
            msg = consumer.poll(1.0)
            if msg is None or msg.error():
                continue
            for reading in parse(msg.value().decode()):
                producer.produce("readings-f", json.dumps(to_fahrenheit(reading)).encode(), msg.key())
            producer.flush()
            consumer.commit(msg)
    finally:
        consumer.close()


def build() -> StreamsBuilder:
    builder = StreamsBuilder()
    builder.stream("readings").flat_map_values(parse).map_values(to_fahrenheit).to(
        "readings-f", value_serde=Serdes.JSON
    )
    return builder


CONFIG = {"application.id": "readings-dsl", "default.key.serde": "string", "default.value.serde": "string"}


def main(bootstrap: str = "127.0.0.1:9092") -> None:
    streams = KafkaStreams(build().build(), {**CONFIG, "bootstrap.servers": bootstrap})
    streams.start()
    try:
        input("running; press Enter to stop\n")
    finally:
        streams.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
