"""Table-table joins (inner, left, outer) on the primary key. Each side's change is joined with the
other side's current value (its value getter) and forwarded as `Change(joined_new, joined_old)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Change, OutOfOrderChange, Record

INNER, LEFT, OUTER = "inner", "left", "outer"


class TableTableJoinProcessor(Processor):
    def __init__(
        self, other_getter: Any, joiner: Callable[[Any, Any], Any], kind: str, this_is_left: bool
    ) -> None:
        self.other_getter_supplier = other_getter
        self.joiner = joiner
        self.kind = kind
        self.this_is_left = this_is_left

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.other = self.other_getter_supplier.make(context)

    def _join(self, mine: Any, theirs: Any) -> Any:
        left, right = (mine, theirs) if self.this_is_left else (theirs, mine)
        if left is None and right is None:
            return None
        if self.kind == INNER and (left is None or right is None):
            return None
        if self.kind == LEFT and left is None:
            return None
        return self.joiner(left, right)

    def process(self, record: Record[Any, Any]) -> None:
        if record.key is None or type(record.value) is OutOfOrderChange:
            return  # KIP-914: an out-of-order update of a versioned table makes no new join result
        change: Change = record.value
        found = self.other(record.key)
        theirs = found[0] if found is not None else None
        new = self._join(change.new, theirs)
        old = self._join(change.old, theirs)
        if new is None and old is None:
            return
        ts = record.timestamp if found is None else max(record.timestamp, found[1])
        self.context.forward(Record(record.key, Change(new, old), ts, record.headers))
