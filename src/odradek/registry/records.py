"""The `_schemas` topic's records, in Confluent Schema Registry's format (Karapace writes the same).

One compacted, single-partition topic holds the whole registry. Key and value are compact JSON
(UTF-8, no spaces). Keys are compared byte for byte by compaction, so their field order is fixed:
``keytype`` first, then ``subject``, ``version``, ``magic``.

Any value may be null: a tombstone.

- SCHEMA: key: ``{"keytype":"SCHEMA","subject":S,"version":V,"magic":1}``; value:
  ``{"subject","version","id","schemaType"?,"references"?,"metadata"?,"ruleSet"?,"schema","deleted"}``
  (schemaType absent = AVRO)
- CONFIG: key: ``{"keytype":"CONFIG","subject":S or null,"magic":0}``; value (null = tombstone):
  ``{"compatibilityLevel":L, ...}`` (null subject = global)
- MODE: key: ``{"keytype":"MODE","subject":S or null,"magic":0}``; value: ``{"mode":M}``
- DELETE_SUBJECT: key: ``{"keytype":"DELETE_SUBJECT","subject":S,"magic":0}``; value (null = tombstone):
  ``{"subject":S,"version":V}``: versions ≤ V soft-deleted
- CLEAR_SUBJECT: key: ``{"keytype":"CLEAR_SUBJECT","subject":S,"magic":0}``; value (null = tombstone):
  ``{"subject":S}``: versions hard-deleted
- NOOP: key: ``{"keytype":"NOOP","magic":0}``; value: anything: written by a new primary,
  read back to know it has caught up

A hard delete writes tombstones for the SCHEMA keys. Records with other keytypes (newer Confluent
features: CONTEXT, associations) are skipped, as are records this module cannot parse: the reader
must never stop on one bad record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from odradek.model.ids import SchemaId
from odradek.registry.model import Reference, Schema, SchemaType, SchemaVersion


@dataclass(frozen=True, slots=True)
class SchemaKey:
    subject: str
    version: int


@dataclass(frozen=True, slots=True)
class ConfigKey:
    subject: str | None


@dataclass(frozen=True, slots=True)
class ModeKey:
    subject: str | None


@dataclass(frozen=True, slots=True)
class DeleteSubjectKey:
    subject: str


@dataclass(frozen=True, slots=True)
class ClearSubjectKey:
    subject: str


@dataclass(frozen=True, slots=True)
class NoopKey:
    pass


Key = SchemaKey | ConfigKey | ModeKey | DeleteSubjectKey | ClearSubjectKey | NoopKey


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def encode_key(key: Key) -> bytes:
    match key:
        case SchemaKey(subject, version):
            # dict order is the wire order: keytype, subject, version, magic
            return _dumps({"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1})
        case ConfigKey(subject):
            return _dumps({"keytype": "CONFIG", "subject": subject, "magic": 0})
        case ModeKey(subject):
            return _dumps({"keytype": "MODE", "subject": subject, "magic": 0})
        case DeleteSubjectKey(subject):
            return _dumps({"keytype": "DELETE_SUBJECT", "subject": subject, "magic": 0})
        case ClearSubjectKey(subject):
            return _dumps({"keytype": "CLEAR_SUBJECT", "subject": subject, "magic": 0})
        case NoopKey():
            return _dumps({"keytype": "NOOP", "magic": 0})
    raise TypeError(key)


def decode_key(data: bytes) -> Key | None:
    """The key, or None for keys of unknown types or bad shape (skipped by readers)."""
    try:
        raw = json.loads(data)
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    keytype = raw.get("keytype")
    subject = raw.get("subject")
    if keytype == "SCHEMA" and isinstance(subject, str) and isinstance(raw.get("version"), int):
        return SchemaKey(subject, raw["version"])
    if keytype == "CONFIG" and (subject is None or isinstance(subject, str)):
        return ConfigKey(subject)
    if keytype == "MODE" and (subject is None or isinstance(subject, str)):
        return ModeKey(subject)
    if keytype == "DELETE_SUBJECT" and isinstance(subject, str):
        return DeleteSubjectKey(subject)
    if keytype == "CLEAR_SUBJECT" and isinstance(subject, str):
        return ClearSubjectKey(subject)
    if keytype == "NOOP":
        return NoopKey()
    return None


def encode_schema_value(entry: SchemaVersion) -> bytes:
    value: dict[str, Any] = {"subject": entry.subject, "version": entry.version, "id": entry.id}
    schema = entry.schema
    if schema.schema_type is not SchemaType.AVRO:
        value["schemaType"] = schema.schema_type.value
    if schema.references:
        value["references"] = [ref.to_json() for ref in schema.references]
    if schema.metadata is not None:
        value["metadata"] = schema.metadata
    if schema.rule_set is not None:
        value["ruleSet"] = schema.rule_set
    value["schema"] = schema.text
    value["deleted"] = entry.deleted
    return _dumps(value)


def decode_schema_value(key: SchemaKey, data: bytes) -> SchemaVersion | None:
    try:
        raw = json.loads(data)
        schema_id = raw["id"]
        text = raw["schema"]
        schema_type = SchemaType(raw.get("schemaType") or "AVRO")
        references = tuple(
            Reference(str(ref["name"]), str(ref["subject"]), int(ref["version"]))
            for ref in raw.get("references") or ()
        )
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(schema_id, int) or not isinstance(text, str):
        return None
    metadata = raw.get("metadata")
    rule_set = raw.get("ruleSet")
    schema = Schema(
        schema_type,
        text,
        references,
        metadata if isinstance(metadata, dict) else None,
        rule_set if isinstance(rule_set, dict) else None,
    )
    return SchemaVersion(
        key.subject, key.version, SchemaId(schema_id), schema, bool(raw.get("deleted", False))
    )


def encode_json(value: dict[str, Any]) -> bytes:
    return _dumps(value)


def decode_json(data: bytes) -> dict[str, Any] | None:
    try:
        raw = json.loads(data)
    except ValueError:
        return None
    return raw if isinstance(raw, dict) else None
