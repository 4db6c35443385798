"""Compatibility between schema versions: pure functions, one module per format (ARCHITECTURE D7).

`check` applies a level: BACKWARD checks the new schema as reader of the old one's data, FORWARD the
old as reader of the new one's data, FULL both; the transitive levels check every live version
(oldest first), the others only the latest. Each finding names the rule, the path and the version
it was found against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from odradek.registry.compatibility import avro, json_schema, protobuf
from odradek.registry.compatibility.result import Incompatibility
from odradek.registry.formats.base import ParsedSchema
from odradek.registry.model import CompatibilityLevel, SchemaType

CHECKERS: dict[SchemaType, Callable[[Any, Any], list[Incompatibility]]] = {
    SchemaType.AVRO: avro.check,
    SchemaType.JSON: json_schema.check,
    SchemaType.PROTOBUF: protobuf.check,
}


@dataclass(frozen=True, slots=True)
class Finding:
    version: int
    direction: str
    incompatibility: Incompatibility

    def __str__(self) -> str:
        return f"{self.incompatibility} (version {self.version}, {self.direction})"


def reads(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why data written with ``writer`` cannot be read with ``reader`` (empty: it can)."""
    if reader.schema_type is not writer.schema_type:
        return [
            Incompatibility(
                "SCHEMA_TYPE_CHANGED", "/", f"schema type {writer.schema_type} became {reader.schema_type}"
            )
        ]
    return CHECKERS[reader.schema_type](reader.form, writer.form)


def check(
    level: CompatibilityLevel, new: ParsedSchema, previous: Sequence[tuple[int, ParsedSchema]]
) -> list[Finding]:
    """``previous``: (version, schema) of the live versions, oldest first."""
    if level is CompatibilityLevel.NONE or not previous:
        return []
    against = previous if level.transitive else previous[-1:]
    findings: list[Finding] = []
    for version, old in reversed(against):
        if new.schema_type is SchemaType.PROTOBUF and old.schema_type is SchemaType.PROTOBUF:
            findings += [
                Finding(version, "RESERVED", i) for i in protobuf.reserved_reused(new.form, old.form)
            ]
        if level.backward:
            findings += [Finding(version, "BACKWARD", i) for i in reads(new, old)]
        if level.forward:
            findings += [Finding(version, "FORWARD", i) for i in reads(old, new)]
    return findings
