"""What the three schema-registry converters share: configuration (Confluent's converter config
names), the registry client, the wire header, per-schema serializer and reader caches, and the
from/to Connect data skeleton (nulls, the schema requirement, error wrapping). A format supplies
`writer` (Connect schema -> a function of value and context to bytes) and `reader` (schema id ->
the Connect schema and a function of bytes and context to a Connect value).

Configs: `schema.registry.url` (required; comma-separated URLs), `basic.auth.user.info` with
`basic.auth.credentials.source=USER_INFO`, `auto.register.schemas` (true), `use.latest.version`
(false), `normalize.schemas`, `key.subject.name.strategy` / `value.subject.name.strategy`
(`TopicNameStrategy`, `RecordNameStrategy`, `TopicRecordNameStrategy`, Confluent's class names
accepted). Bytes are Confluent's framing: magic byte 0, the 4-byte schema id, the payload.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
    topic_subject_name_strategy,
)
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance
from odradek.connect.api.errors import ConfigException, DataException
from odradek.connect.api.headers import Headers
from odradek.connect.converters.base import Converter
from odradek.connect.data.schema import Schema
from odradek.connect.data.schema_and_value import SchemaAndValue

# (value, context) -> framed bytes; (framed bytes, context) -> Connect value
Write = Callable[[Any, SerializationContext], bytes]
Read = Callable[[bytes, SerializationContext], Any]

STRATEGIES: dict[str, Callable[..., Any]] = {}
for _name, _fn in (
    ("TopicNameStrategy", topic_subject_name_strategy),
    ("RecordNameStrategy", record_subject_name_strategy),
    ("TopicRecordNameStrategy", topic_record_subject_name_strategy),
):
    STRATEGIES[_name] = _fn
    STRATEGIES[f"io.confluent.kafka.serializers.subject.{_name}"] = _fn

CONFIG_DEF = (
    ConfigDef()
    .define(
        "schema.registry.url",
        ConfigType.LIST,
        None,
        None,
        Importance.HIGH,
        "Comma-separated list of URLs for Schema Registry instances.",
    )
    .define(
        "basic.auth.credentials.source",
        ConfigType.STRING,
        "URL",
        None,
        Importance.MEDIUM,
        "Where credentials come from: USER_INFO (basic.auth.user.info) or URL.",
    )
    .define("basic.auth.user.info", ConfigType.PASSWORD, None, None, Importance.MEDIUM, "user:password")
    .define(
        "auto.register.schemas",
        ConfigType.BOOLEAN,
        True,
        None,
        Importance.MEDIUM,
        "Register new schemas with the registry.",
    )
    .define(
        "use.latest.version",
        ConfigType.BOOLEAN,
        False,
        None,
        Importance.LOW,
        "Serialize with the subject's latest schema instead of the record's.",
    )
    .define("normalize.schemas", ConfigType.BOOLEAN, False, None, Importance.LOW, "Normalize schemas.")
    .define(
        "key.subject.name.strategy",
        ConfigType.STRING,
        "TopicNameStrategy",
        None,
        Importance.LOW,
        "Subject of key schemas.",
    )
    .define(
        "value.subject.name.strategy",
        ConfigType.STRING,
        "TopicNameStrategy",
        None,
        Importance.LOW,
        "Subject of value schemas.",
    )
)


def schema_id_of(raw: bytes) -> int:
    if len(raw) < 5 or raw[0] != 0:
        raise DataException("Unknown magic byte: not Confluent schema registry framing")
    return int(struct.unpack(">I", raw[1:5])[0])


class LruCache(OrderedDict[Any, Any]):
    def __init__(self, size: int = 256) -> None:
        super().__init__()
        self.size = size

    def remember(self, key: Any, build: Callable[[], Any]) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = build()
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)
        return value


class SchemaRegistryConverter(Converter):
    """Base of the Avro/JSON Schema/Protobuf converters."""

    format_name: ClassVar[str]  # in messages: "Avro", "JSON Schema", "Protobuf"
    client: SchemaRegistryClient

    def writer(self, schema: Schema) -> Write:
        """A serializer for values of ``schema`` (built once per schema, then cached)."""
        raise NotImplementedError

    def reader(self, schema_id: int) -> tuple[Schema, Read]:
        """The Connect schema of registered ``schema_id`` and a deserializer (cached per id)."""
        raise NotImplementedError

    def check_writable(self, schema: Schema | None, value: Any) -> Schema:
        if schema is None:
            raise DataException(
                f"{type(self).__name__} needs a schema (schemaless data: use the JsonConverter)"
            )
        return schema

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        schema = self.check_writable(schema, value)
        write: Write = self.serializers.remember(schema, lambda: self.writer(schema))
        try:
            return write(value, self.context(topic))
        except (SerializationError, ValueError, TypeError) as exc:
            raise DataException(
                f"Failed to serialize {self.format_name} data for topic {topic}: {exc}"
            ) from exc

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(None, None)
        schema_id = schema_id_of(value)
        try:
            schema, read = self.readers.remember(schema_id, lambda: self.reader(schema_id))
            return SchemaAndValue(schema, read(value, self.context(topic)))
        except (SerializationError, ValueError, TypeError, KeyError) as exc:
            raise DataException(
                f"Failed to deserialize {self.format_name} data for topic {topic}: {exc}"
            ) from exc
        except DataException:
            raise
        except Exception as exc:  # registry errors (unknown id, unreachable)
            raise DataException(
                f"Failed to read {self.format_name} schema {schema_id} for topic {topic}: {exc}"
            ) from exc

    @classmethod
    def config_def(cls) -> ConfigDef:
        return CONFIG_DEF

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        values = CONFIG_DEF.parse({k: v for k, v in configs.items() if k in CONFIG_DEF.keys})
        urls = values["schema.registry.url"]
        if not urls:
            raise ConfigException(
                "schema.registry.url", None, 'Missing required configuration "schema.registry.url"'
            )
        client_conf: dict[str, Any] = {"url": ",".join(urls)}
        if values["basic.auth.credentials.source"].upper() == "USER_INFO" and values["basic.auth.user.info"]:
            client_conf["basic.auth.user.info"] = values["basic.auth.user.info"].value
        self.client = SchemaRegistryClient.new_client(client_conf)
        self.is_key = is_key
        self.field = MessageField.KEY if is_key else MessageField.VALUE
        strategy_name = values["key.subject.name.strategy" if is_key else "value.subject.name.strategy"]
        strategy = STRATEGIES.get(strategy_name)
        if strategy is None:
            raise ConfigException(
                "value.subject.name.strategy", strategy_name, "unknown subject name strategy"
            )
        self.serializer_conf: dict[str, Any] = {
            "auto.register.schemas": values["auto.register.schemas"] and not values["use.latest.version"],
            "use.latest.version": values["use.latest.version"],
            "normalize.schemas": values["normalize.schemas"],
            "subject.name.strategy": strategy,
        }
        self.serializers = LruCache()
        self.readers = LruCache()

    def context(self, topic: str) -> SerializationContext:
        return SerializationContext(topic, self.field)

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
