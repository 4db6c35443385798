"""Connect's logical types: Decimal, Date, Time, Timestamp (Kafka's names and encodings).

| name | base type | Python value | encoding |
|---|---|---|---|
| `org.apache.kafka.connect.data.Decimal` (parameter `scale`) | BYTES | `decimal.Decimal` | big-endian two's-complement unscaled value |
| `org.apache.kafka.connect.data.Date` | INT32 | `datetime.date` | days since 1970-01-01 |
| `org.apache.kafka.connect.data.Time` | INT32 | `datetime.time` | milliseconds since midnight |
| `org.apache.kafka.connect.data.Timestamp` | INT64 | `datetime.datetime` (UTC) | milliseconds since the epoch |
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from odradek.connect.api.errors import DataException
from odradek.connect.data.schema import Schema, SchemaBuilder, Type

DECIMAL = "org.apache.kafka.connect.data.Decimal"
DATE = "org.apache.kafka.connect.data.Date"
TIME = "org.apache.kafka.connect.data.Time"
TIMESTAMP = "org.apache.kafka.connect.data.Timestamp"
SCALE = "scale"
LOGICAL_NAMES = frozenset({DECIMAL, DATE, TIME, TIMESTAMP})
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
EPOCH_DATE = dt.date(1970, 1, 1)
MS_PER_DAY = 86_400_000


def decimal_schema(scale: int, optional: bool = False) -> Schema:
    builder = SchemaBuilder.bytes_().name(DECIMAL).parameter(SCALE, str(scale)).version(1)
    return (builder.optional() if optional else builder).build()


def date_schema(optional: bool = False) -> Schema:
    builder = SchemaBuilder.int32().name(DATE).version(1)
    return (builder.optional() if optional else builder).build()


def time_schema(optional: bool = False) -> Schema:
    builder = SchemaBuilder.int32().name(TIME).version(1)
    return (builder.optional() if optional else builder).build()


def timestamp_schema(optional: bool = False) -> Schema:
    builder = SchemaBuilder.int64().name(TIMESTAMP).version(1)
    return (builder.optional() if optional else builder).build()


DATE_SCHEMA = date_schema()
TIME_SCHEMA = time_schema()
TIMESTAMP_SCHEMA = timestamp_schema()
OPTIONAL_TIMESTAMP_SCHEMA = timestamp_schema(True)


def decimal_scale(schema: Schema) -> int:
    raw = schema.params.get(SCALE)
    if raw is None:
        raise DataException("Invalid Decimal schema: scale parameter not found.")
    return int(raw)


# -- to the base type ---------------------------------------------------------------------------


def decimal_to_bytes(schema: Schema, value: decimal.Decimal) -> bytes:
    scale = decimal_scale(schema)
    if -value.as_tuple().exponent > scale:  # type: ignore[operator]
        raise DataException(
            f"Decimal value has mismatching scale for given Decimal schema: {value} scale {scale}"
        )
    unscaled = int(value.scaleb(scale).to_integral_value())
    length = max(1, (unscaled + (unscaled < 0)).bit_length() // 8 + 1)
    return unscaled.to_bytes(length, "big", signed=True)


def bytes_to_decimal(schema: Schema, raw: bytes) -> decimal.Decimal:
    unscaled = int.from_bytes(raw, "big", signed=True)
    return decimal.Decimal(unscaled).scaleb(-decimal_scale(schema))


def date_to_days(value: dt.date) -> int:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise DataException(
                "Kafka Connect Date type should not have any time fields set to non-zero values."
            )
        value = value.date()
    return (value - EPOCH_DATE).days


def days_to_date(days: int) -> dt.date:
    return EPOCH_DATE + dt.timedelta(days=days)


def time_to_millis(value: dt.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000


def millis_to_time(ms: int) -> dt.time:
    if not 0 <= ms < MS_PER_DAY:
        raise DataException("Kafka Connect Time type should not have any date fields set to non-zero values.")
    seconds, millis = divmod(ms, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return dt.time(hour, minute, second, millis * 1000)


def timestamp_to_millis(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - EPOCH
    return delta.days * MS_PER_DAY + delta.seconds * 1000 + delta.microseconds // 1000


def millis_to_timestamp(ms: int) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=ms)


def to_base(schema: Schema, value: Any) -> Any:
    """The logical value as its base type's value (serializers call this)."""
    if value is None or schema.name not in LOGICAL_NAMES:
        return value
    if schema.name == DECIMAL:
        return decimal_to_bytes(schema, value)
    if schema.name == DATE:
        return date_to_days(value)
    if schema.name == TIME:
        return time_to_millis(value)
    return timestamp_to_millis(value)


def from_base(schema: Schema, value: Any) -> Any:
    """The base type's value as the logical value (deserializers call this)."""
    if value is None or schema.name not in LOGICAL_NAMES:
        return value
    if schema.name == DECIMAL:
        return bytes_to_decimal(schema, value)
    if schema.name == DATE:
        return days_to_date(value)
    if schema.name == TIME:
        return millis_to_time(value)
    return millis_to_timestamp(value)


LOGICAL_BASE_TYPES = {DECIMAL: Type.BYTES, DATE: Type.INT32, TIME: Type.INT32, TIMESTAMP: Type.INT64}
