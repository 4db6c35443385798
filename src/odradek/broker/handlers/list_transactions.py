"""ListTransactions (66), v0-v2: the transactional ids this broker coordinates, filtered by state,
producer id, v1+ minimum running time (KIP-994) and v2+ a regular expression on the id (KIP-1152).
Unknown state names are echoed in `unknown_state_filters`, as Kafka does."""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import list_transactions as msg


def handle(ctx: RequestContext, request: msg.ListTransactionsRequest) -> msg.ListTransactionsResponse:
    return ctx.ports.transactions.service.list_transactions(
        request.state_filters,
        request.producer_id_filters,
        request.duration_filter if ctx.api_version >= 1 else -1,
        request.transactional_id_pattern if ctx.api_version >= 2 else None,
    )


SPEC = ApiSpec(
    ApiKey.LIST_TRANSACTIONS,
    0,
    2,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="state, producer id, duration (v1) and pattern (v2) filters",
)
