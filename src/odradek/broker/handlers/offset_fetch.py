"""OffsetFetch (9), v1-v10: a group's committed offsets (v8+: several groups in one request).

Null topics (v2+) ask for every partition with an offset. Partitions without one answer offset -1.
With ``require_stable`` (v7+), partitions with a pending transactional commit answer
UNSTABLE_OFFSET_COMMIT. v10 names topics by id (UNKNOWN_TOPIC_ID when unknown). A KIP-848 member may
give its id and epoch (v9+: STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID). See
`odradek.coordinator.group.offset_fetch`.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import offset_fetch as msg


async def handle(ctx: RequestContext, request: msg.OffsetFetchRequest) -> msg.OffsetFetchResponse:
    return await ctx.ports.groups.service.offset_fetch(coordinator_context(ctx), request)


SPEC = ApiSpec(
    ApiKey.OFFSET_FETCH,
    1,
    10,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="multi-group (v8+), require_stable (v7+), v10 topic ids",
)
