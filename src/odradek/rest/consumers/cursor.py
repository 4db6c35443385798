"""The opaque cursor of a v3 group consumer: who it is, what it reads, and how far it got.

Any proxy instance accepts a cursor because it carries everything the consumer is, and Kafka holds
the rest (the group's membership and committed offsets). A cursor is ``c1.`` followed by the
unpadded base64url of a compact JSON object:

    {"g": group, "n": member name, "t": [topics] | null, "r": pattern | null,
     "k": key format, "v": value format, "o": auto.offset.reset, "i": isolation.level,
     "s": session.timeout.ms, "p": {topic: {partition: next offset}}}

``p`` holds the positions the client has been given records up to. Presenting a cursor
acknowledges them: the proxy commits those positions to the group and reads on from there, so a
retry with an old cursor is answered with the same records again (at least once, nothing skipped).
Clients must treat the cursor as opaque; its layout may change with the prefix.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field, replace
from typing import Any

from odradek.http import HttpError
from odradek.rest import errors, jsoncodec

PREFIX = "c1."
TP = tuple[str, int]


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    group: str
    name: str
    topics: tuple[str, ...] | None
    pattern: str | None
    key_format: str
    value_format: str
    offset_reset: str
    isolation: str
    session_timeout_ms: int


@dataclass(frozen=True, slots=True)
class Cursor:
    spec: ConsumerSpec
    positions: dict[TP, int] = field(default_factory=dict)

    def advanced(self, positions: dict[TP, int]) -> Cursor:
        return replace(self, positions={**self.positions, **positions})

    def encode(self) -> str:
        s = self.spec
        by_topic: dict[str, dict[str, int]] = {}
        for (topic, partition), offset in sorted(self.positions.items()):
            by_topic.setdefault(topic, {})[str(partition)] = offset
        body = {
            "g": s.group,
            "n": s.name,
            "t": list(s.topics) if s.topics is not None else None,
            "r": s.pattern,
            "k": s.key_format,
            "v": s.value_format,
            "o": s.offset_reset,
            "i": s.isolation,
            "s": s.session_timeout_ms,
            "p": by_topic,
        }
        return PREFIX + base64.urlsafe_b64encode(jsoncodec.dumps(body)).decode().rstrip("=")


def bad_cursor(reason: str) -> HttpError:
    return HttpError(errors.CONSUMER_INSTANCE_NOT_FOUND, f"Invalid consumer cursor: {reason}")


def decode(text: str) -> Cursor:
    if not text.startswith(PREFIX):
        raise bad_cursor("unknown format")
    raw = text[len(PREFIX) :]
    try:
        data: Any = jsoncodec.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        topics = data["t"]
        spec = ConsumerSpec(
            group=str(data["g"]),
            name=str(data["n"]),
            topics=None if topics is None else tuple(str(t) for t in topics),
            pattern=None if data["r"] is None else str(data["r"]),
            key_format=str(data["k"]),
            value_format=str(data["v"]),
            offset_reset=str(data["o"]),
            isolation=str(data["i"]),
            session_timeout_ms=int(data["s"]),
        )
        positions = {
            (str(topic), int(partition)): int(offset)
            for topic, partitions in dict(data["p"]).items()
            for partition, offset in dict(partitions).items()
        }
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise bad_cursor("corrupt") from None
    return Cursor(spec, positions)
