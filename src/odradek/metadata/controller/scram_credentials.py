"""AlterUserScramCredentials and DescribeUserScramCredentials (KIP-554), Kafka's rules and messages.

An upsertion carries (user, mechanism, iterations, salt, salted password): the client derived the
salted password, and the controller derives StoredKey and ServerKey from it, so the password never
reaches the broker and the metadata holds no reusable secret. Results are per user:

* a user named twice with the same mechanism in one request (deletions and upsertions together):
  DUPLICATE_RESOURCE for that user (both mechanisms of a user in one request are fine);
* an empty user name, too few or too many iterations, an empty salt or salted password:
  UNACCEPTABLE_CREDENTIAL; an unknown mechanism: UNSUPPORTED_SASL_MECHANISM;
* deleting a credential that does not exist: RESOURCE_NOT_FOUND.

A user's changes are all applied or none is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from odradek.metadata.controller.result import NO_ERROR, ApiError, ControllerResult
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import MetadataRecord
from odradek.metadata.security_image import scram_record
from odradek.metadata.security_records import RemoveUserScramCredentialRecord
from odradek.model.errors import ErrorCode
from odradek.security.sasl.scram_credentials import (
    BY_TYPE,
    ScramCredential,
    ScramMechanismType,
    iterations_error,
)


@dataclass(frozen=True, slots=True)
class ScramDeletion:
    name: str
    mechanism: int


@dataclass(frozen=True, slots=True)
class ScramUpsertion:
    name: str
    mechanism: int
    iterations: int
    salt: bytes
    salted_password: bytes


def _mechanism_error(mechanism: int) -> ApiError | None:
    if mechanism not in BY_TYPE:
        return ApiError(ErrorCode.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism")
    return None


def alter_user_scram_credentials(
    image: ClusterImage, deletions: Sequence[ScramDeletion], upsertions: Sequence[ScramUpsertion]
) -> ControllerResult[list[tuple[str, ApiError]]]:
    counts = Counter([(d.name, d.mechanism) for d in deletions] + [(u.name, u.mechanism) for u in upsertions])
    order = list(dict.fromkeys([d.name for d in deletions] + [u.name for u in upsertions]))
    errors: dict[str, ApiError] = {}
    records_by_user: dict[str, list[MetadataRecord]] = {name: [] for name in order}
    for (name, _), count in counts.items():
        if count > 1:
            errors[name] = ApiError(
                ErrorCode.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request"
            )
    for deletion in deletions:
        if deletion.name in errors:
            continue
        error = _mechanism_error(deletion.mechanism)
        if error is None and not deletion.name:
            error = ApiError(ErrorCode.UNACCEPTABLE_CREDENTIAL, "Username must not be empty")
        mechanism = BY_TYPE.get(ScramMechanismType(deletion.mechanism)) if error is None else None
        if mechanism is not None and image.security.scram_credential(deletion.name, mechanism.name) is None:
            error = ApiError(
                ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist"
            )
        if error is not None:
            errors[deletion.name] = error
        elif mechanism is not None:
            records_by_user[deletion.name].append(
                RemoveUserScramCredentialRecord(deletion.name, mechanism.name)
            )
    for upsertion in upsertions:
        if upsertion.name in errors:
            continue
        error = _mechanism_error(upsertion.mechanism)
        if error is None:
            mechanism = BY_TYPE[ScramMechanismType(upsertion.mechanism)]
            message = iterations_error(mechanism, upsertion.iterations)
            if not upsertion.name:
                message = "Username must not be empty"
            elif not upsertion.salt or not upsertion.salted_password:
                message = "Salt and salted password must not be empty"
            if message is not None:
                error = ApiError(ErrorCode.UNACCEPTABLE_CREDENTIAL, message)
            else:
                credential = ScramCredential.from_salted_password(
                    mechanism, upsertion.salt, upsertion.salted_password, upsertion.iterations
                )
                records_by_user[upsertion.name].append(
                    scram_record(upsertion.name, mechanism.name, credential)
                )
        if error is not None:
            errors[upsertion.name] = error
    records = tuple(r for name in order if name not in errors for r in records_by_user[name])
    return ControllerResult(records, [(name, errors.get(name, NO_ERROR)) for name in order])


@dataclass(frozen=True, slots=True)
class UserScramDescription:
    name: str
    error: ApiError
    credentials: tuple[tuple[ScramMechanismType, int], ...] = ()


def describe_user_scram_credentials(
    image: ClusterImage, users: Sequence[str] | None
) -> list[UserScramDescription]:
    """None or an empty list: every user with a credential."""
    by_user: dict[str, list[tuple[ScramMechanismType, int]]] = {}
    for (name, mechanism_name), credential in sorted(image.security.scram.items()):
        mechanism = next(m for m in BY_TYPE.values() if m.name == mechanism_name)
        by_user.setdefault(name, []).append((mechanism.type_code, credential.iterations))
    if not users:
        return [UserScramDescription(n, NO_ERROR, tuple(c)) for n, c in by_user.items()]
    counts = Counter(users)
    out = []
    for name in dict.fromkeys(users):
        if counts[name] > 1:
            message = "Cannot describe SCRAM credentials for the same user twice in a single request"
            out.append(UserScramDescription(name, ApiError(ErrorCode.DUPLICATE_RESOURCE, message)))
        elif name not in by_user:
            message = "Attempt to describe a user credential that does not exist"
            out.append(UserScramDescription(name, ApiError(ErrorCode.RESOURCE_NOT_FOUND, message)))
        else:
            out.append(UserScramDescription(name, NO_ERROR, tuple(by_user[name])))
    return out
