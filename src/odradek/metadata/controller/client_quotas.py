"""AlterClientQuotas and DescribeClientQuotas (KIP-546) over the cluster image.

An alteration names an entity and a list of (key, value) operations, value None meaning remove.
Each entry is validated on its own (INVALID_REQUEST with a message): the entity (user, client-id,
both, or ip; an ip must parse), the keys (known for the entity kind), the values (positive; whole
numbers for byte rates and connection rates). `validate_only` returns the results and no records.

A describe filter is a list of components (entity type, match type, name): EXACT a given name,
DEFAULT the default entity of that type, SPECIFIED any non-default name. An entity matches when it
has a matching component for every filter component; with `strict`, it also has no other types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from odradek.metadata.controller.result import NO_ERROR, ApiError, ControllerResult, invalid_request
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import MetadataRecord
from odradek.metadata.security_image import quota_record
from odradek.security.quotas.client_quotas import ENTITY_TYPES, IP, QuotaEntity, entity_error, value_error


@dataclass(frozen=True, slots=True)
class QuotaAlteration:
    entity: QuotaEntity
    ops: tuple[tuple[str, float | None], ...]


def alter_client_quotas(
    image: ClusterImage, alterations: Sequence[QuotaAlteration], validate_only: bool
) -> ControllerResult[list[ApiError]]:
    records: list[MetadataRecord] = []
    results: list[ApiError] = []
    for alteration in alterations:
        error = entity_error(alteration.entity)
        keys = [key for key, _ in alteration.ops]
        if error is None and len(set(keys)) != len(keys):
            error = "Duplicate quota key in the same entry"
        for key, value in alteration.ops:
            if error is None and value is not None:
                error = value_error(alteration.entity, key, value)
            elif error is None:
                error = value_error(alteration.entity, key, 1.0)  # removing: only the key must be known
        if error is not None:
            results.append(invalid_request(error))
            continue
        results.append(NO_ERROR)
        current = image.security.client_quotas.get(alteration.entity, {})
        for key, value in alteration.ops:
            if value is None and key not in current:
                continue
            records.append(quota_record(alteration.entity, key, value))
    return ControllerResult(() if validate_only else tuple(records), results)


class MatchType(IntEnum):
    EXACT = 0
    DEFAULT = 1
    SPECIFIED = 2


@dataclass(frozen=True, slots=True)
class QuotaFilterComponent:
    entity_type: str
    match_type: int
    match: str | None = None


def describe_client_quotas(
    image: ClusterImage, components: Sequence[QuotaFilterComponent], strict: bool
) -> tuple[ApiError, list[tuple[QuotaEntity, Mapping[str, float]]]]:
    types = [c.entity_type for c in components]
    if len(set(types)) != len(types):
        return invalid_request("Duplicate entity type in filter"), []
    for component in components:
        if component.entity_type not in ENTITY_TYPES:
            return invalid_request(f"Unknown entity type {component.entity_type}"), []
        if component.match_type not in MatchType.__members__.values():
            return invalid_request(f"Unknown match type {component.match_type}"), []
    if IP in types and len(types) > 1:
        return invalid_request("Invalid entity filter: ip cannot be combined with user or client-id"), []
    out = []
    for quota_entity, values in image.security.client_quotas.items():
        names = dict(quota_entity)
        if strict and set(names) != set(types):
            continue
        if all(_component_matches(c, names) for c in components):
            out.append((quota_entity, values))
    return NO_ERROR, out


def _component_matches(component: QuotaFilterComponent, names: Mapping[str, str | None]) -> bool:
    if component.entity_type not in names:
        return False
    name = names[component.entity_type]
    if component.match_type == MatchType.EXACT:
        return name == component.match
    if component.match_type == MatchType.DEFAULT:
        return name is None
    return name is not None
