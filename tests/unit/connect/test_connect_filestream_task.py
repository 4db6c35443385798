"""FileStreamSourceTask reads whole lines only, with Kafka's byte positions as offsets, and resumes
from a stored position."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from odradek.connect.api.context import OffsetStorageReader, SourceTaskContext
from odradek.connect.connectors.filestream import FileStreamSourceTask


class Reader(OffsetStorageReader):
    def __init__(self, stored: dict[str, Any] | None) -> None:
        self.stored = stored

    def offsets(self, partitions: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        import json

        return {json.dumps(dict(p), separators=(",", ":")): self.stored for p in partitions}


class Context(SourceTaskContext):
    def __init__(self, stored: dict[str, Any] | None = None) -> None:
        self.reader = Reader(stored)

    def configs(self) -> Mapping[str, str]:
        return {}

    def offset_storage_reader(self) -> OffsetStorageReader:
        return self.reader


def task(path: Path, stored: dict[str, Any] | None = None, batch: int = 2000) -> FileStreamSourceTask:
    t = FileStreamSourceTask()
    t.initialize(Context(stored))
    t.start({"file": str(path), "topic": "t", "batch.size": str(batch)})
    return t


def test_partial_lines_wait_and_positions_count_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes("héllo\r\nwor".encode())
    t = task(path)
    first = t.poll() or []
    assert [r.value for r in first] == ["héllo"] and first[0].source_offset == {"position": 8}
    assert t.poll() == []  # "wor" has no newline yet
    with path.open("ab") as f:
        f.write(b"ld\nlast\n")
    second = t.poll() or []
    assert [r.value for r in second] == ["world", "last"]
    assert [r.source_offset for r in second] == [{"position": 14}, {"position": 19}]
    assert second[0].source_partition == {"filename": str(path)}
    t.stop()


def test_batch_size_and_resume_from_a_stored_position(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"a\nb\nc\nd\n")
    t = task(path, batch=3)
    assert [r.value for r in t.poll() or []] == ["a", "b", "c"]
    assert [r.value for r in t.poll() or []] == ["d"]
    t.stop()
    resumed = task(path, stored={"position": 4})
    assert [r.value for r in resumed.poll() or []] == ["c", "d"]
    resumed.stop()
