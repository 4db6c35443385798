"""Sessionize a clickstream: clicks per user session (30 minutes of inactivity closes a session),
emitted once per session when it closes."""

from __future__ import annotations

import sys

from odradek.streams import KafkaStreams, Materialized, Serdes, SessionWindows, StreamsBuilder, Suppressed
from odradek.streams.internal_serdes import WindowedSerde

GAP_MS = 30 * 60 * 1000
CONFIG = {
    "application.id": "clickstream-sessions",
    "default.key.serde": "string",
    "default.value.serde": "json",
}


def build() -> StreamsBuilder:
    builder = StreamsBuilder()
    (
        builder.stream("clicks")  # key: user id, value: {"page": "/..."}
        .group_by_key()
        .windowed_by(SessionWindows.with_inactivity_gap(GAP_MS, grace_ms=60_000))
        .aggregate(
            lambda: {"clicks": 0, "pages": []},
            lambda _user, click, session: {
                "clicks": session["clicks"] + 1,
                "pages": [*session["pages"], click["page"]],
            },
            lambda _user, a, b: {"clicks": a["clicks"] + b["clicks"], "pages": a["pages"] + b["pages"]},
            materialized=Materialized("sessions"),
        )
        .suppress(Suppressed.until_window_closes(), name="final-sessions")
        .to_stream()
        .filter(lambda _key, session: session is not None)
        .map(lambda key, session: (key.key, {**session, "start": key.window.start, "end": key.window.end}))
        .to("user-sessions", key_serde=Serdes.STRING)
    )
    return builder


def main(bootstrap: str = "127.0.0.1:9092") -> None:
    streams = KafkaStreams(build().build(), {**CONFIG, "bootstrap.servers": bootstrap})
    streams.start()
    try:
        input("running; press Enter to stop\n")
    finally:
        streams.close()


__all__ = ["WindowedSerde", "build", "main"]

if __name__ == "__main__":
    main(*sys.argv[1:])
