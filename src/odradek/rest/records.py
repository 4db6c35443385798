"""Records at the HTTP edge: headers and timestamps in, consumed records out (v2 and v3 shapes).

Headers travel as ``[{"name": "h", "value": "<base64>"}]`` (v3; v2 also accepts ``"key"`` for the
name, as Karapace writes it); a header value may be ``null``. A timestamp is an ISO-8601 date-time
(``2026-11-25T10:00:00.123Z``, as Confluent's v3) or epoch milliseconds; absent means "now"
(CreateTime set by the proxy's producer). Consumed records carry what Confluent's v2 leaves out:
headers, the timestamp and its type, and the leader epoch.

v2 record: ``{"topic", "key", "value", "partition", "offset", "timestamp", "timestamp_type",
"headers": [{"key", "value"}]}``. v3 record: ``{"cluster_id", "topic_name", "partition_id",
"offset", "timestamp", "timestamp_type", "leader_epoch", "headers": [{"name", "value"}],
"key": {"type", "data"} | null, "value": ...}``; in v3 a key or value the consumer's format
cannot read is given as BINARY (its ``type`` says so) instead of failing the request.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Message

from odradek.rest import errors
from odradek.rest.fields import array, obj, pointer, type_name
from odradek.rest.kafka.producer import Headers
from odradek.rest.serde import Serde, SerdeError, decode_base64, encode_base64

MAX_TIMESTAMP_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
UTC = dt.UTC


def parse_headers(value: Any, at: str) -> Headers | None:
    if value is None:
        return None
    out: Headers = []
    for i, item in enumerate(array(value, at)):
        here = at + pointer(i)
        header = obj(item, here)
        name = header.get("name", header.get("key"))
        if not isinstance(name, str):
            raise errors.invalid_payload('A header needs a string "name".', here + "/name")
        raw = header.get("value")
        out.append((name, None if raw is None else decode_base64(raw, here + "/value")))
    return out


def parse_timestamp(value: Any, at: str) -> int:
    """Epoch milliseconds of an ISO-8601 string or an integer; 0 for null (= now)."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        ms = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise errors.invalid_payload(f"Invalid ISO-8601 timestamp {value!r}.", at) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        ms = _ms(parsed)
    else:
        raise errors.invalid_payload(f"Expected a timestamp, got {type_name(value)}.", at)
    if not 0 <= ms <= MAX_TIMESTAMP_MS:
        raise errors.invalid_payload(f"Timestamp {value!r} is out of range.", at)
    return ms


def _ms(value: dt.datetime) -> int:
    delta = value - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return delta // dt.timedelta(milliseconds=1)


_second: list[tuple[int, str]] = [(-1, "")]  # the last second formatted: records come in bursts


def iso(ms: int) -> str:
    """``2026-11-25T10:00:00.123Z`` (UTC, milliseconds)."""
    second, milli = divmod(ms, 1000)
    last, prefix = _second[0]
    if second != last:
        moment = dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=second)
        prefix = moment.strftime("%Y-%m-%dT%H:%M:%S.")
        _second[0] = (second, prefix)
    return f"{prefix}{milli:03d}Z"


def timestamp_type(msg: Message) -> str:
    kind, _ = msg.timestamp()
    return "LOG_APPEND_TIME" if kind == TIMESTAMP_LOG_APPEND_TIME else "CREATE_TIME"


def headers_out(msg: Message, name_key: str) -> list[dict[str, Any]]:
    headers = msg.headers()
    if not headers:
        return []
    out: list[dict[str, Any]] = []
    for name, value in headers.items() if isinstance(headers, dict) else headers:
        raw = value.encode() if isinstance(value, str) else value
        out.append({name_key: name, "value": None if raw is None else encode_base64(raw)})
    return out


def _data(raw: bytes | None, serde: Serde) -> Any:
    return None if raw is None else serde.deserialize(raw)


def v2_record(msg: Message, key_serde: Serde, value_serde: Serde) -> dict[str, Any]:
    return {
        "topic": msg.topic(),
        "key": _data(msg.key(), key_serde),
        "value": _data(msg.value(), value_serde),
        "partition": msg.partition(),
        "offset": msg.offset(),
        "timestamp": msg.timestamp()[1],
        "timestamp_type": timestamp_type(msg),
        "headers": headers_out(msg, "key"),
    }


def v3_data(raw: bytes | None, serde: Serde) -> dict[str, Any] | None:
    """A v3 key or value; bytes the consumer's format cannot read come as BINARY (the type says so),
    so one odd record never blocks a v3 consumer."""
    if raw is None:
        return None
    try:
        return {"type": serde.format.name, "data": serde.deserialize(raw)}
    except SerdeError:
        return {"type": "BINARY", "data": encode_base64(raw)}


def v3_record(msg: Message, cluster_id: str, key_serde: Serde, value_serde: Serde) -> dict[str, Any]:
    return {
        "cluster_id": cluster_id,
        "topic_name": msg.topic(),
        "partition_id": msg.partition(),
        "offset": msg.offset(),
        "timestamp": iso(msg.timestamp()[1]),
        "timestamp_type": timestamp_type(msg),
        "leader_epoch": msg.leader_epoch(),
        "headers": headers_out(msg, "name"),
        "key": v3_data(msg.key(), key_serde),
        "value": v3_data(msg.value(), value_serde),
    }
