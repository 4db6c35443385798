"""A pattern source against a real odradek broker: `builder.stream(re.compile(...))` reads every
matching topic, and a topic created while the application runs is picked up (a regex subscription
the broker resolves again when topics appear), with keyed state across all of them."""

from __future__ import annotations

import re
from typing import Any

from streams_kafka import Kafka, wait_for

from odradek.streams import Serdes, StreamsBuilder
from odradek.streams.runtime.kafka_streams import KafkaStreams


def test_pattern_source_picks_up_new_topics(kafka: Kafka) -> None:
    first = kafka.topic("clicks.eu", 2)
    out = kafka.topic("clicks-per-user", 2)
    kafka.topic("clicksXeu", 2)  # `.` is escaped: not matched
    pattern = re.compile(rf"clicks\.[a-z]+-{kafka.suffix}")
    b = StreamsBuilder()
    (
        b.stream(pattern)
        .group_by_key(name="by-user")
        .count(materialized="clicks")
        .to_stream()
        .to(out, value_serde=Serdes.LONG)
    )
    streams = KafkaStreams(b.build(), kafka.config("pattern"))
    streams.start()
    try:
        streams.wait_until_running(60)
        kafka.produce(first, [(b"ann", b"a", 1), (b"bob", b"b", 2), (b"ann", b"c", 3)])
        kafka.produce(f"clicksXeu-{kafka.suffix}", [(b"ann", b"ignored", 4)])
        latest: dict[str, int] = {}

        def until(expected: dict[str, int]) -> Any:
            def done(msgs: list[Any]) -> bool:
                for m in msgs:
                    latest[m.key().decode()] = Serdes.LONG.deserialize("", m.value())
                return latest == expected

            return done

        kafka.read(out, until({"ann": 2, "bob": 1}))
        assert latest == {"ann": 2, "bob": 1}

        second = kafka.topic("clicks.us", 2)  # created while the application runs
        wait_for(
            lambda: any(tp[0] == second for t in streams.threads for tp in list(t.assigned)),
            60,
            "the new topic's partitions assigned",
        )
        kafka.produce(second, [(b"ann", b"d", 5), (b"cat", b"e", 6)])
        latest.clear()
        kafka.read(out, until({"ann": 3, "bob": 1, "cat": 1}))
        assert latest == {"ann": 3, "bob": 1, "cat": 1}
        assert streams.store("clicks").get("ann") == 3
    finally:
        streams.close()
