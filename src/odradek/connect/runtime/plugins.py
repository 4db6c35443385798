"""Finding plugins by name: connectors, converters, transforms and predicates.

A name resolves, in order, to: a built-in's Python class name or Kafka's Java class name
(`org.apache.kafka.connect.transforms.Cast$Value`, `org.apache.kafka.connect.storage.StringConverter`,
`org.apache.kafka.connect.file.FileStreamSourceConnector`, ...) or its simple name
(`Cast$Value`, `StringConverter`, `FileStreamSource`); a connector registered in the
`odradek.connectors` entry point group (so `pip install` adds one); a dotted path
(`package.module.Class` or `package.module:Class`), importable after `plugin.path`'s packages.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from odradek.connect.api.connector import Connector, SinkConnector, SourceConnector
from odradek.connect.api.errors import ConnectException
from odradek.connect.converters.base import Converter, HeaderConverter
from odradek.connect.transforms.base import Predicate, Transformation

ENTRY_POINT_GROUP = "odradek.connectors"


class PluginType(StrEnum):
    SOURCE = "source"
    SINK = "sink"
    CONVERTER = "converter"
    HEADER_CONVERTER = "header_converter"
    TRANSFORMATION = "transformation"
    PREDICATE = "predicate"


def _builtin_converters() -> list[type]:
    from odradek.connect.converters import bytearray, json_converter, number, simple_header, string
    from odradek.connect.converters.schema_registry import avro, json_schema, protobuf

    return [
        bytearray.ByteArrayConverter,
        string.StringConverter,
        json_converter.JsonConverter,
        number.ShortConverter,
        number.IntegerConverter,
        number.LongConverter,
        number.FloatConverter,
        number.DoubleConverter,
        number.BooleanConverter,
        simple_header.SimpleHeaderConverter,
        avro.AvroConverter,
        json_schema.JsonSchemaConverter,
        protobuf.ProtobufConverter,
    ]


def _builtin_transforms() -> list[type]:
    from odradek.connect.transforms import (
        cast,
        extract_field,
        filter,
        flatten,
        headers,
        hoist_field,
        insert_field,
        mask_field,
        replace_field,
        routers,
        set_schema_metadata,
        timestamp_converter,
        value_to_key,
    )

    return [
        cast.CastKey,
        cast.CastValue,
        headers.DropHeaders,
        headers.InsertHeader,
        headers.HeaderFromKey,
        headers.HeaderFromValue,
        extract_field.ExtractFieldKey,
        extract_field.ExtractFieldValue,
        filter.Filter,
        flatten.FlattenKey,
        flatten.FlattenValue,
        hoist_field.HoistFieldKey,
        hoist_field.HoistFieldValue,
        insert_field.InsertFieldKey,
        insert_field.InsertFieldValue,
        mask_field.MaskFieldKey,
        mask_field.MaskFieldValue,
        routers.RegexRouter,
        routers.TimestampRouter,
        replace_field.ReplaceFieldKey,
        replace_field.ReplaceFieldValue,
        set_schema_metadata.SetSchemaMetadataKey,
        set_schema_metadata.SetSchemaMetadataValue,
        timestamp_converter.TimestampConverterKey,
        timestamp_converter.TimestampConverterValue,
        value_to_key.ValueToKey,
    ]


def _builtin_predicates() -> list[type]:
    from odradek.connect.transforms import predicates

    return [predicates.HasHeaderKey, predicates.RecordIsTombstone, predicates.TopicNameMatches]


def _builtin_connectors() -> list[type]:
    from odradek.connect.connectors import builtin

    return builtin.CONNECTORS


def _aliases(cls: type) -> Iterable[str]:
    yield f"{cls.__module__}.{cls.__qualname__}"
    yield f"{cls.__module__}:{cls.__qualname__}"
    java = getattr(cls, "java_class", None)
    if java:
        yield java
        simple = java.rsplit(".", 1)[-1]
        yield simple
        if simple.endswith("Connector"):
            yield simple[: -len("Connector")]
    else:
        yield cls.__qualname__


class Plugins:
    """Name → class for every plugin kind; built once per worker."""

    def __init__(self, plugin_path: Iterable[str] = ()) -> None:
        for package in plugin_path:
            if package.strip():
                try:
                    importlib.import_module(package.strip())
                except ImportError as exc:
                    raise ConnectException(f"plugin.path: cannot import {package!r}: {exc}") from exc
        self._by_kind: dict[str, dict[str, type]] = {}
        self._register("converter", _builtin_converters())
        self._register("transformation", _builtin_transforms())
        self._register("predicate", _builtin_predicates())
        self._register("connector", _builtin_connectors())
        self._register("connector", self._entry_point_connectors())

    def _register(self, kind: str, classes: Iterable[type]) -> None:
        table = self._by_kind.setdefault(kind, {})
        for cls in classes:
            for alias in _aliases(cls):
                table.setdefault(alias, cls)

    @staticmethod
    def _entry_point_connectors() -> list[type]:
        found: list[type] = []
        for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry.load()
            except Exception:  # a broken third-party plugin must not stop the worker
                continue
            if isinstance(loaded, type) and issubclass(loaded, Connector):
                found.append(loaded)
        return found

    def _resolve(self, kind: str, name: str, base: type) -> type:
        name = name.strip()
        cls = self._by_kind.get(kind, {}).get(name)
        if cls is None:
            cls = _import_path(name)
        if cls is None or not (isinstance(cls, type) and issubclass(cls, base)):
            raise ConnectException(
                f"Failed to find any class that implements {base.__name__} and which name matches {name}"
            )
        return cls

    def connector_class(self, name: str) -> type[Connector]:
        return self._resolve("connector", name, Connector)

    def converter_class(self, name: str) -> type[Converter]:
        return self._resolve("converter", name, Converter)

    def header_converter_class(self, name: str) -> type[HeaderConverter]:
        return self._resolve("converter", name, HeaderConverter)

    def transformation_class(self, name: str) -> type[Transformation]:
        return self._resolve("transformation", name, Transformation)

    def predicate_class(self, name: str) -> type[Predicate]:
        return self._resolve("predicate", name, Predicate)

    def connectors(self) -> list[type[Connector]]:
        return _unique(self._by_kind.get("connector", {}).values())

    def plugins(self, kind: str) -> list[type]:
        return _unique(self._by_kind.get(kind, {}).values())

    @staticmethod
    def plugin_type(plugin: type) -> PluginType:
        if issubclass(plugin, SourceConnector):
            return PluginType.SOURCE
        if issubclass(plugin, SinkConnector):
            return PluginType.SINK
        if issubclass(plugin, Transformation):
            return PluginType.TRANSFORMATION
        if issubclass(plugin, Predicate):
            return PluginType.PREDICATE
        if issubclass(plugin, Converter):
            return PluginType.CONVERTER
        return PluginType.HEADER_CONVERTER


def class_name(cls: type) -> str:
    """The name the REST API reports: Kafka's Java name for built-ins that have one."""
    java = getattr(cls, "java_class", None)
    return java if isinstance(java, str) else f"{cls.__module__}.{cls.__qualname__}"


def _unique(classes: Iterable[type]) -> list[type[Any]]:
    seen: dict[type, None] = {}
    for cls in classes:
        seen.setdefault(cls, None)
    return list(seen)


def _import_path(name: str) -> type | None:
    module_name, sep, attr = name.partition(":")
    if not sep:
        module_name, _, attr = name.rpartition(".")
    if not module_name or not attr:
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    found = getattr(module, attr, None)
    return found if isinstance(found, type) else None
