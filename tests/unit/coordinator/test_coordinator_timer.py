from __future__ import annotations

from odradek.coordinator.timer import TimerSet


def test_expire_returns_due_timers_in_deadline_order_and_removes_them() -> None:
    timers: TimerSet[str] = TimerSet()
    timers.schedule("late", 300)
    timers.schedule("early", 100, data=7)
    timers.schedule("middle", 200)
    assert timers.next_deadline() == 100
    expired = timers.expire(200)
    assert [(e.key, e.deadline_ms, e.data) for e in expired] == [("early", 100, 7), ("middle", 200, None)]
    assert timers.keys() == ["late"]
    assert timers.next_deadline() == 300
    assert timers.expire(299) == []


def test_rescheduling_replaces_and_cancel_removes() -> None:
    timers: TimerSet[str] = TimerSet()
    timers.schedule("a", 100)
    timers.schedule("a", 500)
    timers.schedule("b", 200)
    timers.cancel("b")
    assert "b" not in timers
    assert timers.deadline("a") == 500
    assert timers.next_deadline() == 500
    assert timers.expire(499) == []
    assert [e.key for e in timers.expire(500)] == ["a"]
    assert len(timers) == 0
    assert timers.next_deadline() is None


def test_same_deadline_expires_in_scheduling_order() -> None:
    timers: TimerSet[tuple[str, int]] = TimerSet()
    for i in (3, 1, 2):
        timers.schedule(("k", i), 50)
    assert [e.key for e in timers.expire(50)] == [("k", 3), ("k", 1), ("k", 2)]


def test_cancel_unknown_key_is_a_no_op() -> None:
    timers: TimerSet[str] = TimerSet()
    timers.cancel("x")
    assert timers.deadline("x") is None
