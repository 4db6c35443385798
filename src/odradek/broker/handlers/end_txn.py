"""EndTxn (26), v0-v5: commit or abort the producer's transaction.

Answered once the PrepareCommit/PrepareAbort record is durable in `__transaction_state`; the
coordinator then writes the markers on every partition of the transaction and the Complete record.
v5 is transaction version 2 (KIP-890 part 2): the epoch is bumped by every EndTxn and the response
carries the producer id and epoch for the next transaction. Errors: INVALID_PRODUCER_ID_MAPPING
(unknown id), PRODUCER_FENCED (INVALID_PRODUCER_EPOCH below v2), INVALID_TXN_STATE (nothing to end,
or the other outcome already decided), CONCURRENT_TRANSACTIONS (a change is in flight).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.coordinator.transaction.metadata import TV_0, TV_2
from odradek.coordinator.transaction.results import error_for_client
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import end_txn as msg
from odradek.security.acl import AclOperation, ResourceType

TV2_SINCE = 5


async def handle(ctx: RequestContext, request: msg.EndTxnRequest) -> msg.EndTxnResponse:
    version = ctx.api_version
    if not ctx.ports.authorizer.authorize(
        ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactional_id
    ):
        return msg.EndTxnResponse(error_code=ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    result = await ctx.ports.transactions.service.end_txn(
        request.transactional_id,
        request.producer_id,
        request.producer_epoch,
        request.committed,
        TV_2 if version >= TV2_SINCE else TV_0,
    )
    return msg.EndTxnResponse(
        error_code=error_for_client(ApiKey.END_TXN, version, result.error),
        producer_id=result.producer_id,
        producer_epoch=result.producer_epoch,
    )


SPEC = ApiSpec(
    ApiKey.END_TXN,
    0,
    5,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="commit/abort; markers written to every partition; v5 = transaction version 2 (epoch bump)",
)
