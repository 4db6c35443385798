"""DescribeTransactions (65), v0: state, producer id/epoch, timeout, start time and partitions of
transactional ids. TRANSACTIONAL_ID_NOT_FOUND for an unknown id; NOT_COORDINATOR before
`__transaction_state` exists (FindCoordinator TRANSACTION creates it), as Kafka answers."""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import describe_transactions as msg
from odradek.security.acl import AclOperation, ResourceType


def handle(ctx: RequestContext, request: msg.DescribeTransactionsRequest) -> msg.DescribeTransactionsResponse:
    authorizer = ctx.ports.authorizer
    wanted = request.transactional_ids
    allowed = set(authorizer.allowed_names(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, wanted))
    found = {
        s.transactional_id: s
        for s in ctx.ports.transactions.service.describe_transactions([t for t in wanted if t in allowed])
    }
    states = [
        found.get(t)
        or msg.TransactionState(
            error_code=ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, transactional_id=t
        )
        for t in wanted
    ]
    for state in states:  # the partitions of topics the principal may not describe are not shown
        state.topics = [
            t
            for t in state.topics
            if authorizer.allowed_names(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, [t.topic])
        ]
    return msg.DescribeTransactionsResponse(transaction_states=states)


SPEC = ApiSpec(
    ApiKey.DESCRIBE_TRANSACTIONS,
    0,
    0,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="state, producer id/epoch, timeout, partitions",
)
