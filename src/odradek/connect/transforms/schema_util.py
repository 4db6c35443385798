"""Helpers for transforms that rebuild schemas: copy a schema's metadata onto a builder, and a
small LRU cache from input schema to output schema (the same input schema recurs on every record)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from odradek.connect.data.schema import Schema, SchemaBuilder


def copy_basics(source: Schema, builder: SchemaBuilder) -> SchemaBuilder:
    builder.name(source.name).version(source.version).doc(source.doc)
    if source.parameters:
        builder.parameters(source.params)
    if source.optional:
        builder.optional()
    return builder


class SchemaCache:
    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._entries: OrderedDict[Schema, Schema] = OrderedDict()

    def get_or_build(self, schema: Schema, build: Callable[[Schema], Schema]) -> Schema:
        found = self._entries.get(schema)
        if found is None:
            found = build(schema)
            self._entries[schema] = found
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(schema)
        return found
