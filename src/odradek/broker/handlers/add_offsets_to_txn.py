"""AddOffsetsToTxn (25), v0-v4: put the group's `__consumer_offsets` partition in the transaction.

The partition is `abs(groupId.hashCode) % offsets.topic.num.partitions`, as in Kafka; the commit or
abort then writes a marker there too. The offsets themselves come with TxnOffsetCommit, which needs
the group coordinator (not served yet). PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v2.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.coordinator.transaction.results import error_for_client
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import add_offsets_to_txn as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.AddOffsetsToTxnRequest) -> msg.AddOffsetsToTxnResponse:
    authorizer = ctx.ports.authorizer
    if not authorizer.authorize(
        ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactional_id
    ):
        return msg.AddOffsetsToTxnResponse(error_code=ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    if not authorizer.authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        return msg.AddOffsetsToTxnResponse(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
    error = await ctx.ports.transactions.service.add_offsets(
        request.transactional_id, request.producer_id, request.producer_epoch, request.group_id
    )
    return msg.AddOffsetsToTxnResponse(
        error_code=error_for_client(ApiKey.ADD_OFFSETS_TO_TXN, ctx.api_version, error)
    )


SPEC = ApiSpec(
    ApiKey.ADD_OFFSETS_TO_TXN,
    0,
    4,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="adds the group's __consumer_offsets partition to the transaction",
)
