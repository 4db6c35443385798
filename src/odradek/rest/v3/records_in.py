"""v3 records coming in: a record's JSON turned into an `OutRecord`, and its delivery report.

A record: ``{"partition_id", "headers": [{"name", "value"}], "key": {"type", "data"},
"value": {…}, "timestamp"}`` with types BINARY, JSON, STRING (and the schema-backed AVRO,
JSONSCHEMA, PROTOBUF, by schema id, version, subject or inline schema). Every failure is a 422
naming the JSON pointer of the bad field. Its delivery report: ``{"error_code": 200,
"cluster_id", "topic_name", "partition_id", "offset", "timestamp", "key": {"type", "size"},
"value": {…}}``, or ``{"error_code": …, "message": …}`` for a record that failed.
"""

from __future__ import annotations

from typing import Any

from odradek.http import HttpError
from odradek.rest import errors
from odradek.rest.content import Format
from odradek.rest.fields import integer, obj, string
from odradek.rest.kafka.producer import Delivery, OutRecord
from odradek.rest.produce import Refused, kafka_failure
from odradek.rest.records import iso, parse_headers, parse_timestamp
from odradek.rest.schemas import SchemaRef
from odradek.rest.serde import JSON_V3, PLAIN, Serde
from odradek.rest.service import RestProxy
from odradek.rest.v3.common import Ctx

OK = 200

SCHEMA_FIELDS = ("schema_id", "schema_version", "subject", "schema")
Resolved = dict[tuple[Any, ...], Serde]
Kind = tuple[str, int | None]  # a key's or value's type name and schema id (schema-backed only)
KINDS: dict[Format, Kind] = {fmt: (fmt.name, None) for fmt in Format}


PLAIN_TYPES = frozenset({"BINARY", "JSON", "STRING", "binary", "json", "string"})


def schema_key(spec: Any, is_key: bool) -> tuple[Any, ...] | None:
    """The identity of the schema a key or value names, or None when it names none."""
    if not isinstance(spec, dict):
        return None
    kind = spec.get("type")
    if kind in PLAIN_TYPES and "schema" not in spec and "schema_id" not in spec and "subject" not in spec:
        return None  # the common case, decided with a few dict lookups
    upper = str(kind or "").upper()
    if upper not in ("AVRO", "JSONSCHEMA", "PROTOBUF") and all(spec.get(k) is None for k in SCHEMA_FIELDS):
        return None
    return (is_key, upper, *(spec.get(k) for k in SCHEMA_FIELDS))


async def resolve_schemas(proxy: RestProxy, topic: str, doc: Any, resolved: Resolved, at: str = "") -> None:
    """Look up (or register) the schemas a record names, once per request or stream."""
    if not isinstance(doc, dict):
        return
    for side in ("key", "value"):
        spec = doc.get(side)
        key = schema_key(spec, side == "key")
        if key is None or key in resolved:
            continue
        assert isinstance(spec, dict)
        here = f"{at}/{side}"
        kind = key[1]
        fmt = Format(kind.lower()) if kind else None
        ref = SchemaRef(
            text=None if spec.get("schema") is None else string(spec["schema"], here + "/schema"),
            schema_id=None
            if spec.get("schema_id") is None
            else integer(spec["schema_id"], here + "/schema_id", 1),
            subject=None if spec.get("subject") is None else string(spec["subject"], here + "/subject"),
            version=None
            if spec.get("schema_version") is None
            else integer(spec["schema_version"], here + "/schema_version", 1),
        )
        if ref.text is not None and fmt is None:
            raise errors.invalid_payload('A key or value with a "schema" needs its "type".', here + "/type")
        resolved[key] = await proxy.schemas.serde(fmt, ref, topic, side == "key")


PLAIN_SERDES: dict[Any, Serde] = {
    name: serde
    for fmt, serde in (
        (Format.BINARY, PLAIN[Format.BINARY]),
        (Format.JSON, JSON_V3),
        (Format.STRING, PLAIN[Format.STRING]),
    )
    for name in (fmt.name, fmt.value)
}


def serde_for(
    proxy: RestProxy, spec: Any, at: str, resolved: Resolved | None = None, is_key: bool = False
) -> Serde:
    plain = PLAIN_SERDES.get(spec.get("type"))
    if plain is not None and "schema" not in spec and "schema_id" not in spec and "subject" not in spec:
        return plain  # the common case: one dict lookup
    key = schema_key(spec, is_key)
    if key is not None:
        proxy.schemas.require()
        found = (resolved or {}).get(key)
        if found is None:
            raise errors.invalid_payload("The schema of this key or value could not be resolved.", at)
        return found
    kind = spec.get("type")
    if kind is None:
        raise errors.invalid_payload('A key or value needs a "type" (BINARY, JSON, STRING).', at + "/type")
    name = string(kind, at + "/type").lower()
    try:
        fmt = Format(name)
    except ValueError:
        raise errors.invalid_payload(f"Unknown type {kind!r}.", at + "/type") from None
    if fmt.schema_backed:
        proxy.schemas.require()
    return JSON_V3 if fmt is Format.JSON else PLAIN[fmt]


def data_of(
    proxy: RestProxy, value: Any, at: str, resolved: Resolved | None = None, is_key: bool = False
) -> tuple[bytes | None, Kind | None]:
    """Record bytes of a v3 key or value object, and its type (with the schema id, if any)."""
    if value is None:
        return None, None
    spec = obj(value, at)
    serde = serde_for(proxy, spec, at, resolved, is_key)
    schema_id = getattr(serde, "schema_id", None)
    kind = KINDS[serde.format] if schema_id is None else (serde.format.name, schema_id)
    data = spec.get("data")
    if data is None and serde.format is not Format.JSON:
        return None, kind
    return serde.serialize(data, at + "/data"), kind


def parse_record(
    proxy: RestProxy, topic: str, item: Any, at: str = "", resolved: Resolved | None = None
) -> tuple[OutRecord, Kind | None, Kind | None]:
    record = obj(item, at)
    raw_partition = record.get("partition_id")
    partition = -1 if raw_partition is None else integer(raw_partition, at + "/partition_id", 0, 2**31 - 1)
    key, key_type = data_of(proxy, record.get("key"), at + "/key", resolved, True)
    value, value_type = data_of(proxy, record.get("value"), at + "/value", resolved, False)
    out = OutRecord(
        topic,
        partition,
        key,
        value,
        parse_headers(record.get("headers"), at + "/headers"),
        parse_timestamp(record.get("timestamp"), at + "/timestamp"),
    )
    return out, key_type, value_type


def side(raw: bytes | None, kind: Kind | None) -> dict[str, Any] | None:
    if kind is None and raw is None:
        return None
    out: dict[str, Any] = {"type": kind[0] if kind else None, "size": len(raw) if raw is not None else 0}
    if kind is not None and kind[1] is not None:
        out["schema_id"] = kind[1]
    return out


def report(
    ctx: Ctx,
    outcome: Delivery | Refused | HttpError,
    record: OutRecord | None,
    key_type: Kind | None = None,
    value_type: Kind | None = None,
) -> dict[str, Any]:
    if isinstance(outcome, HttpError):
        return {"error_code": outcome.error_code, "message": outcome.message, **outcome.fields}
    if isinstance(outcome, Delivery) and outcome.error is not None:
        outcome = kafka_failure(outcome.error)
    if isinstance(outcome, Refused):
        body: dict[str, Any] = {"error_code": outcome.error_code, "message": outcome.message}
        if outcome.kafka_code is not None:
            body["kafka_error_code"] = outcome.kafka_code
        return body
    assert record is not None
    return {
        "error_code": OK,
        "cluster_id": ctx.cluster_id,
        "topic_name": outcome.topic,
        "partition_id": outcome.partition,
        "offset": outcome.offset,
        "timestamp": iso(outcome.timestamp_ms) if outcome.timestamp_ms >= 0 else None,
        "key": side(record.key, key_type),
        "value": side(record.value, value_type),
    }
