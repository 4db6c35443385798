"""DescribeTransactions (65), v0: state, producer id/epoch, timeout, start time and partitions of
transactional ids. TRANSACTIONAL_ID_NOT_FOUND for an unknown id; NOT_COORDINATOR before
`__transaction_state` exists (FindCoordinator TRANSACTION creates it), as Kafka answers."""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import describe_transactions as msg


def handle(ctx: RequestContext, request: msg.DescribeTransactionsRequest) -> msg.DescribeTransactionsResponse:
    states = ctx.ports.transactions.service.describe_transactions(request.transactional_ids)
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
