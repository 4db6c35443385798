"""`zk_change_log`: catching up from the change log, on a fake ZooKeeper that keeps what the real one
would (the `/odradek/changes` version and mzxid, sequential entries with their czxid, zxids that
other writes such as sessions also advance). The catch-up either names exactly the paths every
missed transaction wrote, or says it cannot (a transaction without an entry: written by the previous
version, or its entry pruned), never a wrong list."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from odradek.metadata.zk_change_log import (
    CHANGE_LOG,
    ENTRY_PREFIX,
    bridged_paths,
    entries_to_read,
    entry_sequence,
    prunable,
)
from odradek.metadata.zk_layout import change_list


@dataclass
class FakeZooKeeper:
    zxid: int = 0
    changes_version: int = 0
    changes_zxid: int = 0
    cversion: int = 0
    log: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    """entry name → (data, czxid)"""
    written: list[tuple[int, int, list[str], bool]] = field(default_factory=list)
    """(changes version, zxid, paths, logged) of every transaction"""

    def transaction(self, paths: list[str], *, logged: bool = True) -> None:
        """A transaction of this version (`logged`) or of the previous one (no entry)."""
        self.zxid += 1
        self.changes_version += 1
        self.changes_zxid = self.zxid
        if logged:
            self.log[f"{ENTRY_PREFIX}{self.cversion:010d}"] = (change_list(paths), self.zxid)
            self.cversion += 1
        self.written.append((self.changes_version, self.zxid, paths, logged))

    def other_write(self) -> None:
        """A session opening or an ephemeral write: a zxid, no change."""
        self.zxid += 1

    def prune(self, retained: int) -> None:
        for path in prunable(self.log, retained):
            del self.log[path.rsplit("/", 1)[1]]
            self.cversion += 1  # ZooKeeper's sequence counts deletions too

    def catch_up(self, version: int, zxid: int, retained: int = 500) -> list[str] | None:
        """What the store does: list the log, read the version, the newest entries, their paths."""
        names = entries_to_read(list(self.log), self.changes_version - version, retained)
        if names is None:
            return None
        return bridged_paths([self.log[n.rsplit("/", 1)[1]] for n in names], zxid)


def test_several_missed_transactions_name_the_union_of_their_paths() -> None:
    zk = FakeZooKeeper()
    zk.transaction(["/brokers/topics/a"])
    version, zxid = zk.changes_version, zk.changes_zxid
    zk.transaction(["/brokers/topics/b", "/brokers/topics/b/partitions/0/state"])
    zk.other_write()
    zk.transaction(["/brokers/topics/b/partitions/0/state", "/config/topics/b"])
    assert zk.catch_up(version, zxid) == [
        "/brokers/topics/b",
        "/brokers/topics/b/partitions/0/state",
        "/config/topics/b",
    ]


def test_a_transaction_of_the_previous_version_between_is_a_gap() -> None:
    zk = FakeZooKeeper()
    zk.transaction(["/a"])
    version, zxid = zk.changes_version, zk.changes_zxid
    zk.transaction(["/b"], logged=False)
    zk.transaction(["/c"])
    assert zk.catch_up(version, zxid) is None  # the newest 2 entries: /c's and /a's (older)


def test_a_pruned_entry_is_a_gap() -> None:
    zk = FakeZooKeeper()
    zk.transaction(["/a"])
    version, zxid = zk.changes_version, zk.changes_zxid
    for n in range(5):
        zk.transaction([f"/t{n}"])
    zk.prune(3)
    assert sorted(zk.log) == [f"{ENTRY_PREFIX}{n:010d}" for n in (3, 4, 5)]
    assert zk.catch_up(version, zxid) is None
    assert zk.catch_up(version + 2, zk.written[2][1]) == ["/t2", "/t3", "/t4"]


def test_further_behind_than_the_log_keeps_is_a_gap() -> None:
    zk = FakeZooKeeper()
    for n in range(6):
        zk.transaction([f"/t{n}"])
    assert zk.catch_up(0, 0, retained=5) is None
    assert zk.catch_up(1, 1, retained=5) == [f"/t{n}" for n in range(1, 6)]


def test_an_entry_without_a_list_is_a_gap() -> None:
    zk = FakeZooKeeper()
    zk.transaction(["/a"])
    zk.transaction(["/b"])
    zk.log[f"{ENTRY_PREFIX}{1:010d}"] = (b"", zk.zxid)  # a list too long for one znode
    assert zk.catch_up(0, 0) is None


def test_entries_are_ordered_by_sequence_and_other_children_are_ignored() -> None:
    children = [f"{ENTRY_PREFIX}0000000010", f"{ENTRY_PREFIX}0000000009", "stray", f"{ENTRY_PREFIX}x"]
    assert entry_sequence(f"{ENTRY_PREFIX}0000000010") == 10 and entry_sequence("stray") is None
    assert entries_to_read(children, 2) == [
        f"{CHANGE_LOG}/{ENTRY_PREFIX}0000000009",
        f"{CHANGE_LOG}/{ENTRY_PREFIX}0000000010",
    ]
    assert entries_to_read(children, 3) is None
    assert prunable(children, 1) == [f"{CHANGE_LOG}/{ENTRY_PREFIX}0000000009"]
    assert prunable(children, 5) == []


steps = st.lists(
    st.sampled_from(["logged", "logged", "logged", "previous", "other", "prune"]), min_size=1, max_size=40
)


@settings(max_examples=300, deadline=None)
@given(steps, st.integers(0, 2**32))
def test_the_catch_up_names_exactly_what_was_missed_or_falls_back(kinds: list[str], seed: int) -> None:
    rng = random.Random(seed)
    zk = FakeZooKeeper()
    retained = rng.randint(1, 8)
    for kind in kinds:
        if kind in ("logged", "previous"):
            zk.transaction(
                [f"/p{rng.randrange(10)}" for _ in range(rng.randint(1, 3))], logged=kind == "logged"
            )
        elif kind == "other":
            zk.other_write()
        else:
            zk.prune(retained)
    # a reader at any transaction so far (or at none)
    at = rng.randrange(len(zk.written) + 1)
    version, zxid = (zk.written[at - 1][0], zk.written[at - 1][1]) if at else (0, 0)
    missed = zk.written[at:]
    got = zk.catch_up(version, zxid, retained)
    logged = {zx for _, zx in zk.log.values()}
    bridgeable = bool(missed) and len(missed) <= retained and all(zx in logged for _, zx, _, _ in missed)
    if got is None:
        assert not bridgeable
    else:
        assert bridgeable
        assert sorted(got) == sorted({p for _, _, paths, _ in missed for p in paths})
