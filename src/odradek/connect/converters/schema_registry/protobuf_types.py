"""The Protobuf files Confluent's ProtobufConverter uses for what proto3 has no type of its own
(the descriptors confluent-kafka and googleapis-common-protos ship, so schemas and bytes
interoperate with Confluent's converter, serializers and registry):

| file | message | holds |
|---|---|---|
| `google/type/date.proto` | `google.type.Date {int32 year = 1; int32 month = 2; int32 day = 3}` | Connect Date |
| `google/type/timeofday.proto` | `google.type.TimeOfDay {int32 hours = 1; minutes = 2; seconds = 3; nanos = 4}` | Connect Time |
| `confluent/type/decimal.proto` | `confluent.type.Decimal {bytes value = 1; uint32 precision = 2; int32 scale = 3}` | Connect Decimal (unscaled two's complement, big-endian) |
| `confluent/meta.proto` | `confluent.Meta {string doc = 1; map<string,string> params = 2; repeated string tags = 3}`, extension `field_meta = 1088` of `google.protobuf.FieldOptions` | field parameters: `connect.type` = `int8`/`int16` on an int32 field, `scale`/`precision` on a Decimal |

Field options travel as their bytes (the `field_meta` extension, field 1088, length-delimited), so
no extension registry is needed to write or read them.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, timestamp_pb2

TIMESTAMP_FILE = "google/protobuf/timestamp.proto"
DATE_FILE = "google/type/date.proto"
TIME_FILE = "google/type/timeofday.proto"
DECIMAL_FILE = "confluent/type/decimal.proto"
META_FILE = "confluent/meta.proto"
DATE = ".google.type.Date"
TIME = ".google.type.TimeOfDay"
DECIMAL = ".confluent.type.Decimal"
FIELD_META = 1088
CONNECT_TYPE = "connect.type"
_FIELD_META_KEY = bytes([0x82, 0x44])  # (1088 << 3) | 2 as a varint


def _library_files() -> dict[str, Any]:
    """The files as confluent-kafka and googleapis-common-protos ship them (what Confluent's
    serializers compile against)."""
    from confluent_kafka.schema_registry.confluent import meta_pb2
    from confluent_kafka.schema_registry.confluent.type import decimal_pb2
    from google.type import date_pb2, timeofday_pb2

    return {
        module.DESCRIPTOR.name: module.DESCRIPTOR.serialized_pb
        for module in (date_pb2, timeofday_pb2, decimal_pb2, meta_pb2)
    }


def add_dependencies(pool: descriptor_pool.DescriptorPool, names: list[str] | Any) -> None:
    """Add the files `names` (a file's `dependency` list) that are well known to `pool`."""
    wanted = set(names)
    if TIMESTAMP_FILE in wanted:
        pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    if META_FILE in wanted:
        pool.AddSerializedFile(descriptor_pb2.DESCRIPTOR.serialized_pb)
    for name, serialized in _library_files().items():
        if name in wanted:
            pool.AddSerializedFile(serialized)


def _meta_class() -> Any:
    from confluent_kafka.schema_registry.confluent import meta_pb2

    return meta_pb2.Meta  # type: ignore[attr-defined]  # generated code: no stubs


def meta_option(params: dict[str, str]) -> bytes:
    """FieldOptions bytes carrying `(confluent.field_meta).params`."""
    meta = _meta_class()()
    for key, value in params.items():
        meta.params[key] = value
    raw: bytes = meta.SerializeToString()
    return _FIELD_META_KEY + _varint(len(raw)) + raw


def meta_params(options: bytes) -> dict[str, str]:
    """The `(confluent.field_meta).params` in serialized FieldOptions (empty when there are none)."""
    at = 0
    while at < len(options):
        key, at = _read_varint(options, at)
        wire = key & 7
        if wire == 2:
            length, at = _read_varint(options, at)
            if key >> 3 == FIELD_META:
                meta = _meta_class()()
                meta.ParseFromString(options[at : at + length])
                return dict(meta.params)
            at += length
        elif wire == 0:
            _, at = _read_varint(options, at)
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        else:
            break
    return {}


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while at < len(data):
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
    return value, at
