"""The registry's write operations, run on the primary under its write lock.

Each validates against the store (caught up first), then appends its records as one transaction
and returns once they are read back, so the answer reflects what every instance will see.
"""

from __future__ import annotations

from typing import Any

from odradek.model.ids import SchemaId
from odradek.registry import errors, records
from odradek.registry.model import CompatibilityLevel, Mode, Schema, SchemaVersion
from odradek.registry.service import RegistryService


async def register(
    service: RegistryService,
    subject: str,
    schema: Schema,
    normalize: bool,
    schema_id: int | None = None,
    version: int | None = None,
) -> SchemaVersion:
    store = service.store
    mode = store.mode(subject)
    service.check_writable(subject)
    importing = mode is Mode.IMPORT
    if not importing and schema_id is not None and schema_id >= 0:
        raise errors.operation_not_permitted(
            f"Subject {subject} is not in import mode; a schema id may only be given in IMPORT mode"
        )
    normalize = normalize or store.normalize(subject)
    parsed = service.parse(schema)
    existing = service.find_in_subject(subject, schema, parsed, normalize)
    if existing is not None and (schema_id is None or schema_id < 0 or schema_id == existing.id):
        return existing
    context = service.context(subject)
    if not importing:
        level = store.compatibility(subject)
        findings = service.findings(subject, parsed, level)
        if findings:
            raise errors.incompatible_schema(subject, [str(f) for f in findings])
    same_content = service.existing_id(context, schema, parsed, normalize)
    if importing and schema_id is not None and schema_id >= 0:
        taken = store.schema(context, SchemaId(schema_id))
        if taken is not None and taken != schema and taken.text != schema.text:
            raise errors.id_does_not_match(schema_id, same_content if same_content is not None else schema_id)
        new_id = SchemaId(schema_id)
    elif same_content is not None:
        new_id = same_content
    else:
        new_id = store.next_id(context)
    if importing and version is not None and version > 0:
        if store.version(subject, version) is not None:
            raise errors.operation_not_permitted(f"Version {version} of subject {subject} already exists")
        new_version = version
    else:
        new_version = store.next_version(subject)
    stored = (
        schema
        if same_content is None or store.schema(context, new_id) is None
        else store.schema(context, new_id)
    )
    assert stored is not None
    entry = SchemaVersion(
        subject,
        new_version,
        new_id,
        Schema(schema.schema_type, stored.text, schema.references, schema.metadata, schema.rule_set),
    )
    await service.append([service.schema_record(entry)])
    return entry


async def delete_version(
    service: RegistryService, subject: str, version: SchemaVersion, permanent: bool
) -> int:
    service.check_writable(subject)
    referencing = service.store.referencing(subject, version.version)
    if referencing:
        raise errors.reference_exists(subject, version.version)
    key = records.encode_key(records.SchemaKey(subject, version.version))
    if permanent:
        if not version.deleted:
            raise errors.version_not_soft_deleted(subject, version.version)
        await service.append([(key, None)])
    else:
        if version.deleted:
            raise errors.version_soft_deleted(subject, version.version)
        deleted = SchemaVersion(version.subject, version.version, version.id, version.schema, True)
        await service.append([service.schema_record(deleted)])
    return version.version


async def delete_subject(service: RegistryService, subject: str, permanent: bool) -> list[int]:
    store = service.store
    service.check_writable(subject)
    everything = store.subject_versions(subject, include_deleted=True)
    live = [v for v in everything if not v.deleted]
    if not everything:
        raise errors.subject_not_found(subject)
    for entry in everything:
        if store.referencing(subject, entry.version):
            raise errors.reference_exists(subject, entry.version)
    if permanent:
        if live:
            raise errors.subject_not_soft_deleted(subject)
        items: list[tuple[bytes, bytes | None]] = [
            (records.encode_key(records.SchemaKey(subject, v.version)), None) for v in everything
        ]
        if store.subject_config(subject) is not None:
            items.append((records.encode_key(records.ConfigKey(subject)), None))
        if subject in store.modes:
            items.append((records.encode_key(records.ModeKey(subject)), None))
        await service.append(items)
        return [v.version for v in everything]
    if not live:
        raise errors.subject_soft_deleted(subject)
    value = records.encode_json({"subject": subject, "version": live[-1].version})
    await service.append([(records.encode_key(records.DeleteSubjectKey(subject)), value)])
    return [v.version for v in live]


async def set_config(service: RegistryService, subject: str | None, body: dict[str, Any]) -> dict[str, Any]:
    service.check_writable(subject, config_change=True)
    level_text = body.get("compatibility", body.get("compatibilityLevel"))
    value: dict[str, Any] = {}
    if level_text is not None:
        try:
            level = CompatibilityLevel(str(level_text).upper())
        except ValueError as exc:
            raise errors.invalid_compatibility_level(level_text) from exc
        value["compatibilityLevel"] = level.value
    for name in (
        "normalize",
        "validateFields",
        "alias",
        "compatibilityGroup",
        "defaultMetadata",
        "overrideMetadata",
        "defaultRuleSet",
        "overrideRuleSet",
        "compatibilityPolicy",
    ):
        if name in body:
            value[name] = body[name]
    if not value:
        raise errors.invalid_compatibility_level(level_text)
    previous = service.store.subject_config(subject) or {}
    merged = {**previous, **value}
    await service.append([(records.encode_key(records.ConfigKey(subject)), records.encode_json(merged))])
    response = dict(value)
    if "compatibilityLevel" in response:
        response["compatibility"] = response.pop("compatibilityLevel")
    return response


async def delete_config(service: RegistryService, subject: str | None) -> dict[str, Any]:
    service.check_writable(subject, config_change=True)
    previous = service.store.subject_config(subject)
    if subject is not None and previous is None:
        if not service.store.has_subject(subject):
            raise errors.subject_not_found(subject)
        raise errors.subject_level_compatibility_not_configured(subject)
    await service.append([(records.encode_key(records.ConfigKey(subject)), None)])
    shown = previous or {"compatibilityLevel": service.store.compatibility(None).value}
    return dict(shown)


async def set_mode(service: RegistryService, subject: str | None, mode_text: object, force: bool) -> Mode:
    try:
        mode = Mode(str(mode_text).upper())
    except ValueError as exc:
        raise errors.invalid_mode(mode_text) from exc
    store = service.store
    if mode is Mode.IMPORT and not force:
        has_schemas = store.has_subject(subject) if subject is not None else bool(store.subjects(True))
        if has_schemas:
            where = f"subject {subject}" if subject else "the registry"
            raise errors.operation_not_permitted(
                f"Cannot import since found existing subjects in {where}; use force=true"
            )
    await service.append(
        [(records.encode_key(records.ModeKey(subject)), records.encode_json({"mode": mode.value}))]
    )
    return mode


async def delete_mode(service: RegistryService, subject: str) -> Mode:
    store = service.store
    if subject not in store.modes:
        raise errors.subject_level_mode_not_configured(subject)
    previous = store.modes[subject]
    await service.append([(records.encode_key(records.ModeKey(subject)), None)])
    return previous
