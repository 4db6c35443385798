"""Store snapshots for readers in other threads (interactive and pull queries): isolated from later
writes and commits, consistent while a writer thread keeps writing, over RocksDB and memory."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from odradek.streams import Serdes, Stores
from odradek.streams.runtime.queries import LocalStoreView
from odradek.streams.state.factory import open_store


@pytest.fixture(params=["rocksdb", "memory"])
def task_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path | None:
    return tmp_path if request.param == "rocksdb" else None


def test_a_key_value_snapshot_is_isolated_from_later_writes_and_commits(task_dir: Path | None) -> None:
    store = open_store(Stores.key_value("kv", Serdes.STRING, Serdes.LONG), task_dir)
    store.put("a", 1)
    store.put("b", 2)
    store.flush()  # committed: a=1, b=2
    store.put("b", 20)  # in the write buffer
    store.delete("a")
    store.put("c", 3)
    snap = store.snapshot()
    store.put("d", 4)
    store.put("b", 200)
    store.flush()
    store.put("c", 30)
    assert list(snap.all()) == [("b", 20), ("c", 3)]
    assert snap.get("b") == 20 and snap.get("a") is None and snap.get("d") is None
    assert list(store.all()) == [("b", 200), ("c", 30), ("d", 4)]
    assert store.read("c") == 30 and store.read("a") is None
    store.close()
    assert list(snap.all()) == [("b", 20), ("c", 3)]  # readable after the store closed
    snap.put("x", 1)
    with pytest.raises(TypeError):
        snap.flush()  # read-only


def test_a_window_snapshot_is_isolated_from_later_writes_and_commits(task_dir: Path | None) -> None:
    store = open_store(Stores.window("w", 86_400_000, 1000, Serdes.STRING, Serdes.LONG), task_dir)
    store.put("a", 1, 0)
    store.put("a", 2, 1000)
    store.flush()
    store.put("b", 3, 0)
    snap = store.snapshot()
    store.put("a", 10, 0)
    store.put("c", 5, 2000)
    store.flush()
    assert snap.all() == [(("a", 0), 1), (("b", 0), 3), (("a", 1000), 2)]
    assert snap.fetch_range("a", 0, 5000) == [(0, 1), (1000, 2)]
    assert store.fetch_range("a", 0, 5000) == [(0, 10), (1000, 2)]
    store.close()


def test_snapshots_stay_consistent_while_a_writer_thread_moves_units_between_keys(
    task_dir: Path | None,
) -> None:
    """The writer moves one unit from one key to another per batch (the total never changes) and
    commits now and then, under the store's guard as a stream thread does; every scan through the
    view must see the total, and none may fail (a live scan raised `dictionary changed size`)."""
    store = open_store(Stores.key_value("kv", Serdes.STRING, Serdes.LONG), task_dir)
    keys = [f"k{i:04d}" for i in range(2000)]
    for k in keys:
        store.put(k, 10)
    store.flush()
    total = 10 * len(keys)
    view = LocalStoreView("kv", lambda: [store])
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        i = 0
        try:
            while not stop.is_set():
                with store.guard:
                    for _ in range(50):
                        src, dst = keys[i % len(keys)], f"new{i % 1999:04d}"  # the buffer grows
                        store.put(src, store.get(src) - 1)
                        store.put(dst, (store.get(dst) or 0) + 1)
                        i += 1
                    if i % 1000 == 0:
                        store.flush()
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    seen: list[Any] = []
    try:
        for _ in range(10):
            rows = view.all()
            seen.append(sum(v for _, v in rows))
            snap = view.snapshot()
            assert sum(v for _, v in snap.all()) == sum(v for _, v in snap.all())
    finally:
        stop.set()
        thread.join(30)
    assert not failures
    assert seen == [total] * len(seen)
    assert len(list(store.all())) > len(keys)  # the writer did write meanwhile
    store.close()
