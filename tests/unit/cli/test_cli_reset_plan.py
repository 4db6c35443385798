from __future__ import annotations

from datetime import datetime

import pytest

from odradek.cli.reset_plan import (
    PartitionState,
    PlannedReset,
    ResetError,
    ShiftBy,
    ToDatetime,
    ToEarliest,
    ToLatest,
    ToOffset,
    check_resettable,
    parse_datetime_ms,
    parse_topic_partitions,
    plan_doc,
    plan_reset,
    render_plan_text,
    target_offset,
)
from odradek.model.topic_partition import TopicPartition

T0 = TopicPartition("orders", 0)
STATE = PartitionState(T0, committed_offset=30, log_start_offset=10, log_end_offset=50)


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (ToEarliest(), 10),
        (ToLatest(), 50),
        (ShiftBy(5), 35),
        (ShiftBy(-25), 10),  # clamped to the log start
        (ShiftBy(100), 50),  # clamped to the log end
        (ToOffset(42), 42),
        (ToOffset(3), 10),
        (ToOffset(51), 50),
    ],
)
def test_targets(strategy: object, expected: int) -> None:
    assert target_offset(strategy, STATE) == expected  # type: ignore[arg-type]


def test_to_datetime_uses_the_broker_answer_or_the_log_end() -> None:
    found = PartitionState(T0, 30, 10, 50, offset_for_time=22)
    assert target_offset(ToDatetime(1), found) == 22
    assert target_offset(ToDatetime(1), STATE) == 50


def test_shift_without_committed_offset_is_an_error() -> None:
    with pytest.raises(ResetError, match="cannot shift the offset of orders-0"):
        target_offset(ShiftBy(1), PartitionState(T0, None, 0, 5))


def test_earliest_without_committed_offset_is_fine() -> None:
    assert target_offset(ToEarliest(), PartitionState(T0, None, 3, 5)) == 3


def test_plan_is_sorted_and_keeps_current_offsets() -> None:
    t1 = TopicPartition("a", 1)
    states = [STATE, PartitionState(t1, None, 0, 7)]
    assert plan_reset(ToLatest(), states) == [PlannedReset(t1, None, 7), PlannedReset(T0, 30, 50)]


@pytest.mark.parametrize("state", ["Empty", "Dead"])
def test_inactive_groups_can_be_reset(state: str) -> None:
    check_resettable("g", state)


@pytest.mark.parametrize("state", ["Stable", "PreparingRebalance", "CompletingRebalance", "Unknown", "Bogus"])
def test_active_groups_cannot(state: str) -> None:
    with pytest.raises(ResetError, match=f"only be reset while it is inactive .* its state is {state}"):
        check_resettable("g", state)


def test_parse_topic_partitions() -> None:
    assert parse_topic_partitions("orders") == ("orders", None)
    assert parse_topic_partitions("orders:2,0,2") == ("orders", (0, 2))
    for bad in ("orders:", "orders:x", ":1", "orders:-1"):
        with pytest.raises(ResetError):
            parse_topic_partitions(bad)


def test_parse_datetime() -> None:
    assert parse_datetime_ms("2024-05-01T12:00:00Z") == 1_714_564_800_000
    assert parse_datetime_ms("2024-05-01T14:00:00.250+02:00") == 1_714_564_800_250
    local = datetime(2024, 5, 1, 12, 0).astimezone()
    assert parse_datetime_ms("2024-05-01T12:00:00") == int(local.timestamp() * 1000)
    with pytest.raises(ResetError, match="invalid datetime 'yesterday'"):
        parse_datetime_ms("yesterday")


def test_plan_rendering() -> None:
    plan = [PlannedReset(T0, None, 7)]
    assert plan_doc("g", plan, executed=True) == {
        "group": "g",
        "executed": True,
        "partitions": [{"topic": "orders", "partition": 0, "current_offset": None, "new_offset": 7}],
    }
    assert render_plan_text("g", plan) == (
        "GROUP  TOPIC   PARTITION  CURRENT-OFFSET  NEW-OFFSET\ng      orders  0          -               7\n"
    )
