"""The windows a pane-based aggregation owes downstream under emit caching (pure bookkeeping).

Kafka Streams' record cache forwards, at each commit, every window updated since the last commit,
also one that closed in between, with its value as it closed. On panes a window's value is the
merge of its panes, computed at the commit from the panes as they are then: the right value for a
window that closed in between, unless a pane it shares with a newer window changed after it closed
(a record late for it but on time for the newer one). So such a record first takes its key's closed
windows out and they are emitted before it is applied; everything else is emitted at the commit.

Per key this holds the window starts updated while open and not emitted yet, as sorted disjoint
ranges `[first, last]` of starts (a record in pane `p` at close time `c` updated the windows from
`first_start_for(max(p, c))` to `p - p % advance`: in order, each record extends the last range),
and, when old values are needed, each dirty pane's value before its first update since the commit.
"""

from __future__ import annotations

from typing import Any

Owed = tuple[Any, list[int], dict[int, Any] | None]
"""(key, window starts to emit, {pane: value before the commit} or None)."""


class PendingWindows:
    def __init__(self, size_ms: int, advance_ms: int, keep_old_values: bool) -> None:
        self.size = size_ms
        self.advance = advance_ms
        self.keep_old_values = keep_old_values
        self.by_key: dict[Any, list[Any]] = {}
        """hashable key -> [key, ranges ([[first, last], ...]), {pane: old} or None]."""

    def __bool__(self) -> bool:
        return bool(self.by_key)

    def note(self, hk: Any, key: Any, pane: int, old: Any, close: int) -> None:
        """A record updated `pane` of `key` at close time `close` (not late: some window is open)."""
        advance = self.advance
        lowest = (pane if pane > close else close) - self.size + 1
        first = lowest + (-lowest) % advance
        if first < 0:  # noqa: PLR1730 - an if is cheaper than max() per record
            first = 0
        last = pane - pane % advance
        entry = self.by_key.get(hk)
        if entry is None:
            self.by_key[hk] = [key, [[first, last]], {pane: old} if self.keep_old_values else None]
            return
        if entry[2] is not None and pane not in entry[2]:
            entry[2][pane] = old
        ranges = entry[1]
        tail = ranges[-1]
        if tail[0] <= first <= tail[1] + advance:  # the usual case: in order, extends the last range
            if last > tail[1]:  # noqa: PLR1730 - an if is cheaper than max() per record
                tail[1] = last
            return
        self._insert(ranges, first, last)

    def _insert(self, ranges: list[list[int]], first: int, last: int) -> None:
        """Merge [first, last] into the sorted disjoint ranges."""
        advance = self.advance
        merged: list[list[int]] = []
        placed = False
        for lo, hi in ranges:
            if hi + advance < first:
                merged.append([lo, hi])
            elif last + advance < lo:
                if not placed:
                    merged.append([first, last])
                    placed = True
                merged.append([lo, hi])
            else:
                first, last = min(first, lo), max(last, hi)
        if not placed:
            merged.append([first, last])
            merged.sort()
        ranges[:] = merged

    def closed_of(self, hk: Any, close: int) -> Owed | None:
        """Take the key's pending windows that `close` closed (start + size <= close)."""
        entry = self.by_key.get(hk)
        newest = close - self.size  # the newest closed start is the multiple of advance <= this
        if entry is None or newest < 0:
            return None
        newest -= newest % self.advance
        ranges = entry[1]
        starts: list[int] = []
        while ranges and ranges[0][0] <= newest:
            lo, hi = ranges[0]
            if hi <= newest:
                starts.extend(range(lo, hi + 1, self.advance))
                ranges.pop(0)
            else:
                starts.extend(range(lo, newest + 1, self.advance))
                ranges[0][0] = newest + self.advance
        if not ranges:
            del self.by_key[hk]
        return (entry[0], starts, entry[2]) if starts else None

    def drain(self) -> list[Owed]:
        """Take every pending window (a commit)."""
        advance = self.advance
        out: list[Owed] = []
        for key, ranges, olds in self.by_key.values():
            if len(ranges) == 1:
                starts = list(range(ranges[0][0], ranges[0][1] + 1, advance))
            else:
                starts = [s for lo, hi in ranges for s in range(lo, hi + 1, advance)]
            out.append((key, starts, olds))
        self.by_key.clear()
        return out
