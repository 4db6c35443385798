"""InitProducerId (22), v0-v5: a producer id and epoch for an idempotent or transactional producer.

Without a `transactional_id` (null) the answer is a fresh producer id at epoch 0, from the broker's
current block of ids (blocks come from the metadata log, `ProducerIdsRecord`); while the first block
is being allocated, COORDINATOR_LOAD_IN_PROGRESS (retriable). With one, the transaction coordinator
(`__transaction_state`, created on first use) bumps the epoch, fencing older producers of the id and
aborting their open transaction (CONCURRENT_TRANSACTIONS until that abort completes). v3+ may pass
the current producer id and epoch to recover after an abortable error (KIP-360). v6 (two-phase
commit, KIP-939) is not served. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v4.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.coordinator.transaction.results import error_for_client
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import init_producer_id as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.InitProducerIdRequest) -> msg.InitProducerIdResponse:
    coordinator = ctx.ports.transactions
    transactional_id = request.transactional_id
    authorizer = ctx.ports.authorizer
    if transactional_id is not None:
        if not authorizer.authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactional_id):
            return msg.InitProducerIdResponse(
                error_code=ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producer_id=-1, producer_epoch=-1
            )
    elif not (
        authorizer.authorize_cluster(ctx, AclOperation.IDEMPOTENT_WRITE)
        or authorizer.authorize_by_resource_type(ctx, AclOperation.WRITE, ResourceType.TOPIC)
    ):
        return msg.InitProducerIdResponse(
            error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED, producer_id=-1, producer_epoch=-1
        )
    if transactional_id is not None:
        error = await coordinator.ensure_ready()
        if error is not ErrorCode.NO_ERROR:
            return msg.InitProducerIdResponse(error_code=error, producer_id=-1, producer_epoch=-1)
    else:
        await coordinator.ensure_started()  # (a broker's first idempotent producer starts it)
    result = await coordinator.service.init_producer_id(
        transactional_id, request.transaction_timeout_ms, request.producer_id, request.producer_epoch
    )
    return msg.InitProducerIdResponse(
        error_code=error_for_client(ApiKey.INIT_PRODUCER_ID, ctx.api_version, result.error),
        producer_id=result.producer_id,
        producer_epoch=result.producer_epoch,
    )


SPEC = ApiSpec(
    ApiKey.INIT_PRODUCER_ID,
    0,
    5,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="idempotent and transactional producers; v6 (two-phase commit, KIP-939) not served",
)
