"""`TimerSet` against a plain model: whatever the order of schedules (earlier, later, again),
cancels and expiries, it holds the same live timers, reports the same next deadline and expires
the same timers in the same order (deadline, then scheduling order) as a dict of every key's last
schedule would. Pushing a deadline back leaves the key's heap entry in place until it surfaces, so
this is what checks that lazy move."""

from __future__ import annotations

from codec_settings import budget
from hypothesis import given
from hypothesis import strategies as st

from odradek.coordinator.timer import TimerSet

KEYS = st.sampled_from(["a", "b", "c", "d"])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("schedule"), KEYS, st.integers(0, 60), st.integers(0, 9)),
        st.tuples(st.just("cancel"), KEYS),
        st.tuples(st.just("expire"), st.integers(0, 20)),
        st.tuples(
            st.just("next"),
        ),
    ),
    max_size=60,
)


@budget(300)
@given(OPS)
def test_timer_set_matches_a_dict_of_last_schedules(ops: list[tuple[object, ...]]) -> None:
    timers: TimerSet[str] = TimerSet()
    model: dict[str, tuple[int, int, object]] = {}
    now = seq = 0
    for op in ops:
        if op[0] == "schedule":
            key, delay, data = str(op[1]), int(op[2]), op[3]  # type: ignore[call-overload]
            seq += 1
            timers.schedule(key, now + delay, data)
            model[key] = (now + delay, seq, data)
        elif op[0] == "cancel":
            timers.cancel(str(op[1]))
            model.pop(str(op[1]), None)
        elif op[0] == "expire":
            now += int(op[1])  # type: ignore[call-overload]
            due = sorted((d, s, k, data) for k, (d, s, data) in model.items() if d <= now)
            got = timers.expire(now)
            assert [(e.deadline_ms, e.key, e.data) for e in got] == [(d, k, data) for d, _, k, data in due]
            for _, _, k, _ in due:
                del model[k]
        else:
            assert timers.next_deadline() == min((d for d, _, _ in model.values()), default=None)
        assert sorted(timers.keys()) == sorted(model)
        assert len(timers) == len(model)
        bound, earliest = timers.deadline_bound(), min((d for d, _, _ in model.values()), default=None)
        assert (bound is None and earliest is None) or (
            bound is not None and (earliest is None or bound <= earliest)
        )
        for key in "abcd":
            assert timers.deadline(key) == (model[key][0] if key in model else None)


def test_pushing_a_deadline_back_keeps_one_heap_entry_per_key() -> None:
    timers: TimerSet[str] = TimerSet()
    for deadline in range(1000, 11_000):
        timers.schedule("session", deadline)  # a heartbeat or commit every millisecond
    assert len(timers._heap) == 1
    assert timers.deadline_bound() == 1000  # the entry's deadline, not yet moved to the live one
    assert timers.next_deadline() == 10_999
    assert timers.deadline_bound() == 10_999
    assert [e.deadline_ms for e in timers.expire(10_999)] == [10_999]
    assert not timers._heap
