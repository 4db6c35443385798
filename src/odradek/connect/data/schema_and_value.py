"""`SchemaAndValue`: what a converter reads (a schema, possibly none, and the value)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from odradek.connect.data.schema import Schema


@dataclass(frozen=True, slots=True)
class SchemaAndValue:
    schema: Schema | None
    value: Any


NULL = SchemaAndValue(None, None)
