"""MirrorMaker 2's internal records byte for byte (Kafka's protocol types) and its offset
translation rules: when a sync is due, how a group offset translates."""

from __future__ import annotations

from odradek.connect.connectors.mirror_formats import (
    Checkpoint,
    OffsetSync,
    OffsetSyncState,
    OffsetSyncStore,
    checkpoints_topic,
    heartbeat_key,
    heartbeat_value,
    offset_syncs_topic,
)


def test_offset_sync_bytes() -> None:
    sync = OffsetSync("orders", 3, 100, 42)
    assert sync.key() == b"\x00\x06orders\x00\x00\x00\x03"
    assert sync.value() == (100).to_bytes(8, "big") + (42).to_bytes(8, "big")
    assert OffsetSync.parse(sync.key(), sync.value()) == sync
    assert offset_syncs_topic("west") == "mm2-offset-syncs.west.internal"


def test_checkpoint_bytes_have_the_version_header() -> None:
    checkpoint = Checkpoint("billing", "east.orders", 1, 10, 7, "m")
    assert checkpoint.key() == b"\x00\x07billing\x00\x0beast.orders\x00\x00\x00\x01"
    assert checkpoint.value() == (
        b"\x00\x00" + (10).to_bytes(8, "big") + (7).to_bytes(8, "big") + b"\x00\x01m"
    )
    assert Checkpoint.parse(checkpoint.key(), checkpoint.value()) == checkpoint
    assert checkpoints_topic("east") == "east.checkpoints.internal"
    assert heartbeat_key("east", "west") == b"\x00\x04east\x00\x04west"
    assert heartbeat_value(5) == b"\x00\x00" + (5).to_bytes(8, "big")


def test_a_sync_is_due_first_after_gaps_truncation_and_every_max_lag() -> None:
    state = OffsetSyncState(max_lag=3)
    due = [state.update(u, d) for u, d in [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]]
    assert due == [True, False, False, False, True, False]  # first; then once 3 past the last + 1
    assert state.update(9, 6)  # upstream skipped offsets (compaction, transaction markers)
    assert not state.update(10, 7)
    assert state.update(11, 2)  # the downstream topic went back


def test_translation_through_the_latest_sync_at_or_below() -> None:
    store = OffsetSyncStore()
    assert store.translate("t", 0, 5) is None
    store.add(OffsetSync("t", 0, 0, 100))
    store.add(OffsetSync("t", 0, 10, 120))
    assert store.translate("t", 0, 0) == 100  # the synced record itself
    assert store.translate("t", 0, 5) == 101  # past the sync: never beyond what the group read
    assert store.translate("t", 0, 10) == 120
    assert store.translate("t", 0, 50) == 121
    assert store.translate("t", 1, 5) is None
    store.add(OffsetSync("t", 0, 5, 300))  # a restarted task re-synced from 5: the later sync is replaced
    assert store.translate("t", 0, 10) == 301 and len(store) == 2
