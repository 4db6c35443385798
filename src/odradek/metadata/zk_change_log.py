"""The change log: how a ZooKeeper store several changes behind reads only what they wrote (pure;
ADR 0009).

`/odradek/changes` names the paths of the last transaction only, so a store that missed more than
one (several changes between two watch events) cannot tell from it what to read. Every transaction
therefore also creates a persistent sequential znode under `/odradek/change_log` holding the same
list (`change_NNNNNNNNNN`, as Kafka's ZooKeeper mode did for config changes and ISR changes:
`/config/changes/config_change_N`, `/isr_change_notification/isr_change_N`). The reader knows where
it is by two numbers: the `/odradek/changes` version (which counts transactions: every transaction
sets it exactly once) and that znode's mzxid (the zxid of the last transaction read).

A store `behind` versions behind lists the log, then reads `/odradek/changes` (in that order, so
every entry a counted transaction created is listed, unless it was pruned), reads the newest
`behind` entries (`entries_to_read`) and, when every one of them was created after the zxid it is
at, reads the union of the paths they name (`bridged_paths`). Each transaction creates at most one
entry, so `behind` entries all newer than the last transaction read are exactly the transactions
missed. When one is older, a transaction in between left no entry (written by the previous version,
which did not log) or its entry was pruned: the gap cannot be bridged and the store reads the whole
tree, as it did before. So does a store that was never at a known version (a new broker starting).

Every writer deletes the entries beyond the newest `RETAINED` every `PRUNE_EVERY` of its own
transactions (and when it opens), so the log stays bounded; a reader further behind than that
reads the whole tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from odradek.metadata.zk_layout import CHANGE_LOG, changed_paths

ENTRY_PREFIX = "change_"
ENTRY = f"{CHANGE_LOG}/{ENTRY_PREFIX}"
"""What a transaction creates with `sequence=True` (ZooKeeper appends a 10-digit number)."""

RETAINED = 500
"""Entries kept: a store at most this many transactions behind catches up from the log."""
PRUNE_EVERY = 100
"""A writer prunes the log once every this many of its own transactions."""


def entry_sequence(name: str) -> int | None:
    """The sequence number of a log entry's name (None for anything else)."""
    if not name.startswith(ENTRY_PREFIX):
        return None
    digits = name[len(ENTRY_PREFIX) :]
    return int(digits) if digits.isdigit() else None


def _by_sequence(children: Iterable[str]) -> list[str]:
    numbered = [(s, c) for c in children if (s := entry_sequence(c)) is not None]
    return [c for _, c in sorted(numbered)]


def entries_to_read(children: Iterable[str], behind: int, retained: int = RETAINED) -> list[str] | None:
    """The paths of the newest `behind` entries, oldest first; None when fewer are listed (or more
    than the log keeps are wanted): the caller reads the whole tree."""
    if behind < 1 or behind > retained:
        return None
    names = _by_sequence(children)
    if len(names) < behind:
        return None
    return [f"{CHANGE_LOG}/{name}" for name in names[-behind:]]


def bridged_paths(entries: Sequence[tuple[bytes, int]], after_zxid: int) -> list[str] | None:
    """The paths the missed transactions wrote, given the entries `entries_to_read` named as
    (data, czxid); None when the gap cannot be bridged: an entry not newer than `after_zxid` (a
    transaction between left none, or its entry was pruned) or one that names no list."""
    paths: dict[str, None] = {}
    for data, created_zxid in entries:
        if created_zxid <= after_zxid:
            return None
        listed = changed_paths(data)
        if listed is None:
            return None
        paths.update(dict.fromkeys(listed))
    return list(paths)


def prunable(children: Iterable[str], retained: int) -> list[str]:
    """The paths of the entries beyond the newest `retained`, oldest first."""
    names = _by_sequence(children)
    return [f"{CHANGE_LOG}/{name}" for name in names[: max(len(names) - retained, 0)]]
