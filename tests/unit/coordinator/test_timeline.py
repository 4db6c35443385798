"""Snapshots keyed by offsets: writers see every change at once, readers only what is committed."""

from __future__ import annotations

from dataclasses import dataclass, replace

from odradek.coordinator.timeline import SnapshotRegistry, TimelineDict, with_committed_view


def committed(registry: SnapshotRegistry, d: TimelineDict[str, object]) -> dict[str, object]:
    return with_committed_view(registry, lambda: dict(d.items()))


def test_uncommitted_changes_are_hidden_from_readers_until_their_offset_commits() -> None:
    registry = SnapshotRegistry()
    d: TimelineDict[str, object] = TimelineDict(registry)
    d["a"] = 1
    registry.seal(1)
    registry.commit(1)
    d["a"] = 2
    d["b"] = 3
    registry.seal(5)  # records [1, 5)
    d["a"] = 4
    del d["b"]
    registry.seal(7)  # records [5, 7)
    assert dict(d.items()) == {"a": 4}  # writers: everything
    assert committed(registry, d) == {"a": 1}
    assert with_committed_view(registry, lambda: (d.get("a"), "b" in d, len(d))) == (1, False, 1)
    registry.commit(5)
    assert committed(registry, d) == {"a": 2, "b": 3}
    registry.commit(7)
    assert committed(registry, d) == {"a": 4} and not registry.uncommitted


def test_a_write_without_records_becomes_visible_with_the_pending_one_or_at_once() -> None:
    registry = SnapshotRegistry()
    d: TimelineDict[str, object] = TimelineDict(registry)
    d["x"] = 1
    registry.settle()  # nothing pending: committed now
    assert committed(registry, d) == {"x": 1}
    d["x"] = 2
    registry.seal(3)
    d["y"] = 9  # depends on the pending write
    registry.settle()
    assert committed(registry, d) == {"x": 1}
    registry.commit(3)
    assert committed(registry, d) == {"x": 2, "y": 9}


def test_revert_undoes_only_the_failed_operation() -> None:
    registry = SnapshotRegistry()
    d: TimelineDict[str, object] = TimelineDict(registry, {"a": 1})
    d["a"] = 2
    registry.seal(4)  # appended, not committed yet
    d["a"] = 3
    d["new"] = 0
    registry.revert()  # this one's append failed
    assert dict(d.items()) == {"a": 2}
    assert committed(registry, d) == {"a": 1}


@dataclass
class Box:
    value: int


def test_touched_values_change_in_place_and_readers_get_the_copy() -> None:
    registry = SnapshotRegistry()
    d: TimelineDict[str, Box] = TimelineDict(registry)
    d["g"] = live = Box(1)
    registry.seal(1)
    registry.commit(1)
    d.touch("g", replace)
    live.value = 2
    d.touch("g", replace)  # a second touch in the same operation copies nothing
    live.value = 3
    registry.seal(2)
    assert d["g"] is live and live.value == 3
    assert with_committed_view(registry, lambda: d["g"]) == Box(1)
    registry.commit(2)
    assert with_committed_view(registry, lambda: d["g"]) is live


def test_loading_the_committed_part_records_nothing() -> None:
    registry = SnapshotRegistry()
    registry.tracking = False
    d: TimelineDict[str, object] = TimelineDict(registry)
    d["a"] = 1
    registry.tracking = True
    d["a"] = 2  # the loaded tail above the high watermark
    registry.seal(10)
    assert committed(registry, d) == {"a": 1}
