"""`consume --offset`: where to start reading a partition, with kcat's vocabulary.

    beginning   the log start offset          end   the log end offset (only new records)
    N           absolute offset N (N >= 0)    -N    N records before the end (kcat's tail)

Resolved against a partition's [log start offset, log end offset]; the result is clamped to that
range, so `-1000` on a partition holding 10 records starts at its first record.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class OffsetKind(Enum):
    BEGINNING = "beginning"
    END = "end"
    ABSOLUTE = "absolute"
    FROM_END = "from-end"


@dataclass(frozen=True, slots=True)
class StartOffset:
    kind: OffsetKind
    value: int = 0

    def resolve(self, log_start_offset: int, log_end_offset: int) -> int:
        target = {
            OffsetKind.BEGINNING: log_start_offset,
            OffsetKind.END: log_end_offset,
            OffsetKind.ABSOLUTE: self.value,
            OffsetKind.FROM_END: log_end_offset - self.value,
        }[self.kind]
        return max(log_start_offset, min(target, log_end_offset))


def parse_start_offset(text: str) -> StartOffset:
    """Parse an `--offset` argument; raises ValueError with a readable message."""
    word = text.strip().lower()
    if word in ("beginning", "earliest"):
        return StartOffset(OffsetKind.BEGINNING)
    if word in ("end", "latest"):
        return StartOffset(OffsetKind.END)
    digits = word.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"invalid offset {text!r}: use N, -N, beginning or end")
    kind = OffsetKind.FROM_END if word.startswith("-") else OffsetKind.ABSOLUTE
    return StartOffset(kind, int(digits))
