"""`group reset-offsets`: which offsets a consumer group will restart from, computed before anything changes.

Semantics follow kafka-consumer-groups.sh:
- only an inactive group (state Empty or Dead) may be reset; a group with live members would
  overwrite the new offsets with its own commits;
- `--to-earliest` / `--to-latest`: the partition's log start / log end offset;
- `--to-datetime`: the first offset whose timestamp is at or after the instant, or the log end
  offset when no record is that recent; a datetime without a zone is local time;
- `--shift-by N`: the committed offset plus N (an error for a partition with no committed offset);
- `--to-offset N`: N;
- every target is clamped to [log start offset, log end offset].
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from odradek.cli.output import render_table
from odradek.model.topic_partition import TopicPartition

# State name (as `group_view.STATE_NAMES` spells it) -> may its offsets be reset?
RESETTABLE_STATES = {
    "Empty": True,
    "Dead": True,
    "Stable": False,
    "PreparingRebalance": False,
    "CompletingRebalance": False,
    "Unknown": False,
}


class ResetError(ValueError):
    """A reset that cannot be planned; the message says why."""


@dataclass(frozen=True, slots=True)
class ToEarliest:
    pass


@dataclass(frozen=True, slots=True)
class ToLatest:
    pass


@dataclass(frozen=True, slots=True)
class ToDatetime:
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class ShiftBy:
    delta: int


@dataclass(frozen=True, slots=True)
class ToOffset:
    offset: int


ResetStrategy = ToEarliest | ToLatest | ToDatetime | ShiftBy | ToOffset


@dataclass(frozen=True, slots=True)
class PartitionState:
    """What the plan needs to know about one partition. `offset_for_time` is the broker's answer
    to a ListOffsets-by-timestamp query (None: no record that recent), used by ToDatetime only."""

    topic_partition: TopicPartition
    committed_offset: int | None
    log_start_offset: int
    log_end_offset: int
    offset_for_time: int | None = None


@dataclass(frozen=True, slots=True)
class PlannedReset:
    topic_partition: TopicPartition
    current_offset: int | None
    new_offset: int


def check_resettable(group: str, state: str) -> None:
    if not RESETTABLE_STATES.get(state, False):
        raise ResetError(
            f"offsets of group {group!r} can only be reset while it is inactive (Empty or Dead), "
            f"but its state is {state}: stop its consumers first"
        )


def parse_topic_partitions(spec: str) -> tuple[str, tuple[int, ...] | None]:
    """`TOPIC` (every partition) or `TOPIC:P,P,...`."""
    topic, sep, partitions = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if not topic:
        raise ResetError(f"invalid topic {spec!r}: use TOPIC or TOPIC:P,P")
    if not sep:
        return topic, None
    try:
        numbers = tuple(sorted({int(p) for p in partitions.split(",")}))
    except ValueError:
        raise ResetError(f"invalid partitions in {spec!r}: use TOPIC:0,1,2") from None
    if any(p < 0 for p in numbers):
        raise ResetError(f"invalid partitions in {spec!r}: partitions are >= 0")
    return topic, numbers


def parse_datetime_ms(text: str) -> int:
    """ISO 8601 (`2024-05-01T12:00:00`, `...Z`, `...+02:00`, fractions allowed) -> ms since the epoch."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ResetError(f"invalid datetime {text!r}: use ISO 8601, e.g. 2024-05-01T12:00:00Z") from None
    if when.tzinfo is None:
        when = when.astimezone()  # local time, as kafka-consumer-groups.sh reads it
    return int(when.timestamp() * 1000)


def target_offset(strategy: ResetStrategy, state: PartitionState) -> int:
    match strategy:
        case ToEarliest():
            target = state.log_start_offset
        case ToLatest():
            target = state.log_end_offset
        case ToDatetime():
            target = state.log_end_offset if state.offset_for_time is None else state.offset_for_time
        case ShiftBy(delta):
            if state.committed_offset is None:
                where = state.topic_partition
                raise ResetError(
                    f"cannot shift the offset of {where}: the group has no committed offset on it"
                )
            target = state.committed_offset + delta
        case ToOffset(offset):
            target = offset
    return max(state.log_start_offset, min(target, state.log_end_offset))


def plan_reset(strategy: ResetStrategy, states: Iterable[PartitionState]) -> list[PlannedReset]:
    """The plan in (topic, partition) order."""
    return [
        PlannedReset(s.topic_partition, s.committed_offset, target_offset(strategy, s))
        for s in sorted(states, key=lambda s: s.topic_partition)
    ]


def plan_doc(group: str, plan: Iterable[PlannedReset], *, executed: bool) -> dict[str, object]:
    """`group reset-offsets --output json`:
    {"group": "billing", "executed": false,
     "partitions": [{"topic": "orders", "partition": 0, "current_offset": 37, "new_offset": 0}]}"""
    return {
        "group": group,
        "executed": executed,
        "partitions": [
            {
                "topic": p.topic_partition.topic,
                "partition": p.topic_partition.partition,
                "current_offset": p.current_offset,
                "new_offset": p.new_offset,
            }
            for p in plan
        ],
    }


def render_plan_text(group: str, plan: Iterable[PlannedReset]) -> str:
    return render_table(
        ("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"),
        (
            (group, p.topic_partition.topic, p.topic_partition.partition, p.current_offset, p.new_offset)
            for p in plan
        ),
    )
