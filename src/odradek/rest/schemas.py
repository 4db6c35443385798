"""Schema-backed embedded formats (AVRO, JSONSCHEMA, PROTOBUF) through a schema registry.

The proxy is a client of any Confluent-compatible registry (``schema.registry.url``; odradek's own
by default under `odradek dev`). Records are framed as every Confluent client frames them (magic
byte 0, the 4-byte schema id, for Protobuf the message index, then the payload), by confluent-kafka's
own serializers, so Confluent's consumers, Connect's converters and odradek's streams serdes read
them, and the proxy reads theirs.

Choosing the schema (subjects follow the TopicNameStrategy: ``<topic>-key`` / ``<topic>-value``):

* v2: ``key_schema``/``value_schema`` (schema text: registered under the subject, as Confluent's
  proxy does) or ``key_schema_id``/``value_schema_id``; records with a key need a key schema
  (42201), with a value a value schema (42202). The answer carries the ids used.
* v3: per key or value ``{"type": "AVRO", "schema": "…"}`` (registered), ``"schema_id"``,
  ``"schema_version"`` with ``"subject"`` (default the topic's subject) or ``"subject"`` alone
  (its latest version); ``"type"`` may be left out when the schema is named by id/version/subject.

Data: AVRO in Avro's JSON encoding (unions as ``{"type": value}``, bytes as strings), as
Confluent's proxy; JSONSCHEMA plain JSON, validated against the schema; PROTOBUF the message's
canonical JSON (proto3 JSON mapping), into the schema's first message type. Consuming returns the
same encodings. Registry lookups are cached by the confluent-kafka client; they run on worker
threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import struct
import threading
from dataclasses import dataclass
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError
from google.protobuf import json_format

from odradek.http import HttpError
from odradek.rest import errors
from odradek.rest.content import Format
from odradek.rest.serde import Serde, SerdeError

SCHEMA_TYPES = {Format.AVRO: "AVRO", Format.JSONSCHEMA: "JSON", Format.PROTOBUF: "PROTOBUF"}
FORMATS = {v: k for k, v in SCHEMA_TYPES.items()}
MAGIC = 0


@dataclass(frozen=True, slots=True)
class SchemaRef:
    """How a request names a schema: text to register, an id, or a subject's version."""

    text: str | None = None
    schema_id: int | None = None
    subject: str | None = None
    version: int | None = None


def registry_error(exc: Exception) -> HttpError:
    if isinstance(exc, SchemaRegistryError):
        code = exc.error_code if exc.error_code and exc.error_code >= 40000 else errors.INVALID_SCHEMA
        if code in (40401, 40402, 40403, 42201, 42202, 40901):
            # the registry's own codes would read as the proxy's; report them as a bad schema
            return HttpError(errors.INVALID_SCHEMA, f"Invalid schema: {exc.error_message} ({exc.error_code})")
        if exc.http_status_code >= 500:
            return HttpError(
                errors.SCHEMA_REGISTRY_UNAVAILABLE, f"Schema registry error: {exc.error_message}"
            )
        return HttpError(errors.INVALID_SCHEMA, f"Invalid schema: {exc.error_message} ({exc.error_code})")
    return HttpError(errors.SCHEMA_REGISTRY_UNAVAILABLE, f"Schema registry unavailable: {exc}")


class SchemaSerde:
    """One schema of one format: JSON data ↔ Confluent-framed record bytes (blocking calls)."""

    def __init__(
        self, support: SchemaSupport, fmt: Format, schema_id: int, schema: Schema, topic: str, is_key: bool
    ):
        self.format = fmt
        self.schema_id = schema_id
        self.schema = schema
        self.context = SerializationContext(topic, MessageField.KEY if is_key else MessageField.VALUE)
        conf = {"auto.register.schemas": False, "use.schema.id": schema_id}
        client = support.client
        if fmt is Format.AVRO:
            from fastavro import parse_schema

            self.avro_schema = parse_schema(json.loads(schema.schema_str or "null"))
            self.serializer: Any = AvroSerializer(client, schema.schema_str, conf=conf)
        elif fmt is Format.JSONSCHEMA:
            self.serializer = JSONSerializer(schema.schema_str, client, conf=conf)
        else:
            self.message_class = support.protobuf_class(schema_id)
            self.serializer = ProtobufSerializer(
                self.message_class, support.descriptors, conf={**conf, "use.deprecated.format": False}
            )

    def serialize(self, data: Any, at: str) -> bytes | None:
        if data is None:
            return None
        try:
            if self.format is Format.AVRO:
                from fastavro import json_reader

                (obj,) = list(json_reader(io.StringIO(json.dumps(data)), self.avro_schema))
                out = self.serializer(obj, self.context)
            elif self.format is Format.JSONSCHEMA:
                out = self.serializer(data, self.context)
            else:
                message = json_format.ParseDict(data, self.message_class())
                out = self.serializer(message, self.context)
        except HttpError:
            raise
        except (
            SerializationError,
            json_format.ParseError,
            ValueError,
            TypeError,
            KeyError,
            StopIteration,
            AttributeError,
        ) as exc:
            raise HttpError(
                errors.INVALID_PAYLOAD,
                f"Payload error. The data does not match the {self.format.name} schema "
                f"{self.schema_id}: {exc} at {at}",
                fields={"pointer": at},
            ) from None
        except Exception as exc:  # the registry, reached on a cache miss
            raise registry_error(exc) from None
        assert isinstance(out, bytes)
        return out

    def deserialize(self, raw: bytes) -> Any:  # pragma: no cover - consuming goes through SchemaReader
        raise NotImplementedError


class SchemaReader:
    """Reads Confluent-framed records of one format, whatever schema each names (consume side)."""

    def __init__(self, support: SchemaSupport, fmt: Format) -> None:
        self.support = support
        self.format = fmt
        self._by_id: dict[int, Any] = {}
        self._avro_schemas: dict[int, Any] = {}
        self._lock = threading.Lock()

    def _deserializer(self, schema_id: int) -> Any:
        with self._lock:
            found = self._by_id.get(schema_id)
            if found is None:
                client = self.support.client
                if self.format is Format.AVRO:
                    found = AvroDeserializer(client)
                elif self.format is Format.JSONSCHEMA:
                    found = JSONDeserializer(None, schema_registry_client=client)
                else:
                    found = ProtobufDeserializer(
                        self.support.protobuf_class(schema_id),
                        {"use.deprecated.format": False},
                        self.support.descriptors,
                    )
                self._by_id[schema_id] = found
            return found

    def _avro_json(self, schema_id: int, value: Any) -> Any:
        """The value in Avro's JSON encoding (unions as ``{"type": value}``), as it is produced."""
        from fastavro import json_writer, parse_schema

        with self._lock:
            parsed = self._avro_schemas.get(schema_id)
            if parsed is None:
                text = self.support.client.get_schema(schema_id).schema_str or "null"
                parsed = self._avro_schemas[schema_id] = parse_schema(json.loads(text))
        out = io.StringIO()
        json_writer(out, parsed, [value])
        return json.loads(out.getvalue())

    def deserialize(self, raw: bytes) -> Any:
        if len(raw) < 5 or raw[0] != MAGIC:
            raise SerdeError(f"the record is not in the schema registry's framing for {self.format.name}")
        (schema_id,) = struct.unpack(">I", raw[1:5])
        try:
            value = self._deserializer(schema_id)(raw, SerializationContext("", MessageField.VALUE))
        except Exception as exc:
            raise SerdeError(f"cannot read the record with schema {schema_id}: {exc}") from None
        if self.format is Format.AVRO:
            return self._avro_json(schema_id, value)
        if self.format is Format.PROTOBUF:
            return json_format.MessageToDict(value, preserving_proto_field_name=True)
        return value


class SchemaSupport:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._client: SchemaRegistryClient | None = None
        self._descriptors: SchemaRegistryClient | None = None
        self._readers: dict[Format, SchemaReader] = {}
        self._serdes: dict[tuple[Format, int, str, bool], SchemaSerde] = {}
        self._classes: dict[int, Any] = {}
        self._pool_lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def require(self) -> None:
        if not self.configured:
            raise HttpError(
                errors.INVALID_SCHEMA,
                "Schema-backed formats (avro, jsonschema, protobuf) need a schema registry: "
                "start the proxy with --schema-registry URL.",
            )

    @property
    def client(self) -> SchemaRegistryClient:
        if self._client is None:
            self._client = SchemaRegistryClient({"url": self.url})
        return self._client

    @property
    def descriptors(self) -> SchemaRegistryClient:
        """A second client for Protobuf schemas as serialized descriptors: the client caches a
        schema by id whatever format was asked, so one client cannot hold both forms."""
        if self._descriptors is None:
            self._descriptors = SchemaRegistryClient({"url": self.url})
        return self._descriptors

    def deserializer(self, fmt: Format) -> Serde:
        self.require()
        reader = self._readers.get(fmt)
        if reader is None:
            reader = self._readers[fmt] = SchemaReader(self, fmt)
        return reader  # type: ignore[return-value]

    async def serde(self, fmt: Format | None, ref: SchemaRef, topic: str, is_key: bool) -> SchemaSerde:
        """The serde for the schema ``ref`` names (registering schema text), off the event loop."""
        self.require()
        try:
            return await asyncio.to_thread(self._serde, fmt, ref, topic, is_key)
        except HttpError:
            raise
        except Exception as exc:
            raise registry_error(exc) from None

    def _serde(self, fmt: Format | None, ref: SchemaRef, topic: str, is_key: bool) -> SchemaSerde:
        subject = ref.subject or f"{topic}-{'key' if is_key else 'value'}"
        client = self.client
        if ref.text is not None:
            if fmt is None:
                raise HttpError(errors.INVALID_SCHEMA, "Invalid schema: a schema needs its type.")
            schema_id = client.register_schema(subject, Schema(ref.text, SCHEMA_TYPES[fmt]))
        elif ref.schema_id is not None:
            schema_id = ref.schema_id
        else:
            registered = (
                client.get_version(subject, ref.version)
                if ref.version is not None
                else client.get_latest_version(subject)
            )
            assert registered.schema_id is not None
            schema_id = registered.schema_id
        schema = client.get_schema(schema_id)
        actual = FORMATS.get(schema.schema_type or "AVRO")
        if actual is None or (fmt is not None and fmt is not actual):
            raise HttpError(
                errors.INVALID_SCHEMA,
                f"Invalid schema: schema {schema_id} is {schema.schema_type}, "
                f"not {fmt.name if fmt else '?'}.",
            )
        key = (actual, schema_id, topic, is_key)
        serde = self._serdes.get(key)
        if serde is None:
            serde = self._serdes[key] = SchemaSerde(self, actual, schema_id, schema, topic, is_key)
        return serde

    def protobuf_class(self, schema_id: int) -> Any:
        """The class of the first message type of a registered Protobuf schema (blocking)."""
        with self._pool_lock:
            found = self._classes.get(schema_id)
            if found is not None:
                return found
            from google.protobuf import (  # noqa: F401  # well-known types into the default pool
                any_pb2,
                descriptor_pb2,
                descriptor_pool,
                duration_pb2,
                empty_pb2,
                field_mask_pb2,
                struct_pb2,
                timestamp_pb2,
                wrappers_pb2,
            )
            from google.protobuf.message_factory import GetMessageClass

            pool = descriptor_pool.DescriptorPool()
            schema = self.descriptors.get_schema(schema_id, fmt="serialized")
            self._add_file(pool, schema, set(), descriptor_pb2)
            file_proto = descriptor_pb2.FileDescriptorProto.FromString(
                base64.b64decode(schema.schema_str or "")
            )
            file = pool.FindFileByName(file_proto.name)
            if not file.message_types_by_name:
                raise HttpError(
                    errors.INVALID_SCHEMA, f"Invalid schema: Protobuf schema {schema_id} has no message."
                )
            first = next(iter(file.message_types_by_name.values()))
            found = GetMessageClass(first)
            self._classes[schema_id] = found
            return found

    def _add_file(self, pool: Any, schema: Schema, seen: set[str], descriptor_pb2: Any) -> None:
        for reference in schema.references or []:
            assert isinstance(reference, SchemaReference)
            if reference.name in seen:
                continue
            seen.add(reference.name or "")
            dependency = self.descriptors.get_version(
                reference.subject or "", reference.version or "latest", fmt="serialized"
            )
            self._add_file(pool, dependency.schema, seen, descriptor_pb2)
        file_proto = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(schema.schema_str or ""))
        for dependency_name in file_proto.dependency:
            if dependency_name.startswith("google/protobuf/") and dependency_name not in seen:
                seen.add(dependency_name)
                well_known = descriptor_pb2.FileDescriptorProto()
                from google.protobuf import descriptor_pool as default_pools

                default_pools.Default().FindFileByName(dependency_name).CopyToProto(well_known)
                pool.Add(well_known)
        with contextlib.suppress(TypeError):  # already in the pool
            pool.Add(file_proto)
