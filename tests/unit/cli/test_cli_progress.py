from __future__ import annotations

from odradek.cli.progress import ProgressMeter, format_rate


def test_one_line_per_interval_with_recent_rate() -> None:
    meter = ProgressMeter("produced", start=100.0)
    assert meter.tick(10, 100.5) is None
    assert meter.tick(2000, 101.0) == "produced 2,000 records (2,000 rec/s)"
    assert meter.tick(2500, 101.5) is None
    assert meter.tick(5000, 102.0) == "produced 5,000 records (3,000 rec/s)"


def test_summary_uses_the_whole_run() -> None:
    meter = ProgressMeter("produced", start=10.0)
    assert meter.summary(1000, 12.5) == "produced 1000 records in 2.50 s (400 rec/s)"
    assert format_rate(5, 0.0) == "0 rec/s"
