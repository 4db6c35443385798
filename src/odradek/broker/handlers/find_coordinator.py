"""FindCoordinator (10), v0-v6: which broker coordinates a group or a transactional id.

v0-v3 ask about one key (v0: a group), v4+ about a batch of keys of one type, each answered on its
own. On a single node the answer is always this broker, once the coordinator of that key type is
serving: `COORDINATORS` maps a key type to the step that makes it ready (create and load
`__consumer_offsets` or `__transaction_state` on first use). Errors: INVALID_REQUEST for an unknown
key type or an empty transactional id, COORDINATOR_NOT_AVAILABLE while a coordinator cannot serve (retriable).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import find_coordinator as msg
from odradek.security.acl import AclOperation, ResourceType

if TYPE_CHECKING:
    from odradek.broker.ports import BrokerPorts

GROUP = 0
TRANSACTION = 1
BATCHED_SINCE = 4


def _group_coordinator(ports: BrokerPorts) -> Awaitable[ErrorCode]:
    return ports.groups.ensure_ready()


def _transaction_coordinator(ports: BrokerPorts) -> Awaitable[ErrorCode]:
    return ports.transactions.ensure_ready()


COORDINATORS: dict[int, Callable[[BrokerPorts], Awaitable[ErrorCode]] | None] = {
    GROUP: _group_coordinator,
    TRANSACTION: _transaction_coordinator,
}
"""Key type -> coroutine making its coordinator ready (None: a known key type not served)."""


async def handle(ctx: RequestContext, request: msg.FindCoordinatorRequest) -> msg.FindCoordinatorResponse:
    version = ctx.api_version
    key_type = request.key_type if version >= 1 else GROUP
    keys = request.coordinator_keys if version >= BATCHED_SINCE else [request.key]
    found = [await _find(ctx, key_type, key) for key in keys]
    if version >= BATCHED_SINCE:
        return msg.FindCoordinatorResponse(coordinators=found)
    one = found[0]
    return msg.FindCoordinatorResponse(
        error_code=one.error_code,
        error_message=one.error_message if version >= 1 else None,
        node_id=one.node_id,
        host=one.host,
        port=one.port,
    )


async def _find(ctx: RequestContext, key_type: int, key: str) -> msg.Coordinator:
    ports = ctx.ports

    def failed(error: ErrorCode, message: str) -> msg.Coordinator:
        return msg.Coordinator(key=key, node_id=-1, host="", port=-1, error_code=error, error_message=message)

    if key_type not in COORDINATORS:
        return failed(ErrorCode.INVALID_REQUEST, f"unknown coordinator key type {key_type}")
    if key_type == GROUP and not ports.authorizer.authorize(
        ctx, AclOperation.DESCRIBE, ResourceType.GROUP, key
    ):
        return failed(ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.")
    if key_type == TRANSACTION and not ports.authorizer.authorize(
        ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key
    ):
        return failed(
            ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "Transactional Id authorization failed."
        )
    ready = COORDINATORS[key_type]
    if ready is None:
        return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE, "no coordinator of this type on this broker")
    if key_type == TRANSACTION and not key:
        return failed(ErrorCode.INVALID_REQUEST, "empty transactional id")
    error = await ready(ports)
    if error is not ErrorCode.NO_ERROR:
        return failed(error, "the coordinator is not available yet")
    host, port = ports.node.advertised_endpoint(ctx.listener)
    return msg.Coordinator(key=key, node_id=ports.node.node_id, host=host, port=port, error_message=None)


SPEC = ApiSpec(
    ApiKey.FIND_COORDINATOR,
    0,
    6,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="GROUP and TRANSACTION keys, batched (v4+); creates the internal topic on first use",
)
