"""`JsonConverter`: Connect data as JSON, with Kafka's envelope when `schemas.enable=true`:

    {"schema": <schema as JSON, json_envelope.py>, "payload": <value>}

Configs: `schemas.enable` (default true), `schemas.cache.size` (1000), `decimal.format`
(BASE64: the unscaled two's-complement bytes in base64, as Kafka; NUMERIC: a JSON number),
`replace.null.with.default` (true). BYTES are base64 text; MAPs with STRING keys are JSON objects,
others arrays of `[key, value]` pairs; logical Date/Time/Timestamp are their integers. Without
schemas, integers read back as INT64 values and numbers with a fraction as FLOAT64, as in Kafka.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance, at_least, valid_string
from odradek.connect.api.errors import DataException
from odradek.connect.api.headers import Headers
from odradek.connect.converters.base import Converter, HeaderConverter
from odradek.connect.converters.json_envelope import schema_from_json, schema_to_json
from odradek.connect.data import logical
from odradek.connect.data.schema import INTEGER_RANGES, Schema, Type
from odradek.connect.data.schema_and_value import SchemaAndValue
from odradek.connect.data.struct import Struct

ENVELOPE_ERROR = (
    'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional '
    "fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter "
    "configuration."
)

CONFIG_DEF = (
    ConfigDef()
    .define(
        "schemas.enable",
        ConfigType.BOOLEAN,
        True,
        None,
        Importance.HIGH,
        "Include schemas within each of the serialized values and keys.",
    )
    .define(
        "schemas.cache.size",
        ConfigType.INT,
        1000,
        at_least(0),
        Importance.HIGH,
        "The maximum number of schemas that can be cached in this converter instance.",
    )
    .define(
        "decimal.format",
        ConfigType.STRING,
        "BASE64",
        valid_string("BASE64", "NUMERIC", case_insensitive=True),
        Importance.LOW,
        "Controls which format this converter will serialize decimals in.",
    )
    .define(
        "replace.null.with.default",
        ConfigType.BOOLEAN,
        True,
        None,
        Importance.LOW,
        "Whether to replace fields that have a default value and that are null to the default value.",
    )
    .define(
        "converter.type",
        ConfigType.STRING,
        "value",
        valid_string("key", "value", "header"),
        Importance.LOW,
        "How this converter will be used.",
    )
)


class _SchemaCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: Any, value: Any) -> None:
        if self.size <= 0:
            return
        self.entries[key] = value
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)


class JsonConverter(Converter, HeaderConverter):
    java_class = "org.apache.kafka.connect.json.JsonConverter"

    def __init__(self) -> None:
        self.schemas_enable = True
        self.decimal_numeric = False
        self.replace_null_with_default = True
        self._to_json_cache = _SchemaCache(1000)
        self._from_json_cache = _SchemaCache(1000)
        self._encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=True)
        self._decoder = json.JSONDecoder(parse_float=_parse_float)
        self._envelope_heads: dict[Schema | None, bytes] = {}

    @classmethod
    def config_def(cls) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any], is_key: bool = False) -> None:
        props = dict(configs)
        props.setdefault("converter.type", "key" if is_key else "value")
        values = CONFIG_DEF.parse({k: v for k, v in props.items() if k in CONFIG_DEF.keys})
        self.schemas_enable = values["schemas.enable"]
        self.decimal_numeric = values["decimal.format"].upper() == "NUMERIC"
        self.replace_null_with_default = values["replace.null.with.default"]
        self._to_json_cache = _SchemaCache(values["schemas.cache.size"])
        self._from_json_cache = _SchemaCache(values["schemas.cache.size"])

    # -- Connect -> bytes ------------------------------------------------------------------------

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if schema is None and value is None:
            return None
        payload = self._encoder.encode(self.value_to_json(schema, value)).encode()
        if self.schemas_enable:
            head = self._envelope_heads.get(schema)
            if head is None:  # the schema half is the same for every record: encoded once
                head = (
                    b'{"schema":' + self._encoder.encode(self.schema_json(schema)).encode() + b',"payload":'
                )
                if len(self._envelope_heads) < 1000:
                    self._envelope_heads[schema] = head
            return head + payload + b"}"
        return payload

    def schema_json(self, schema: Schema | None) -> Any:
        if schema is None:
            return None
        cached = self._to_json_cache.get(schema)
        if cached is None:
            cached = schema_to_json(schema, self.value_to_json)
            self._to_json_cache.put(schema, cached)
        return cached

    def value_to_json(self, schema: Schema | None, value: Any) -> Any:
        if value is None:
            if schema is None:
                return None
            if schema.default is not None and self.replace_null_with_default:
                return self.value_to_json(schema, schema.default)
            if schema.optional:
                return None
            raise DataException(
                "Conversion error: null value for field that is required and has no default value"
            )
        if schema is not None and schema.name in logical.LOGICAL_NAMES:
            return self._logical_to_json(schema, value)
        try:
            return self._to_json(schema, value)
        except (TypeError, ValueError, AttributeError) as exc:
            raise DataException(f"Conversion error: {exc}") from exc

    def _logical_to_json(self, schema: Schema, value: Any) -> Any:
        if schema.name == logical.DECIMAL:
            if not isinstance(value, decimal.Decimal):
                raise DataException(
                    "Invalid type for Decimal, expected decimal.Decimal but was " + type(value).__name__
                )
            if self.decimal_numeric:
                return float(value)
            return base64.b64encode(logical.decimal_to_bytes(schema, value)).decode()
        try:
            return logical.to_base(schema, value)
        except (TypeError, AttributeError) as exc:
            raise DataException(f"Invalid type for {schema.name}: {type(value).__name__}") from exc

    def _to_json(self, schema: Schema | None, value: Any) -> Any:
        type_ = schema.type if schema is not None else _infer_type(value)
        if type_ in INTEGER_RANGES:
            if isinstance(value, bool) or not isinstance(value, int):
                raise DataException(f"Invalid type for {type_.value.upper()}: {type(value).__name__}")
            return value
        if type_ in (Type.FLOAT32, Type.FLOAT64):
            if isinstance(value, bool) or not isinstance(value, float | int):
                raise DataException(f"Invalid type for {type_.value.upper()}: {type(value).__name__}")
            return float(value)
        if type_ is Type.BOOLEAN:
            if not isinstance(value, bool):
                raise DataException(f"Invalid type for BOOLEAN: {type(value).__name__}")
            return value
        if type_ is Type.STRING:
            if not isinstance(value, str):
                raise DataException(f"Invalid type for STRING: {type(value).__name__}")
            return value
        if type_ is Type.BYTES:
            if not isinstance(value, bytes | bytearray | memoryview):
                raise DataException(f"Invalid type for BYTES: {type(value).__name__}")
            return base64.b64encode(bytes(value)).decode()
        if type_ is Type.ARRAY:
            if not isinstance(value, list | tuple):
                raise DataException(f"Invalid type for ARRAY: {type(value).__name__}")
            item_schema = schema.value_schema if schema is not None else None
            return [self.value_to_json(item_schema, item) for item in value]
        if type_ is Type.MAP:
            if not isinstance(value, dict):
                raise DataException(f"Invalid type for MAP: {type(value).__name__}")
            key_schema = schema.key_schema if schema is not None else None
            value_schema = schema.value_schema if schema is not None else None
            object_mode = (
                (key_schema.type is Type.STRING)
                if key_schema is not None
                else all(isinstance(k, str) for k in value)
            )
            if object_mode:
                return {k: self.value_to_json(value_schema, v) for k, v in value.items()}
            return [
                [self.value_to_json(key_schema, k), self.value_to_json(value_schema, v)]
                for k, v in value.items()
            ]
        if not isinstance(value, Struct):
            raise DataException(f"Invalid type for STRUCT: {type(value).__name__}")
        if schema is not None and value.schema != schema:
            raise DataException("Mismatching schema.")
        return {f.name: self.value_to_json(f.schema, value.get(f.name)) for f in value.schema.fields}

    # -- bytes -> Connect ------------------------------------------------------------------------

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(None, None)
        try:
            node = self._decoder.decode(value.decode()) if value else None
        except (ValueError, UnicodeDecodeError) as exc:
            raise DataException(
                f"Converting byte[] to Kafka Connect data failed due to serialization error: {exc}"
            ) from exc
        if self.schemas_enable:
            if not (isinstance(node, dict) and set(node) == {"schema", "payload"}):
                raise DataException(ENVELOPE_ERROR)
            schema = self._schema_from(node["schema"])
            return SchemaAndValue(schema, self.value_from_json(schema, node["payload"]))
        return SchemaAndValue(None, self.value_from_json(None, node))

    def _schema_from(self, node: Any) -> Schema | None:
        if node is None:
            return None
        key = self._encoder.encode(node)
        cached = self._from_json_cache.get(key)
        if cached is None:
            cached = schema_from_json(node, self.value_from_json)
            self._from_json_cache.put(key, cached)
        return cached  # type: ignore[no-any-return]

    def value_from_json(self, schema: Schema | None, node: Any) -> Any:
        if node is None:
            if schema is None:
                return None
            if schema.default is not None and self.replace_null_with_default:
                return schema.default
            if schema.optional:
                return None
            raise DataException(f"Invalid null value for required {schema.type.value.upper()} field")
        if schema is None:
            return _schemaless(node)
        if schema.name == logical.DECIMAL:
            if isinstance(node, str):
                return logical.bytes_to_decimal(schema, _b64(node))
            if isinstance(node, int | decimal.Decimal):
                return decimal.Decimal(node)
            raise DataException(
                "Invalid type for Decimal, underlying representation should be numeric or bytes"
            )
        if schema.name in logical.LOGICAL_NAMES:
            if isinstance(node, bool) or not isinstance(node, int):
                raise DataException(f"Invalid type for {schema.name}: {type(node).__name__}")
            return logical.from_base(schema, node)
        t = schema.type
        if t in INTEGER_RANGES:
            if isinstance(node, bool) or not isinstance(node, int):
                raise DataException(f"Invalid type for {t.value.upper()}: {type(node).__name__}")
            low, high = INTEGER_RANGES[t]
            if not low <= node <= high:
                raise DataException(f"Value {node} out of range for {t.value.upper()}")
            return node
        if t in (Type.FLOAT32, Type.FLOAT64):
            if isinstance(node, bool) or not isinstance(node, int | float | decimal.Decimal):
                raise DataException(f"Invalid type for {t.value.upper()}: {type(node).__name__}")
            return float(node)
        if t is Type.BOOLEAN:
            if not isinstance(node, bool):
                raise DataException(f"Invalid type for BOOLEAN: {type(node).__name__}")
            return node
        if t is Type.STRING:
            if not isinstance(node, str):
                raise DataException(f"Invalid type for STRING: {type(node).__name__}")
            return node
        if t is Type.BYTES:
            if not isinstance(node, str):
                raise DataException("Invalid type for BYTES: expected base64 text")
            return _b64(node)
        if t is Type.ARRAY:
            if not isinstance(node, list):
                raise DataException("Invalid type for ARRAY: " + type(node).__name__)
            return [self.value_from_json(schema.value_schema, item) for item in node]
        if t is Type.MAP:
            assert schema.key_schema is not None
            if schema.key_schema.type is Type.STRING:
                if not isinstance(node, dict):
                    raise DataException("Maps with string fields should be encoded as JSON objects")
                return {k: self.value_from_json(schema.value_schema, v) for k, v in node.items()}
            if not isinstance(node, list) or any(not isinstance(e, list) or len(e) != 2 for e in node):
                raise DataException("Maps with non-string fields should be encoded as JSON array of tuples")
            return {
                _hashable(self.value_from_json(schema.key_schema, k)): self.value_from_json(
                    schema.value_schema, v
                )
                for k, v in node
            }
        if not isinstance(node, dict):
            raise DataException("Structs should be encoded as JSON objects, but found " + type(node).__name__)
        struct = Struct(schema)
        for f in schema.fields:  # each value was type-checked by value_from_json
            struct.put_trusted(f.name, self.value_from_json(f.schema, node.get(f.name)))
        return struct

    # -- headers ---------------------------------------------------------------------------------

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        return self.to_connect_data(topic, value)


def _parse_float(text: str) -> Any:
    return decimal.Decimal(text)


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DataException("Invalid bytes field: not base64") from exc


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _schemaless(node: Any) -> Any:
    if isinstance(node, decimal.Decimal):
        return float(node)
    if isinstance(node, list):
        return [_schemaless(v) for v in node]
    if isinstance(node, dict):
        return {k: _schemaless(v) for k, v in node.items()}
    return node


def _infer_type(value: Any) -> Type:
    if isinstance(value, bool):
        return Type.BOOLEAN
    if isinstance(value, int):
        return Type.INT64
    if isinstance(value, float):
        return Type.FLOAT64
    if isinstance(value, str):
        return Type.STRING
    if isinstance(value, bytes | bytearray | memoryview):
        return Type.BYTES
    if isinstance(value, list | tuple):
        return Type.ARRAY
    if isinstance(value, dict):
        return Type.MAP
    if isinstance(value, Struct):
        return Type.STRUCT
    if isinstance(value, decimal.Decimal):
        return Type.FLOAT64
    raise DataException(f"Java class {type(value).__name__} does not have corresponding schema type.")
