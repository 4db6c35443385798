"""DescribeUserScramCredentials (50) and AlterUserScramCredentials (51), v0 (KIP-554).

Describe needs DESCRIBE on the cluster, Alter needs ALTER (CLUSTER_AUTHORIZATION_FAILED for every
user otherwise). Rules and messages: `metadata.controller.scram_credentials`. Credentials take effect
for the next SCRAM login on any listener.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.metadata.controller.scram_credentials import (
    ScramDeletion,
    ScramUpsertion,
    alter_user_scram_credentials,
    describe_user_scram_credentials,
)
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import alter_user_scram_credentials as alter_msg
from odradek.protocol.messages import describe_user_scram_credentials as describe_msg
from odradek.security.acl import AclOperation


def describe(
    ctx: RequestContext, request: describe_msg.DescribeUserScramCredentialsRequest
) -> describe_msg.DescribeUserScramCredentialsResponse:
    if not ctx.ports.authorizer.authorize_cluster(ctx, AclOperation.DESCRIBE):
        return describe_msg.DescribeUserScramCredentialsResponse(
            error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED, error_message=None
        )
    users = None if request.users is None else [u.name for u in request.users]
    results = describe_user_scram_credentials(ctx.ports.metadata.image, users)
    return describe_msg.DescribeUserScramCredentialsResponse(
        error_message=None,
        results=[
            describe_msg.DescribeUserScramCredentialsResult(
                r.name,
                r.error.code,
                r.error.message,
                [describe_msg.CredentialInfo(int(m), i) for m, i in r.credentials],
            )
            for r in results
        ],
    )


async def alter(
    ctx: RequestContext, request: alter_msg.AlterUserScramCredentialsRequest
) -> alter_msg.AlterUserScramCredentialsResponse:
    names = list(dict.fromkeys([d.name for d in request.deletions] + [u.name for u in request.upsertions]))
    if not ctx.ports.authorizer.authorize_cluster(ctx, AclOperation.ALTER):
        return alter_msg.AlterUserScramCredentialsResponse(
            results=[
                alter_msg.AlterUserScramCredentialsResult(n, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, None)
                for n in names
            ]
        )
    deletions = [ScramDeletion(d.name, d.mechanism) for d in request.deletions]
    upsertions = [
        ScramUpsertion(u.name, u.mechanism, u.iterations, bytes(u.salt), bytes(u.salted_password))
        for u in request.upsertions
    ]
    results = await ctx.ports.metadata.run_controller(
        lambda image: alter_user_scram_credentials(image, deletions, upsertions)
    )
    return alter_msg.AlterUserScramCredentialsResponse(
        results=[alter_msg.AlterUserScramCredentialsResult(n, e.code, e.message) for n, e in results]
    )


SPECS = [
    ApiSpec(
        ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS,
        0,
        0,
        describe_msg.REQUEST,
        describe_msg.RESPONSE,
        describe,
        notes="mechanisms and iterations per user",
    ),
    ApiSpec(
        ApiKey.ALTER_USER_SCRAM_CREDENTIALS,
        0,
        0,
        alter_msg.REQUEST,
        alter_msg.RESPONSE,
        alter,
        notes="SCRAM-SHA-256/512, 4096-16384 iterations; derived keys kept, never passwords",
    ),
]
