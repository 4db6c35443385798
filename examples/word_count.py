"""Word count: lines in `text-lines`, counts per word in `word-counts` (and the `counts` store)."""

from __future__ import annotations

import sys

from odradek.streams import KafkaStreams, Materialized, Serdes, StreamsBuilder

CONFIG = {
    "application.id": "word-count",
    "default.key.serde": "string",
    "default.value.serde": "string",
}


def build() -> StreamsBuilder:
    builder = StreamsBuilder()
    (
        builder.stream("text-lines")
        .flat_map_values(lambda line: line.lower().split())
        .group_by(lambda _key, word: word, name="words")
        .count(materialized=Materialized("counts"))
        .to_stream()
        .to("word-counts", value_serde=Serdes.LONG)
    )
    return builder


def main(bootstrap: str = "127.0.0.1:9092") -> None:
    streams = KafkaStreams(build().build(), {**CONFIG, "bootstrap.servers": bootstrap})
    streams.start()
    try:
        input("running; press Enter to stop\n")
    finally:
        streams.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
