from odradek.supervisor.backoff import BackoffPolicy, RestartBackoff


def test_delays_double_up_to_the_maximum() -> None:
    backoff = RestartBackoff(BackoffPolicy(initial_s=0.5, max_s=4.0, multiplier=2.0, stable_after_s=30))
    delays = []
    now = 0.0
    for _ in range(6):
        backoff.started(now)
        now += 1.0
        delays.append(backoff.exited(now))
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_stable_run_is_forgiven() -> None:
    backoff = RestartBackoff(BackoffPolicy(initial_s=0.5, stable_after_s=10))
    backoff.started(0.0)
    assert backoff.exited(1.0) == 0.5
    backoff.started(2.0)
    assert backoff.exited(3.0) == 1.0
    backoff.started(4.0)
    assert backoff.exited(14.0) == 0.5  # ran 10 s: starts over


def test_exit_without_start_counts_as_a_failure() -> None:
    backoff = RestartBackoff()
    assert backoff.exited(100.0) == 0.5
    assert backoff.exited(100.1) == 1.0
