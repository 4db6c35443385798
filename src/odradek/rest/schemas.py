"""Schema-backed embedded formats (AVRO, JSONSCHEMA, PROTOBUF) through a schema registry.

Placeholder until the registry integration lands: without ``schema.registry.url`` every request
naming a schema-backed format is refused with 42205 and a message saying what is missing.
"""

from __future__ import annotations

from odradek.http import HttpError
from odradek.rest import errors
from odradek.rest.content import Format
from odradek.rest.serde import Serde


class SchemaSupport:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

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

    def deserializer(self, fmt: Format) -> Serde:
        self.require()
        raise HttpError(errors.INVALID_SCHEMA, f"The {fmt.value} format is not available yet.")
