"""The metadata records of security: ACLs, SCRAM credentials and client quotas (KRaft's
AccessControlEntryRecord, RemoveAccessControlEntryRecord, UserScramCredentialRecord,
RemoveUserScramCredentialRecord and ClientQuotaRecord, trimmed to what odradek keeps).

They live with the rest of the cluster metadata, so whichever store holds it (the local file of a
single node, ZooKeeper for a cluster) holds them too, and every broker's authorizer and SASL
servers read the same image. SCRAM records carry only the salted, derived keys (base64), never a
password. A client quota entity is written as parallel tuples of types and names; a name of None is
that type's default entity.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from odradek.security.acl import AclOperation, AclPermissionType, PatternType, ResourceType


@dataclass(frozen=True, slots=True)
class AccessControlEntryRecord:
    """Adds an ACL binding under its id."""

    acl_id: uuid.UUID
    resource_type: ResourceType
    resource_name: str
    pattern_type: PatternType
    principal: str
    host: str
    operation: AclOperation
    permission_type: AclPermissionType


@dataclass(frozen=True, slots=True)
class RemoveAccessControlEntryRecord:
    """Removes the ACL binding with this id."""

    acl_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class UserScramCredentialRecord:
    """Sets a user's SCRAM credential for one mechanism (salt and derived keys, base64)."""

    name: str
    mechanism: str
    salt: str
    stored_key: str
    server_key: str
    iterations: int


@dataclass(frozen=True, slots=True)
class RemoveUserScramCredentialRecord:
    """Removes a user's SCRAM credential for one mechanism."""

    name: str
    mechanism: str


@dataclass(frozen=True, slots=True)
class ClientQuotaRecord:
    """Sets (or removes) one quota key of one client quota entity."""

    entity_types: tuple[str, ...]
    entity_names: tuple[str | None, ...]
    key: str
    value: float
    remove: bool = False


SECURITY_RECORD_TYPES = (
    AccessControlEntryRecord,
    RemoveAccessControlEntryRecord,
    UserScramCredentialRecord,
    RemoveUserScramCredentialRecord,
    ClientQuotaRecord,
)
