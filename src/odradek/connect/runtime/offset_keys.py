"""Source offsets in the offsets topic, in Kafka Connect's format (JsonConverter, schemas off):

    key   = ["<connector>", {<source partition>}]      e.g. ["file-source",{"filename":"/tmp/in.txt"}]
    value = {<source offset>}                          e.g. {"position":1234}; null = offset deleted

Keys are written compactly (no spaces) in the partition's own key order, as Kafka's Jackson writes
them, so a compacted topic keeps one offset per source partition whichever runtime wrote it.
Records are partitioned with murmur2, Java's default, for the same reason.
"""

from __future__ import annotations

import json
from typing import Any

from odradek.connect.api.errors import DataException


def canonical_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def offset_key(connector: str, partition: dict[str, Any]) -> bytes:
    return canonical_json([connector, partition]).encode()


def offset_value(offset: dict[str, Any] | None) -> bytes | None:
    return None if offset is None else canonical_json(offset).encode()


def parse_offset_key(raw: bytes) -> tuple[str, dict[str, Any]]:
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataException(f"Invalid offset key: {raw!r}") from exc
    if not (
        isinstance(parsed, list)
        and len(parsed) == 2
        and isinstance(parsed[0], str)
        and isinstance(parsed[1], dict)
    ):
        raise DataException(f"Invalid offset key (expected [connector, partition]): {raw!r}")
    return parsed[0], parsed[1]


def parse_offset_value(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataException(f"Invalid offset value: {raw!r}") from exc
    if parsed is not None and not isinstance(parsed, dict):
        raise DataException(f"Invalid offset value (expected an object): {raw!r}")
    return parsed
