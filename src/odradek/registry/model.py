"""The schema registry's vocabulary: schema types, references, registered versions, levels, modes.

Names follow Confluent's REST API and `_schemas` records, so values read from either pass through
unchanged. A *subject* may carry a context prefix (``:.ctx:subject``, Confluent's contexts): schema
ids are allocated per context, and the default context is ``.``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from odradek.model.ids import SchemaId

DEFAULT_CONTEXT = "."


class SchemaType(StrEnum):
    AVRO = "AVRO"
    JSON = "JSON"
    PROTOBUF = "PROTOBUF"


class CompatibilityLevel(StrEnum):
    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        return self.name.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        """The new schema must read data written with the old ones."""
        return self.name.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        """The old schemas must read data written with the new one."""
        return self.name.startswith(("FORWARD", "FULL"))


class Mode(StrEnum):
    READWRITE = "READWRITE"
    READONLY = "READONLY"
    READONLY_OVERRIDE = "READONLY_OVERRIDE"
    IMPORT = "IMPORT"


@dataclass(frozen=True, slots=True)
class Reference:
    """A schema's dependency: ``name`` as the schema says it (import path, Avro full name, $ref URL)."""

    name: str
    subject: str
    version: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass(frozen=True, slots=True)
class Schema:
    """Schema content: what an id names (text, type, references, and data-contract extras)."""

    schema_type: SchemaType
    text: str
    references: tuple[Reference, ...] = ()
    metadata: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    rule_set: dict[str, Any] | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    """One registered version of a subject (a SCHEMA record of `_schemas`)."""

    subject: str
    version: int
    id: SchemaId
    schema: Schema
    deleted: bool = False


def context_of(subject: str) -> str:
    """``:.ctx:name`` → ``.ctx``; anything else is in the default context ``.``."""
    if subject.startswith(":."):
        end = subject.find(":", 2)
        if end > 0:
            return subject[1:end]
    return DEFAULT_CONTEXT


def unqualified(subject: str) -> str:
    if subject.startswith(":."):
        end = subject.find(":", 2)
        if end > 0:
            return subject[end + 1 :]
    return subject


def matches_prefix(subject: str, prefix: str) -> bool:
    """``subjectPrefix`` matching: ``:*:p`` is ``p`` in any context; ``:*:`` and ``""`` match all."""
    if prefix.startswith(":*:"):
        return unqualified(subject).startswith(prefix[3:])
    return subject.startswith(prefix)
