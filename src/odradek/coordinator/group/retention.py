"""Offsets retention and the expiry of empty groups, run every ``offsets.retention.check.interval.ms``.

An offset expires (KIP-211) once ``offsets.retention.minutes`` have passed since its *base* time:

- classic group with a protocol type, Empty: since the group became Empty (its state timestamp; the
  commit time if unknown); Stable and using the consumer protocol: since the commit, for topics no
  member subscribes to; otherwise (rebalancing, other protocols) offsets do not expire;
- classic group without protocol type ("simple" group, commits only): since the commit;
- consumer (KIP-848) group: since the commit, for topics no member subscribes to.

An offset committed with an explicit retention (OffsetCommit v2-v4) expires at its own expire
timestamp instead. Offsets of a partition with a pending transactional offset never expire. Expired
offsets are deleted with tombstones; a group left Empty with no offsets and no open transaction is
deleted too (its tombstones), which is how an abandoned group eventually disappears.
"""

from __future__ import annotations

from collections.abc import Callable

from odradek.coordinator.group import records as rec
from odradek.coordinator.group.admin import delete_group_records, is_empty
from odradek.coordinator.group.classic_group import CONSUMER_PROTOCOL_TYPE, ClassicGroup
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.offset_commit import is_subscribed_to
from odradek.coordinator.group.offsets import OffsetAndMetadata
from odradek.coordinator.group.state import Group, Op, TimerKind

BaseTime = Callable[[OffsetAndMetadata], int]


def base_time(group: Group) -> BaseTime | None:
    """What an offset's retention is counted from in this group, or None if its offsets do not expire now."""
    if not isinstance(group, ClassicGroup) or group.protocol_type is None:
        return lambda o: o.commit_timestamp_ms
    if group.is_(ClassicGroupState.EMPTY):
        since = group.state_timestamp_ms
        return lambda o: o.commit_timestamp_ms if since == -1 else since
    if (
        group.protocol_type == CONSUMER_PROTOCOL_TYPE
        and group.is_(ClassicGroupState.STABLE)
        and group.subscribed_topics() is not None
    ):
        return lambda o: o.commit_timestamp_ms
    return None


def is_expired(offset: OffsetAndMetadata, base: BaseTime, now_ms: int, retention_ms: int) -> bool:
    if offset.expire_timestamp_ms != -1:
        return now_ms >= offset.expire_timestamp_ms
    return now_ms - base(offset) >= retention_ms


def expire_group(op: Op, group: Group) -> None:
    """Delete the group's expired offsets, then the group itself if nothing is left of it."""
    gid = group.group_id
    offsets = op.state.offsets
    base = base_time(group)
    if base is None:
        return
    remaining = False
    for tp, offset in sorted(offsets.group_offsets(gid).items()):
        if (
            not is_subscribed_to(group, tp.topic)
            and is_expired(offset, base, op.now, op.config.offsets_retention_ms)
            and not offsets.has_pending(gid, tp)
        ):
            op.emit(rec.offset_commit_tombstone(gid, tp.topic, tp.partition))
        else:
            remaining = True
    if not remaining and not offsets.has_open_transactions(gid) and is_empty(group):
        delete_group_records(op, group)


def on_expiration_timer(op: Op) -> None:
    for group in list(op.state.groups.values()):
        expire_group(op, group)
    op.schedule((TimerKind.GROUP_EXPIRATION,), op.config.offsets_retention_check_interval_ms)
