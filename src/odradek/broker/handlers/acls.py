"""CreateAcls (30), DescribeAcls (29), DeleteAcls (31), v1-v3: ACLs kept in the cluster metadata.

Without an authorizer (``authorizer.class.name`` unset) all three answer SECURITY_DISABLED, as Kafka
does. Otherwise CreateAcls and DeleteAcls need ALTER on the cluster and DescribeAcls DESCRIBE on it
(CLUSTER_AUTHORIZATION_FAILED). Validation and matching are `metadata.controller.acls` (Kafka's
messages); the answer comes once the change is persisted and the authorizer sees it.
"""

from __future__ import annotations

import random
from enum import IntEnum
from typing import TypeVar

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.metadata.controller.acls import create_acls, delete_acls
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import create_acls as create_msg
from odradek.protocol.messages import delete_acls as delete_msg
from odradek.protocol.messages import describe_acls as describe_msg
from odradek.security.acl import (
    AccessControlEntry,
    AccessControlEntryFilter,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
    filter_error,
)

SECURITY_DISABLED = "No Authorizer is configured on the broker"


E = TypeVar("E", bound=IntEnum)


def _enum(kind: type[E], value: int) -> E:
    try:
        return kind(value)
    except ValueError:
        return kind(0)  # UNKNOWN: refused by validation with Kafka's message


def _binding(c: create_msg.AclCreation) -> AclBinding:
    return AclBinding(
        ResourcePattern(
            _enum(ResourceType, c.resource_type), c.resource_name, _enum(PatternType, c.resource_pattern_type)
        ),
        AccessControlEntry(
            c.principal, c.host, _enum(AclOperation, c.operation), _enum(AclPermissionType, c.permission_type)
        ),
    )


def _filter(
    resource_type: int,
    name: str | None,
    pattern_type: int,
    principal: str | None,
    host: str | None,
    op: int,
    permission: int,
) -> AclBindingFilter:
    return AclBindingFilter(
        ResourcePatternFilter(_enum(ResourceType, resource_type), name, _enum(PatternType, pattern_type)),
        AccessControlEntryFilter(
            principal, host, _enum(AclOperation, op), _enum(AclPermissionType, permission)
        ),
    )


async def create(ctx: RequestContext, request: create_msg.CreateAclsRequest) -> create_msg.CreateAclsResponse:
    def every(code: ErrorCode, message: str) -> create_msg.CreateAclsResponse:
        return create_msg.CreateAclsResponse(
            results=[create_msg.AclCreationResult(code, message) for _ in request.creations]
        )

    authorizer = ctx.ports.authorizer
    if not authorizer.enabled:
        return every(ErrorCode.SECURITY_DISABLED, SECURITY_DISABLED)
    if not authorizer.authorize_cluster(ctx, AclOperation.ALTER):
        return every(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.")
    bindings = [_binding(c) for c in request.creations]
    rng = random.Random()
    results = await ctx.ports.metadata.run_controller(lambda image: create_acls(image, bindings, rng))
    return create_msg.CreateAclsResponse(
        results=[create_msg.AclCreationResult(r.code, r.message) for r in results]
    )


def describe(
    ctx: RequestContext, request: describe_msg.DescribeAclsRequest
) -> describe_msg.DescribeAclsResponse:
    authorizer = ctx.ports.authorizer
    if not authorizer.enabled:
        return describe_msg.DescribeAclsResponse(
            error_code=ErrorCode.SECURITY_DISABLED, error_message=SECURITY_DISABLED
        )
    if not authorizer.authorize_cluster(ctx, AclOperation.DESCRIBE):
        return describe_msg.DescribeAclsResponse(
            error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED, error_message=None
        )
    acl_filter = _filter(
        request.resource_type_filter,
        request.resource_name_filter,
        request.pattern_type_filter,
        request.principal_filter,
        request.host_filter,
        request.operation,
        request.permission_type,
    )
    error = filter_error(acl_filter)
    if error is not None:
        return describe_msg.DescribeAclsResponse(error_code=ErrorCode.INVALID_REQUEST, error_message=error)
    grouped: dict[tuple[int, str, int], list[describe_msg.AclDescription]] = {}
    for binding in authorizer.current().acls(acl_filter):
        p, e = binding.pattern, binding.entry
        grouped.setdefault((p.resource_type, p.name, p.pattern_type), []).append(
            describe_msg.AclDescription(e.principal, e.host, e.operation, e.permission_type)
        )
    return describe_msg.DescribeAclsResponse(
        error_message=None,
        resources=[
            describe_msg.DescribeAclsResource(t, n, pt, acls) for (t, n, pt), acls in sorted(grouped.items())
        ],
    )


async def delete(ctx: RequestContext, request: delete_msg.DeleteAclsRequest) -> delete_msg.DeleteAclsResponse:
    def every(code: ErrorCode, message: str | None) -> delete_msg.DeleteAclsResponse:
        return delete_msg.DeleteAclsResponse(
            filter_results=[delete_msg.DeleteAclsFilterResult(code, message) for _ in request.filters]
        )

    authorizer = ctx.ports.authorizer
    if not authorizer.enabled:
        return every(ErrorCode.SECURITY_DISABLED, SECURITY_DISABLED)
    if not authorizer.authorize_cluster(ctx, AclOperation.ALTER):
        return every(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.")
    filters = [
        _filter(
            f.resource_type_filter,
            f.resource_name_filter,
            f.pattern_type_filter,
            f.principal_filter,
            f.host_filter,
            f.operation,
            f.permission_type,
        )
        for f in request.filters
    ]
    results = await ctx.ports.metadata.run_controller(lambda image: delete_acls(image, filters))
    out = []
    for error, matched in results:
        out.append(
            delete_msg.DeleteAclsFilterResult(
                error.code,
                error.message,
                [
                    delete_msg.DeleteAclsMatchingAcl(
                        0,
                        None,
                        b.pattern.resource_type,
                        b.pattern.name,
                        b.pattern.pattern_type,
                        b.entry.principal,
                        b.entry.host,
                        b.entry.operation,
                        b.entry.permission_type,
                    )
                    for b in matched
                ],
            )
        )
    return delete_msg.DeleteAclsResponse(filter_results=out)


SPECS = [
    ApiSpec(
        ApiKey.CREATE_ACLS,
        1,
        3,
        create_msg.REQUEST,
        create_msg.RESPONSE,
        create,
        notes="LITERAL and PREFIXED; stored in the cluster metadata",
    ),
    ApiSpec(
        ApiKey.DESCRIBE_ACLS,
        1,
        3,
        describe_msg.REQUEST,
        describe_msg.RESPONSE,
        describe,
        notes="filters: ANY, MATCH, LITERAL, PREFIXED",
    ),
    ApiSpec(ApiKey.DELETE_ACLS, 1, 3, delete_msg.REQUEST, delete_msg.RESPONSE, delete, notes="filters"),
]
