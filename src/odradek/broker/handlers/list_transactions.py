"""ListTransactions (66), v0-v2: the transactional ids this broker coordinates, filtered by state,
producer id, v1+ minimum running time (KIP-994) and v2+ a regular expression on the id (KIP-1152).
Unknown state names are echoed in `unknown_state_filters`, as Kafka does."""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import list_transactions as msg
from odradek.security.acl import AclOperation, ResourceType


def handle(ctx: RequestContext, request: msg.ListTransactionsRequest) -> msg.ListTransactionsResponse:
    response = ctx.ports.transactions.service.list_transactions(
        request.state_filters,
        request.producer_id_filters,
        request.duration_filter if ctx.api_version >= 1 else -1,
        request.transactional_id_pattern if ctx.api_version >= 2 else None,
    )
    authorizer = ctx.ports.authorizer
    if authorizer.enabled:  # only the transactional ids the principal may describe
        names = [t.transactional_id for t in response.transaction_states]
        allowed = set(
            authorizer.allowed_names(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, names)
        )
        response.transaction_states = [
            t for t in response.transaction_states if t.transactional_id in allowed
        ]
    return response


SPEC = ApiSpec(
    ApiKey.LIST_TRANSACTIONS,
    0,
    2,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="state, producer id, duration (v1) and pattern (v2) filters",
)
