"""Checkpoint files: which changelog offset each local store has caught up to.

`{state.dir}/{application.id}/{task id}/.checkpoint`, in Kafka Streams' text format:

    0                     <- version
    2                     <- number of entries
    app-counts-changelog 3 1047     <- topic, partition, next offset to restore from
    app-joins-changelog 3 88

Written atomically (temp file + rename) after each commit that changed a store, once the store's
data is in RocksDB; read at task start so a restore replays only the changelog tail.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_NAME = ".checkpoint"


def read_checkpoint(task_dir: Path) -> dict[tuple[str, int], int]:
    path = task_dir / FILE_NAME
    try:
        lines = path.read_text().split("\n")
    except FileNotFoundError:
        return {}
    try:
        if lines[0].strip() != "0":
            return {}
        count = int(lines[1])
        offsets: dict[tuple[str, int], int] = {}
        for line in lines[2 : 2 + count]:
            topic, partition, offset = line.rsplit(" ", 2)
            offsets[(topic, int(partition))] = int(offset)
        return offsets
    except (IndexError, ValueError):
        return {}


def write_checkpoint(task_dir: Path, offsets: dict[tuple[str, int], int]) -> None:
    task_dir.mkdir(parents=True, exist_ok=True)
    body = ["0", str(len(offsets))] + [f"{t} {p} {o}" for (t, p), o in sorted(offsets.items())]
    tmp = task_dir / (FILE_NAME + ".tmp")
    tmp.write_text("\n".join(body) + "\n")
    os.replace(tmp, task_dir / FILE_NAME)


def delete_checkpoint(task_dir: Path) -> None:
    (task_dir / FILE_NAME).unlink(missing_ok=True)
