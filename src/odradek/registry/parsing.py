"""Turning stored or submitted schema content into `ParsedSchema`s: references resolved, cached.

References are resolved against the store (subject + version, ``-1`` meaning the latest), depth
first, so a reference's own references come before it; a cycle or a missing reference makes the
schema invalid (42201). Parsed schemas are cached by content: schemas never change once written,
so a cached parse never goes stale, and the cache is bounded (least recently used out).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from odradek.registry import errors
from odradek.registry.formats import avro, json_schema, protobuf
from odradek.registry.formats.base import ParsedSchema, SchemaParseError
from odradek.registry.model import Reference, Schema, SchemaType
from odradek.registry.store import SchemaStore

PARSERS: dict[SchemaType, Callable[..., ParsedSchema]] = {
    SchemaType.AVRO: avro.parse,
    SchemaType.JSON: json_schema.parse,
    SchemaType.PROTOBUF: protobuf.parse,
}
CACHE_SIZE = 20_000
TEXT_CACHE_SIZE = 2_000
MAX_REFERENCE_DEPTH = 32


class SchemaParser:
    def __init__(self, store: SchemaStore) -> None:
        self.store = store
        self._cache: OrderedDict[tuple[SchemaType, str, tuple[tuple[str, str], ...]], ParsedSchema] = (
            OrderedDict()
        )
        self._texts: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], str | None] = OrderedDict()

    def resolve(self, references: tuple[Reference, ...]) -> list[tuple[str, str]]:
        """(name, text) of every schema ``references`` reach, dependencies first."""
        out: list[tuple[str, str]] = []
        self._resolve(references, out, [], 0)
        return out

    def _resolve(
        self,
        references: tuple[Reference, ...],
        out: list[tuple[str, str]],
        stack: list[tuple[str, int]],
        depth: int,
    ) -> None:
        if depth > MAX_REFERENCE_DEPTH:
            raise errors.invalid_schema("references nest too deeply")
        for ref in references:
            entry = (
                self.store.latest(ref.subject)
                if ref.version == -1
                else self.store.version(ref.subject, ref.version)
            )
            if entry is None:
                raise errors.invalid_schema(
                    f"reference '{ref.name}' to subject '{ref.subject}' version {ref.version} not found"
                )
            key = (entry.subject, entry.version)
            if key in stack:
                raise errors.invalid_schema(
                    f"circular reference through '{ref.subject}' version {ref.version}"
                )
            stack.append(key)
            self._resolve(entry.schema.references, out, stack, depth + 1)
            stack.pop()
            if all(name != ref.name for name, _ in out):
                out.append((ref.name, entry.schema.text))

    def proto_text(self, schema: Schema) -> str | None:
        """``.proto`` text of a Protobuf schema stored as a base64 descriptor (None otherwise)."""
        if schema.schema_type is not SchemaType.PROTOBUF or protobuf.as_descriptor(schema.text) is None:
            return None
        key = (schema.text, tuple(self.resolve(schema.references)))
        if key not in self._texts:
            self._texts[key] = protobuf.as_text(schema.text, key[1])
            if len(self._texts) > TEXT_CACHE_SIZE:
                self._texts.popitem(last=False)
        return self._texts[key]

    def parse(self, schema: Schema) -> ParsedSchema:
        """The parsed schema; RegistryError 42201 when it (or a reference) is invalid."""
        resolved = tuple(self.resolve(schema.references))
        key = (schema.schema_type, schema.text, resolved)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        try:
            parsed = PARSERS[schema.schema_type](schema.text, resolved)
        except SchemaParseError as exc:
            raise errors.invalid_schema(str(exc)) from exc
        self._cache[key] = parsed
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return parsed
