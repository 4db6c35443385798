"""TxnOffsetCommit in the group shard: who may commit, pending offsets, markers, the batch's producer."""

from __future__ import annotations

from group_steps import classic, join, stable_group
from offset_steps import end_transaction, fetch, fetched

from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import txn_offset_commit as toc
from odradek.testing.group_coordinator import GroupShardDriver

OK = ErrorCode.NO_ERROR
PID, EPOCH = 4000, 3


def txn_commit(
    d: GroupShardDriver,
    offsets: dict[str, int],
    *,
    group: str = "g",
    generation: int = -1,
    member_id: str = "",
    instance_id: str | None = None,
    metadata: str | None = "",
) -> dict[str, ErrorCode]:
    topics: dict[str, list[toc.TxnOffsetCommitRequestPartition]] = {}
    for tp, offset in offsets.items():
        topic, p = tp.rsplit("-", 1)
        topics.setdefault(topic, []).append(toc.TxnOffsetCommitRequestPartition(int(p), offset, -1, metadata))
    request = toc.TxnOffsetCommitRequest(
        transactional_id="tx",
        group_id=group,
        producer_id=PID,
        producer_epoch=EPOCH,
        generation_id=generation,
        member_id=member_id,
        group_instance_id=instance_id,
        topics=[toc.TxnOffsetCommitRequestTopic(t, ps) for t, ps in topics.items()],
    )
    result = d.shard.txn_offset_commit(d.ctx(3), request, d.now)
    if result.records:
        assert (result.producer_id, result.producer_epoch) == (PID, EPOCH)
    response = d.apply(result)
    assert response is not None
    return {
        f"{t.name}-{p.partition_index}": ErrorCode(p.error_code)
        for t in response.topics
        for p in t.partitions
    }


def test_offsets_stay_pending_until_the_commit_marker() -> None:
    d = GroupShardDriver()
    assert txn_commit(d, {"t-0": 10, "t-1": 20}) == {"t-0": OK, "t-1": OK}
    assert fetched(fetch(d, ["t-0"]))["t-0"] == (-1, -1, "", OK)
    assert fetched(fetch(d, ["t-0"], require_stable=True))["t-0"][3] == ErrorCode.UNSTABLE_OFFSET_COMMIT
    end_transaction(d, PID, committed=True)
    assert fetched(fetch(d, ["t-0", "t-1"], require_stable=True)) == {
        "t-0": (10, -1, "", OK),
        "t-1": (20, -1, "", OK),
    }


def test_an_abort_marker_drops_the_pending_offsets() -> None:
    d = GroupShardDriver()
    txn_commit(d, {"t-0": 10})
    end_transaction(d, PID, committed=False)
    assert fetched(fetch(d, ["t-0"], require_stable=True))["t-0"] == (-1, -1, "", OK)


def test_who_may_commit_in_a_transaction() -> None:
    d = GroupShardDriver()
    assert txn_commit(d, {"t-0": 1}, generation=1, member_id="m") == {"t-0": ErrorCode.ILLEGAL_GENERATION}
    assert "g" not in d.shard.state.groups
    a, b = stable_group(d, 2)
    assert txn_commit(d, {"t-0": 1}, generation=1, member_id=a) == {"t-0": OK}
    assert txn_commit(d, {"t-0": 1}, generation=2, member_id=a) == {"t-0": ErrorCode.ILLEGAL_GENERATION}
    assert txn_commit(d, {"t-0": 1}, generation=1, member_id="x") == {"t-0": ErrorCode.UNKNOWN_MEMBER_ID}
    # no group metadata at all (the old sendOffsetsToTransaction(offsets, groupId)): taken
    assert txn_commit(d, {"t-0": 2}) == {"t-0": OK}
    join(d, "g", a, client_id="c0")
    join(d, "g", b, client_id="c1")
    assert classic(d).state is ClassicGroupState.COMPLETING_REBALANCE
    # unlike OffsetCommit, a rebalance in its last step does not refuse a transactional commit
    assert txn_commit(d, {"t-0": 3}, generation=2, member_id=a) == {"t-0": OK}
    assert txn_commit(d, {"t-0": 3}, group="") == {"t-0": ErrorCode.INVALID_GROUP_ID}
    assert txn_commit(d, {"t-0": 3}, metadata="x" * 4_097) == {"t-0": ErrorCode.OFFSET_METADATA_TOO_LARGE}
