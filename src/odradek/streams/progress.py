"""Restore progress bars for the CLI (`odradek streams run`): pure text from `KafkaStreams.metrics()`."""

from __future__ import annotations

from typing import Any

WIDTH = 30


def bar(done: int, total: int, width: int = WIDTH) -> str:
    fraction = 1.0 if total <= 0 else min(done / total, 1.0)
    filled = int(fraction * width)
    return "[" + "#" * filled + "." * (width - filled) + f"] {fraction * 100:5.1f}%"


def restore_lines(metrics: dict[str, Any]) -> list[str]:
    """One line per restoring task: `restoring 1_0 [#####.....]  50.0% (5,000 / 10,000 records)`."""
    lines = []
    for thread in metrics.get("threads", []):
        for task_id, task in sorted(thread["tasks"].items()):
            if task["state"] != "restoring" or task["restore_total"] is None:
                continue
            done, total = task["restored"] or 0, task["restore_total"]
            lines.append(f"restoring {task_id} {bar(done, total)} ({done:,} / {total:,} records)")
    return lines
