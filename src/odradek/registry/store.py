"""`SchemaStore`: the materialized view of `_schemas` (pure: records in, answers out).

Every instance replays the topic from offset 0 through `apply` and then tails it; the store never
writes, and nothing else changes it, so all instances that applied the same offset hold the same
state. Replay does no schema parsing (cold start is JSON decoding only); parsing happens on demand
in the service and is cached there.

Rules kept here, as Confluent's registry keeps them:

- a schema id names one schema *content* (type, text, references); ids are per context and the
  next id is the highest ever seen in that context plus one;
- versions are per subject and never reused: the next version is one past the highest seen, even
  after soft deletes;
- a soft-deleted version stays readable with ``deleted=true`` and its id stays resolvable; a hard
  delete (tombstone) removes it, and an id with no version left is gone;
- configuration and mode resolve subject → global → the server's default.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from odradek.model.ids import SchemaId
from odradek.registry import records
from odradek.registry.model import (
    DEFAULT_CONTEXT,
    CompatibilityLevel,
    Mode,
    Reference,
    Schema,
    SchemaVersion,
    context_of,
)

IdKey = tuple[str, SchemaId]
VersionKey = tuple[str, int]


class SchemaStore:
    def __init__(self, default_compatibility: CompatibilityLevel = CompatibilityLevel.BACKWARD) -> None:
        self.default_compatibility = default_compatibility
        self.offset = -1
        self.versions: dict[str, dict[int, SchemaVersion]] = {}
        self.max_version: dict[str, int] = {}
        self.schemas: dict[IdKey, Schema] = {}
        self.usages: dict[IdKey, set[VersionKey]] = defaultdict(set)
        self.max_id: dict[str, int] = defaultdict(int)
        self.configs: dict[str | None, dict[str, Any]] = {}
        self.modes: dict[str | None, Mode] = {}
        self.referenced_by: dict[VersionKey, set[VersionKey]] = defaultdict(set)
        self.by_content: dict[tuple[str, ContentKey], SchemaId] = {}
        self.skipped = 0

    # --- applying records --------------------------------------------------------------------

    def apply(self, key: bytes | None, value: bytes | None, offset: int) -> None:
        self.offset = max(self.offset, offset)
        decoded = records.decode_key(key) if key is not None else None
        if decoded is None:
            self.skipped += 1
            return
        match decoded:
            case records.SchemaKey():
                entry = records.decode_schema_value(decoded, value) if value is not None else None
                if value is not None and entry is None:
                    self.skipped += 1
                    return
                self._put_version(decoded, entry)
            case records.ConfigKey(subject):
                config = records.decode_json(value) if value is not None else None
                if config is None:
                    self.configs.pop(subject, None)
                else:
                    self.configs[subject] = config
            case records.ModeKey(subject):
                raw = records.decode_json(value) if value is not None else None
                try:
                    mode = Mode(raw["mode"]) if raw is not None else None
                except (KeyError, ValueError):
                    self.skipped += 1
                    return
                if mode is None:
                    self.modes.pop(subject, None)
                else:
                    self.modes[subject] = mode
            case records.DeleteSubjectKey(subject):
                raw = records.decode_json(value) if value is not None else None
                upto = raw.get("version") if raw is not None else None
                for version, entry in list(self.versions.get(subject, {}).items()):
                    if not isinstance(upto, int) or version <= upto:
                        self._put_version(records.SchemaKey(subject, version), _deleted(entry))
            case records.ClearSubjectKey(subject):
                for version in list(self.versions.get(subject, {})):
                    self._put_version(records.SchemaKey(subject, version), None)
            case records.NoopKey():
                pass

    def _put_version(self, key: records.SchemaKey, entry: SchemaVersion | None) -> None:
        subject_versions = self.versions.setdefault(key.subject, {})
        old = subject_versions.pop(key.version, None)
        version_key = (key.subject, key.version)
        if old is not None:
            old_id = (context_of(key.subject), old.id)
            self.usages[old_id].discard(version_key)
            for ref in old.schema.references:
                self.referenced_by[(ref.subject, ref.version)].discard(version_key)
            if not self.usages[old_id]:
                del self.usages[old_id]
                gone = self.schemas.pop(old_id, None)
                if gone is not None and self.by_content.get((old_id[0], content_key(gone))) == old.id:
                    del self.by_content[(old_id[0], content_key(gone))]
        if entry is None:
            if not subject_versions:
                del self.versions[key.subject]
            return
        subject_versions[key.version] = entry
        self.max_version[key.subject] = max(self.max_version.get(key.subject, 0), key.version)
        context = context_of(key.subject)
        id_key = (context, entry.id)
        if id_key not in self.schemas:
            self.schemas[id_key] = entry.schema
            self.by_content.setdefault((context, content_key(entry.schema)), entry.id)
        self.usages[id_key].add(version_key)
        self.max_id[context] = max(self.max_id[context], entry.id)
        for ref in entry.schema.references:
            self.referenced_by[(ref.subject, ref.version)].add(version_key)

    # --- reading -----------------------------------------------------------------------------

    def subjects(self, include_deleted: bool = False) -> list[str]:
        return sorted(
            subject
            for subject, versions in self.versions.items()
            if versions and (include_deleted or any(not v.deleted for v in versions.values()))
        )

    def subject_versions(self, subject: str, include_deleted: bool = False) -> list[SchemaVersion]:
        versions = self.versions.get(subject, {})
        return [versions[v] for v in sorted(versions) if include_deleted or not versions[v].deleted]

    def has_subject(self, subject: str) -> bool:
        return bool(self.versions.get(subject))

    def version(self, subject: str, version: int) -> SchemaVersion | None:
        return self.versions.get(subject, {}).get(version)

    def latest(self, subject: str, include_deleted: bool = False) -> SchemaVersion | None:
        live = self.subject_versions(subject, include_deleted)
        return live[-1] if live else None

    def next_version(self, subject: str) -> int:
        return self.max_version.get(subject, 0) + 1

    def schema(self, context: str, schema_id: SchemaId) -> Schema | None:
        return self.schemas.get((context, schema_id))

    def next_id(self, context: str) -> SchemaId:
        return SchemaId(self.max_id[context] + 1)

    def versions_of_id(
        self, context: str, schema_id: SchemaId, include_deleted: bool = False
    ) -> list[VersionKey]:
        out = []
        for subject, version in sorted(self.usages.get((context, schema_id), ())):
            entry = self.version(subject, version)
            if entry is not None and (include_deleted or not entry.deleted):
                out.append((subject, version))
        return out

    def find_id(self, context: str, schema: Schema) -> SchemaId | None:
        """The id already naming exactly this content (text, references, metadata, rules), if any."""
        return self.by_content.get((context, content_key(schema)))

    def ids_in(self, context: str) -> list[SchemaId]:
        return sorted(schema_id for ctx, schema_id in self.schemas if ctx == context)

    def contexts(self) -> list[str]:
        return sorted({context_of(subject) for subject in self.versions} | {"."})

    def referencing(self, subject: str, version: int) -> list[SchemaId]:
        """Ids of live schemas that reference ``subject`` version ``version``."""
        ids = set()
        for ref_subject, ref_version in self.referenced_by.get((subject, version), ()):
            entry = self.version(ref_subject, ref_version)
            if entry is not None and not entry.deleted:
                ids.add(entry.id)
        return sorted(ids)

    def resolve_references(self, references: tuple[Reference, ...]) -> list[SchemaVersion | None]:
        return [self.version(ref.subject, ref.version) for ref in references]

    # --- configuration and mode --------------------------------------------------------------

    def subject_config(self, subject: str | None) -> dict[str, Any] | None:
        return self.configs.get(subject)

    def compatibility(self, subject: str | None) -> CompatibilityLevel:
        for key in scopes(subject):
            config = self.configs.get(key)
            if config is not None and config.get("compatibilityLevel"):
                try:
                    return CompatibilityLevel(str(config["compatibilityLevel"]).upper())
                except ValueError:
                    continue
        return self.default_compatibility

    def normalize(self, subject: str | None) -> bool:
        for key in scopes(subject):
            config = self.configs.get(key)
            if config is not None and isinstance(config.get("normalize"), bool):
                return bool(config["normalize"])
        return False

    def mode(self, subject: str | None) -> Mode:
        for key in scopes(subject):
            if key in self.modes:
                return self.modes[key]
        return Mode.READWRITE

    def inherited_config(self, subject: str) -> dict[str, Any]:
        """The config ``subject`` falls back to: its context's (``:.ctx:``), else the global one."""
        for key in scopes(subject)[1:]:
            config = self.configs.get(key)
            if config is not None:
                return config
        return {}


def scopes(subject: str | None) -> tuple[str | None, ...]:
    """Where a subject's config and mode are looked up, nearest first: the subject, its context
    (``:.ctx:``, for a subject of a named context), the global setting (None)."""
    if subject is None:
        return (None,)
    context = context_of(subject)
    context_key = f":{context}:" if context != DEFAULT_CONTEXT else None
    if context_key is None or context_key == subject:
        return (subject, None)
    return (subject, context_key, None)


ContentKey = tuple[str, str, tuple[Reference, ...], str, str]


def content_key(schema: Schema) -> ContentKey:
    return (
        schema.schema_type.value,
        schema.text,
        schema.references,
        json.dumps(schema.metadata, sort_keys=True),
        json.dumps(schema.rule_set, sort_keys=True),
    )


def _deleted(entry: SchemaVersion) -> SchemaVersion:
    return SchemaVersion(entry.subject, entry.version, entry.id, entry.schema, True)
