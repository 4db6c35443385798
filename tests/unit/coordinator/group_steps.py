"""Client-side steps of the classic protocol, run against a `GroupShardDriver`."""

from __future__ import annotations

from typing import Any

from odradek.coordinator.result import WaiterId
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import heartbeat as hb
from odradek.protocol.messages import leave_group as lvg
from odradek.testing.group_coordinator import GroupShardDriver, join_request, sync_request


def join(
    d: GroupShardDriver,
    group: str = "g",
    member_id: str = "",
    *,
    version: int = 9,
    client_id: str = "client",
    **kw: Any,
) -> WaiterId:
    return d.deferred(d.shard.join_group, d.ctx(version, client_id), join_request(group, member_id, **kw))


def new_member(
    d: GroupShardDriver, group: str = "g", *, version: int = 9, client_id: str = "client", **kw: Any
) -> tuple[str, WaiterId]:
    """Join as a new dynamic member (MEMBER_ID_REQUIRED round trip); returns its id and parked JoinGroup."""
    first = d.answer(join(d, group, version=version, client_id=client_id, **kw))
    assert first.error_code == ErrorCode.MEMBER_ID_REQUIRED
    return first.member_id, join(d, group, first.member_id, version=version, client_id=client_id, **kw)


def sync(
    d: GroupShardDriver,
    member_id: str,
    generation: int,
    assignments: dict[str, bytes] | None = None,
    *,
    group: str = "g",
    version: int = 5,
    **kw: Any,
) -> WaiterId:
    return d.deferred(
        d.shard.sync_group, d.ctx(version), sync_request(group, member_id, generation, assignments, **kw)
    )


def heartbeat(
    d: GroupShardDriver, member_id: str, generation: int, *, group: str = "g", instance_id: str | None = None
) -> ErrorCode:
    request = hb.HeartbeatRequest(
        group_id=group, generation_id=generation, member_id=member_id, group_instance_id=instance_id
    )
    return ErrorCode(d.call(d.shard.heartbeat, d.ctx(4), request).error_code)


def leave(d: GroupShardDriver, *members: tuple[str, str | None], group: str = "g") -> lvg.LeaveGroupResponse:
    request = lvg.LeaveGroupRequest(
        group_id=group, members=[lvg.MemberIdentity(member_id=m, group_instance_id=i) for m, i in members]
    )
    response: lvg.LeaveGroupResponse = d.call(d.shard.leave_group, d.ctx(5), request)
    return response


def stable_group(d: GroupShardDriver, n: int, group: str = "g", **kw: Any) -> list[str]:
    """Form a Stable generation-1 group of ``n`` dynamic members; members get b"<index>" as assignment."""
    joined = [new_member(d, group, client_id=f"c{i}", **kw) for i in range(n)]
    d.advance(d.config.group_initial_rebalance_delay_ms * (n + 1))
    ids = [member_id for member_id, _ in joined]
    for _member_id, waiter in joined:
        assert d.answer(waiter).generation_id == 1
    waiters = [sync(d, m, 1, {x: str(i).encode() for i, x in enumerate(ids)}, group=group) for m in ids[1:]]
    waiters.insert(0, sync(d, ids[0], 1, {x: str(i).encode() for i, x in enumerate(ids)}, group=group))
    assert all(d.answer(w).error_code == ErrorCode.NO_ERROR for w in waiters)
    return ids


def classic(d: GroupShardDriver, group: str = "g") -> Any:
    return d.shard.state.groups[group]
