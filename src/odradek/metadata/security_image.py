"""The security part of the cluster image: ACL bindings, SCRAM credentials, client quotas.

`SecurityImage` is immutable like the rest of the image; `SecurityImage.replay(records)` returns the
next one. The broker builds its authorizer from `acls` and its SCRAM servers read `scram`; quota
managers read `client_quotas`. Replay rules (a record that contradicts the image is a `ValueError`,
which `MetadataDelta` reports as a ReplayError): an ACL id is added once and removed once; a SCRAM
credential record replaces the user's credential for that mechanism; a quota record sets or removes
one key of one entity, and an entity without keys disappears.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from odradek.metadata.security_records import (
    AccessControlEntryRecord,
    ClientQuotaRecord,
    RemoveAccessControlEntryRecord,
    RemoveUserScramCredentialRecord,
    UserScramCredentialRecord,
)
from odradek.security.acl import AccessControlEntry, AclBinding, ResourcePattern
from odradek.security.quotas.client_quotas import QuotaEntity
from odradek.security.sasl.scram_credentials import ScramCredential

SecurityRecord = (
    AccessControlEntryRecord
    | RemoveAccessControlEntryRecord
    | UserScramCredentialRecord
    | RemoveUserScramCredentialRecord
    | ClientQuotaRecord
)


def _empty() -> Mapping[object, object]:
    return MappingProxyType({})


def binding_of(record: AccessControlEntryRecord) -> AclBinding:
    return AclBinding(
        ResourcePattern(record.resource_type, record.resource_name, record.pattern_type),
        AccessControlEntry(record.principal, record.host, record.operation, record.permission_type),
    )


def acl_record(acl_id: uuid.UUID, binding: AclBinding) -> AccessControlEntryRecord:
    p, e = binding.pattern, binding.entry
    return AccessControlEntryRecord(
        acl_id, p.resource_type, p.name, p.pattern_type, e.principal, e.host, e.operation, e.permission_type
    )


def scram_record(name: str, mechanism: str, credential: ScramCredential) -> UserScramCredentialRecord:
    b64 = base64.b64encode
    return UserScramCredentialRecord(
        name,
        mechanism,
        b64(credential.salt).decode(),
        b64(credential.stored_key).decode(),
        b64(credential.server_key).decode(),
        credential.iterations,
    )


def quota_entity_of(record: ClientQuotaRecord) -> QuotaEntity:
    if len(record.entity_types) != len(record.entity_names):
        raise ValueError("ClientQuotaRecord: entity types and names differ in length")
    return frozenset(zip(record.entity_types, record.entity_names, strict=True))


def quota_record(quota_entity: QuotaEntity, key: str, value: float | None) -> ClientQuotaRecord:
    parts = sorted(quota_entity, key=lambda c: c[0])
    return ClientQuotaRecord(
        tuple(t for t, _ in parts), tuple(n for _, n in parts), key, value or 0.0, remove=value is None
    )


@dataclass(frozen=True, slots=True)
class SecurityImage:
    """The security part of the image: ACL bindings by id, SCRAM credentials, client quotas."""

    acls: Mapping[uuid.UUID, AclBinding] = field(default_factory=_empty)  # type: ignore[arg-type]
    scram: Mapping[tuple[str, str], ScramCredential] = field(default_factory=_empty)  # type: ignore[arg-type]
    """(user name, mechanism) -> credential."""
    client_quotas: Mapping[QuotaEntity, Mapping[str, float]] = field(default_factory=_empty)  # type: ignore[arg-type]

    def scram_credential(self, user: str, mechanism: str) -> ScramCredential | None:
        return self.scram.get((user, mechanism))

    def quotas_for_key(self, key: str) -> dict[QuotaEntity, float]:
        return {e: values[key] for e, values in self.client_quotas.items() if key in values}

    def replay(self, records: Iterable[SecurityRecord]) -> SecurityImage:
        acls: dict[uuid.UUID, AclBinding] | None = None
        scram: dict[tuple[str, str], ScramCredential] | None = None
        quotas: dict[QuotaEntity, dict[str, float]] | None = None
        for record in records:
            if isinstance(record, AccessControlEntryRecord):
                acls = dict(self.acls) if acls is None else acls
                if record.acl_id in acls:
                    raise ValueError(f"ACL {record.acl_id} already exists")
                acls[record.acl_id] = binding_of(record)
            elif isinstance(record, RemoveAccessControlEntryRecord):
                acls = dict(self.acls) if acls is None else acls
                if acls.pop(record.acl_id, None) is None:
                    raise ValueError(f"no ACL {record.acl_id} to remove")
            elif isinstance(record, UserScramCredentialRecord):
                scram = dict(self.scram) if scram is None else scram
                scram[(record.name, record.mechanism)] = ScramCredential(
                    base64.b64decode(record.salt),
                    base64.b64decode(record.stored_key),
                    base64.b64decode(record.server_key),
                    record.iterations,
                )
            elif isinstance(record, RemoveUserScramCredentialRecord):
                scram = dict(self.scram) if scram is None else scram
                if scram.pop((record.name, record.mechanism), None) is None:
                    raise ValueError(f"no {record.mechanism} credential of {record.name} to remove")
            else:
                if quotas is None:
                    quotas = {e: dict(v) for e, v in self.client_quotas.items()}
                quota_entity = quota_entity_of(record)
                values = quotas.setdefault(quota_entity, {})
                if record.remove:
                    values.pop(record.key, None)
                else:
                    values[record.key] = float(record.value)
                if not values:
                    del quotas[quota_entity]
        return SecurityImage(
            self.acls if acls is None else MappingProxyType(acls),
            self.scram if scram is None else MappingProxyType(scram),
            self.client_quotas
            if quotas is None
            else MappingProxyType({e: MappingProxyType(v) for e, v in quotas.items()}),
        )

    def to_records(self) -> list[SecurityRecord]:
        records: list[SecurityRecord] = [acl_record(i, b) for i, b in self.acls.items()]
        records += [scram_record(n, m, c) for (n, m), c in sorted(self.scram.items())]
        for quota_entity, values in self.client_quotas.items():
            records += [quota_record(quota_entity, k, v) for k, v in sorted(values.items())]
        return records


EMPTY_SECURITY = SecurityImage()
