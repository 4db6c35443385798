"""DescribeClientQuotas (48) and AlterClientQuotas (49), v0-v1 (KIP-546).

Describe needs DESCRIBE_CONFIGS on the cluster, Alter needs ALTER_CONFIGS (CLUSTER_AUTHORIZATION_FAILED).
Entities, keys, validation and filters: `metadata.controller.client_quotas`. New values apply to
the next request of every client they cover (`broker/quotas.py`).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.metadata.controller.client_quotas import (
    QuotaAlteration,
    QuotaFilterComponent,
    alter_client_quotas,
    describe_client_quotas,
)
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import alter_client_quotas as alter_msg
from odradek.protocol.messages import describe_client_quotas as describe_msg
from odradek.security.acl import AclOperation


def describe(
    ctx: RequestContext, request: describe_msg.DescribeClientQuotasRequest
) -> describe_msg.DescribeClientQuotasResponse:
    if not ctx.ports.authorizer.authorize_cluster(ctx, AclOperation.DESCRIBE_CONFIGS):
        return describe_msg.DescribeClientQuotasResponse(
            error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED, error_message=None, entries=None
        )
    components = [QuotaFilterComponent(c.entity_type, c.match_type, c.match) for c in request.components]
    error, found = describe_client_quotas(ctx.ports.metadata.image, components, request.strict)
    if error.is_error:
        return describe_msg.DescribeClientQuotasResponse(
            error_code=error.code, error_message=error.message, entries=None
        )
    return describe_msg.DescribeClientQuotasResponse(
        error_message=None,
        entries=[
            describe_msg.EntryData(
                [describe_msg.EntityData(t, n) for t, n in sorted(entity, key=lambda c: c[0])],
                [describe_msg.ValueData(k, v) for k, v in sorted(values.items())],
            )
            for entity, values in found
        ],
    )


async def alter(
    ctx: RequestContext, request: alter_msg.AlterClientQuotasRequest
) -> alter_msg.AlterClientQuotasResponse:
    def entity_data(entry: alter_msg.EntryData) -> list[alter_msg.EntityData]:
        return [alter_msg.EntityData(e.entity_type, e.entity_name) for e in entry.entity]

    if not ctx.ports.authorizer.authorize_cluster(ctx, AclOperation.ALTER_CONFIGS):
        return alter_msg.AlterClientQuotasResponse(
            entries=[
                alter_msg.AlterClientQuotasResponseEntryData(
                    ErrorCode.CLUSTER_AUTHORIZATION_FAILED, None, entity_data(e)
                )
                for e in request.entries
            ]
        )
    alterations = [
        QuotaAlteration(
            frozenset((e.entity_type, e.entity_name) for e in entry.entity)
            if len({e.entity_type for e in entry.entity}) == len(entry.entity)
            else frozenset(),
            tuple((op.key, None if op.remove else float(op.value)) for op in entry.ops),
        )
        for entry in request.entries
    ]
    results = await ctx.ports.metadata.run_controller(
        lambda image: alter_client_quotas(image, alterations, request.validate_only)
    )
    return alter_msg.AlterClientQuotasResponse(
        entries=[
            alter_msg.AlterClientQuotasResponseEntryData(r.code, r.message, entity_data(e))
            for r, e in zip(results, request.entries, strict=True)
        ]
    )


SPECS = [
    ApiSpec(
        ApiKey.DESCRIBE_CLIENT_QUOTAS,
        0,
        1,
        describe_msg.REQUEST,
        describe_msg.RESPONSE,
        describe,
        notes="user, client-id, ip entities; EXACT, DEFAULT, SPECIFIED filters",
    ),
    ApiSpec(
        ApiKey.ALTER_CLIENT_QUOTAS,
        0,
        1,
        alter_msg.REQUEST,
        alter_msg.RESPONSE,
        alter,
        notes="byte rates, request_percentage, controller_mutation_rate, connection_creation_rate",
    ),
]
