"""What every schema format gives the registry: a parsed schema with its identity forms.

`ParsedSchema.canonical` is the identity used to recognise "the same schema" (whitespace and,
for Protobuf, comments do not matter, as in Confluent's registry); `normalized` is the identity
under ``normalize=true`` (key order, equivalent spellings and option order do not matter either).
``form`` is the format's parsed structure the compatibility checks read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from odradek.registry.model import SchemaType


class SchemaParseError(ValueError):
    """The schema text is not a valid schema of its type (answered as 42201)."""


@dataclass(frozen=True, slots=True)
class ParsedSchema:
    schema_type: SchemaType
    canonical: str
    normalized: str
    form: Any
    #: for JSON Schema and Avro: the parsed forms of the referenced schemas by reference name
    dependencies: dict[str, Any]

    def identity(self, normalize: bool) -> str:
        return self.normalized if normalize else self.canonical
