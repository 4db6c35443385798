"""CreateAcls and DeleteAcls as controller operations: validate, then records (Kafka's
AclControlManager rules).

* A binding that fails validation gets INVALID_REQUEST with Kafka's message; the others are
  created. A binding equal to an existing one (or to an earlier one of the same request) succeeds
  without a new record.
* A delete filter that fails validation gets INVALID_REQUEST; otherwise every existing binding it
  matches is removed and reported, each binding once (by the first filter that matches it).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence

from odradek.metadata.controller.result import NO_ERROR, ApiError, ControllerResult, invalid_request
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import MetadataRecord
from odradek.metadata.security_image import acl_record
from odradek.metadata.security_records import RemoveAccessControlEntryRecord
from odradek.security.acl import AclBinding, AclBindingFilter, binding_error, filter_error


def create_acls(
    image: ClusterImage, bindings: Sequence[AclBinding], rng: random.Random
) -> ControllerResult[list[ApiError]]:
    existing = set(image.security.acls.values())
    records: list[MetadataRecord] = []
    results: list[ApiError] = []
    for binding in bindings:
        error = binding_error(binding)
        if error is not None:
            results.append(invalid_request(error))
            continue
        results.append(NO_ERROR)
        if binding not in existing:
            existing.add(binding)
            records.append(acl_record(uuid.UUID(int=rng.getrandbits(128), version=4), binding))
    return ControllerResult(tuple(records), results)


def delete_acls(
    image: ClusterImage, filters: Sequence[AclBindingFilter]
) -> ControllerResult[list[tuple[ApiError, list[AclBinding]]]]:
    remaining = dict(image.security.acls)
    records: list[MetadataRecord] = []
    results: list[tuple[ApiError, list[AclBinding]]] = []
    for acl_filter in filters:
        error = filter_error(acl_filter)
        if error is not None:
            results.append((invalid_request(error), []))
            continue
        matched = [(acl_id, b) for acl_id, b in remaining.items() if acl_filter.matches(b)]
        for acl_id, _ in matched:
            del remaining[acl_id]
            records.append(RemoveAccessControlEntryRecord(acl_id))
        results.append((NO_ERROR, [b for _, b in matched]))
    return ControllerResult(tuple(records), results)
