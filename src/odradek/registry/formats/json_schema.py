"""JSON Schema: parsed with the standard library, checked against its draft's meta-schema by
`jsonschema` (draft 4, 6, 7, 2019-09 and 2020-12, chosen by ``$schema``; draft 7 when absent, as
Confluent defaults).

References: each reference names a document the schema points at with ``$ref`` (the reference's
``name``, e.g. ``"address.json"``); the parsed form keeps them by name for the compatibility check,
which resolves ``$ref`` itself (local JSON pointers and referenced documents).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import exceptions as jsonschema_exceptions
from jsonschema import validators

from odradek.registry.formats.base import ParsedSchema, SchemaParseError
from odradek.registry.model import SchemaType


@dataclass(frozen=True, slots=True)
class JsonForm:
    schema: Any
    documents: dict[str, Any]


def load(text: str) -> Any:
    try:
        schema = json.loads(text)
    except ValueError as exc:
        raise SchemaParseError(f"not JSON: {exc}") from exc
    if not isinstance(schema, (dict, bool)):
        raise SchemaParseError("a JSON schema is an object or a boolean")
    if isinstance(schema, dict):
        validator = validators.validator_for(schema, default=validators.Draft7Validator)
        try:
            validator.check_schema(schema)
        except jsonschema_exceptions.SchemaError as exc:
            where = "/".join(str(p) for p in exc.absolute_path)
            raise SchemaParseError(f"{exc.message} at /{where}") from exc
    return schema


def parse(text: str, references: Sequence[tuple[str, str]] = ()) -> ParsedSchema:
    schema = load(text)
    documents = {name: load(ref_text) for name, ref_text in references}
    return ParsedSchema(
        SchemaType.JSON,
        canonical=json.dumps(schema, separators=(",", ":")),
        normalized=json.dumps(schema, separators=(",", ":"), sort_keys=True),
        form=JsonForm(schema, documents),
        dependencies=documents,
    )
