"""One contract for each store kind, run over RocksDB and memory; changelog restore; locking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from odradek.streams import ProcessorStateException, Serdes, Stores
from odradek.streams.state.bytes_store import RocksDBBytesStore
from odradek.streams.state.factory import open_store


@pytest.fixture(params=["rocksdb", "memory"])
def task_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path | None:
    return tmp_path if request.param == "rocksdb" else None


def _with_changelog(store: Any) -> list[tuple[bytes, bytes | None]]:
    log: list[tuple[bytes, bytes | None]] = []
    store.changelog = lambda k, v, ts: log.append((k, v))
    return log


def test_key_value_store_contract(task_dir: Path | None) -> None:
    store = open_store(Stores.key_value("kv", Serdes.STRING, Serdes.JSON), task_dir)
    log = _with_changelog(store)
    store.put("b", {"n": 2})
    store.put("a", [1])
    store.put("c", 3)
    assert store.get("a") == [1]  # uncommitted writes are visible
    assert store.put_if_absent("a", 9) == [1]
    assert store.delete("c") == 3
    assert list(store.range("a", "b")) == [("a", [1]), ("b", {"n": 2})]
    store.flush()
    assert sorted(k for k, _ in log) == [b"a", b"b", b"c"]
    assert dict(log)[b"c"] is None
    assert list(store.all()) == [("a", [1]), ("b", {"n": 2})]
    store.put("aa", 1)
    assert [k for k, _ in store.prefix_scan(b"a")] == ["a", "aa"]
    assert store.approximate_num_entries() >= 2
    store.close()


def test_unhashable_keys_work(task_dir: Path | None) -> None:
    store = open_store(Stores.key_value("kv", Serdes.JSON, Serdes.JSON), task_dir)
    store.put({"user": 1}, "x")
    assert store.get({"user": 1}) == "x"
    store.flush()
    assert store.get({"user": 1}) == "x"
    store.close()


def test_restore_from_changelog_rebuilds_the_store(task_dir: Path | None, tmp_path: Path) -> None:
    spec = Stores.key_value("kv", Serdes.STRING, Serdes.LONG)
    store = open_store(spec, task_dir)
    log = _with_changelog(store)
    for i in range(50):
        store.put(f"k{i % 7}", i)
    store.delete("k3")
    store.flush()
    store.close()
    other = open_store(spec, (tmp_path / "other") if task_dir else None)
    other.restore(log)
    assert other.get("k3") is None
    assert other.get("k6") == 48
    other.close()


def test_abort_drops_uncommitted_writes(task_dir: Path | None) -> None:
    store = open_store(Stores.key_value("kv", Serdes.STRING, Serdes.LONG), task_dir)
    store.put("a", 1)
    store.flush()
    store.put("a", 2)
    store.prepare_commit()
    store.abort()
    assert store.get("a") == 1
    store.close()


def test_window_store_contract(task_dir: Path | None) -> None:
    store = open_store(
        Stores.window(
            "w", retention_ms=1000, window_size_ms=10, key_serde=Serdes.STRING, value_serde=Serdes.LONG
        ),
        task_dir,
    )
    store.put("a", 1, 0)
    store.put("a", 2, 10)
    store.put("b", 3, 10)
    store.flush()
    store.put("a", 4, 20)
    assert store.fetch("a", 10) == 2
    assert store.fetch_range("a", 0, 20) == [(0, 1), (10, 2), (20, 4)]
    assert store.fetch_all(10, 10) == [(("a", 10), 2), (("b", 10), 3)]
    store.put("a", None, 10)
    assert store.fetch_range("a", 0, 100) == [(0, 1), (20, 4)]
    store.put("a", 5, 5000)  # moves observed time: everything before 4000 expires
    store.put("a", 6, 100)  # too old for the retention: dropped and counted
    assert store.expired_writes == 1
    store.flush()
    assert store.fetch_range("a", 0, 10_000) == [(5000, 5)]
    store.close()


def test_window_store_keeps_duplicates_for_join_buffers(task_dir: Path | None) -> None:
    spec = Stores.window(
        "j",
        retention_ms=100,
        window_size_ms=10,
        key_serde=Serdes.STRING,
        value_serde=Serdes.STRING,
        retain_duplicates=True,
    )
    store = open_store(spec, task_dir)
    store.put("k", "x", 5)
    store.put("k", "y", 5)
    assert [v for _, v in store.fetch_range("k", 0, 10)] == ["x", "y"]
    store.close()


def test_session_store_contract(task_dir: Path | None) -> None:
    store = open_store(
        Stores.session("s", retention_ms=1000, key_serde=Serdes.STRING, value_serde=Serdes.LONG), task_dir
    )
    store.put("u", 0, 10, 2)
    store.put("u", 20, 30, 1)
    store.put("v", 5, 6, 7)
    store.flush()
    assert store.find_sessions("u", 5, 25) == [(0, 10, 2), (20, 30, 1)]
    assert store.find_sessions("u", 11, 100) == [(20, 30, 1)]
    store.remove("u", 0, 10)
    assert store.fetch("u") == [(20, 30, 1)]
    assert store.fetch_session("v", 5, 6) == 7
    assert store.all() == [(("v", 5, 6), 7), (("u", 20, 30), 1)]
    store.close()


def test_persistent_window_segments_survive_reopen(tmp_path: Path) -> None:
    spec = Stores.window(
        "w", retention_ms=10_000_000, window_size_ms=10, key_serde=Serdes.STRING, value_serde=Serdes.LONG
    )
    store = open_store(spec, tmp_path)
    store.put("a", 1, 0)
    store.put("a", 2, 7_000_000)
    store.flush()
    store.close()
    again = open_store(spec, tmp_path)
    assert again.fetch_range("a", 0, 8_000_000) == [(0, 1), (7_000_000, 2)]
    again.close()


def test_a_rocksdb_batch_is_written_in_key_order_and_the_later_write_to_a_key_wins(tmp_path: Path) -> None:
    db = RocksDBBytesStore(tmp_path / "db")
    batch = [(b"b", b"1"), (b"a", b"1"), (b"c", b"1"), (b"b", None), (b"a", b"2"), (b"c", None), (b"c", b"3")]
    db.write(batch)
    assert list(db.range(None, None)) == [(b"a", b"2"), (b"c", b"3")]
    db.write(iter([(b"c", None), (b"d", b"4")]))  # any iterable
    assert list(db.range(None, None)) == [(b"a", b"2"), (b"d", b"4")]
    db.close()


def test_a_locked_rocksdb_directory_is_a_clear_error(tmp_path: Path) -> None:
    first = RocksDBBytesStore(tmp_path / "db")
    with pytest.raises(ProcessorStateException, match="cannot open the RocksDB state store"):
        RocksDBBytesStore(tmp_path / "db")
    first.close()


def test_a_task_directory_locked_by_another_instance_is_a_clear_error(tmp_path: Path) -> None:
    from odradek.streams.runtime.checkpoint import read_checkpoint, write_checkpoint
    from odradek.streams.runtime.state_directory import StateDirectory

    first, second = StateDirectory(tmp_path, "app"), StateDirectory(tmp_path, "app")
    task_dir = first.lock("0_1")
    with pytest.raises(ProcessorStateException, match="locked by another instance"):
        second.lock("0_1")
    write_checkpoint(task_dir, {("app-s-changelog", 1): 42})
    assert read_checkpoint(task_dir) == {("app-s-changelog", 1): 42}
    assert (task_dir / ".checkpoint").read_text() == "0\n1\napp-s-changelog 1 42\n"
    first.unlock("0_1")
    second.lock("0_1")
    second.unlock("0_1")


def test_versioned_store_contract(task_dir: Path | None) -> None:
    from odradek.streams.state.versioned import (
        PUT_RETURN_CODE_NOT_PUT,
        PUT_RETURN_CODE_VALID_TO_UNDEFINED,
        VersionedRecord,
    )

    spec = Stores.persistent_versioned_key_value_store("rates", 10_000, Serdes.STRING, Serdes.DOUBLE)
    assert spec.log_config["min.compaction.lag.ms"] == str(10_000 + 86_400_000)
    store = open_store(spec, task_dir)
    log: list[tuple[bytes, bytes | None, int]] = []
    store.changelog = lambda k, v, ts: log.append((k, v, ts))
    assert store.put("eur", 1.08, 1_000) == PUT_RETURN_CODE_VALID_TO_UNDEFINED
    assert store.put("eur", 1.09, 5_000) == PUT_RETURN_CODE_VALID_TO_UNDEFINED
    assert store.put("eur", 1.07, 3_000) == 5_000  # out of order: valid until the next version
    assert store.get("eur") == VersionedRecord(1.09, 5_000, None)  # latest by time, not by write
    assert store.get("eur", 999) is None
    assert store.get("eur", 2_999) == VersionedRecord(1.08, 1_000, 3_000)
    assert store.get("eur", 4_000) == VersionedRecord(1.07, 3_000, 5_000)
    assert store.delete("eur", 7_000) == VersionedRecord(1.09, 5_000, None)
    assert store.get("eur") is None and store.get("eur", 6_999).value == 1.09
    store.flush()
    assert [ts for _, _, ts in log] == [1_000, 5_000, 3_000, 7_000]  # every put, with its time
    assert store.get("eur", 4_000) == VersionedRecord(1.07, 3_000, 5_000)  # read back from the bytes
    # history retention 10 s: stream time 20 s makes everything before 10 s unreadable and unwritable
    assert store.put("gbp", 0.85, 20_000) == PUT_RETURN_CODE_VALID_TO_UNDEFINED
    assert store.put("eur", 1.0, 9_999) == PUT_RETURN_CODE_NOT_PUT
    assert store.get("eur", 9_000) is None
    assert store.put("eur", 1.1, 10_000) == PUT_RETURN_CODE_VALID_TO_UNDEFINED
    assert [v.value for v in store.versions("eur")] == [1.1]  # expired versions dropped on write
    assert dict(store.all()) == {
        "eur": VersionedRecord(1.1, 10_000, None),
        "gbp": VersionedRecord(0.85, 20_000, None),
    }
    store.flush()
    store.close()
    if task_dir is not None:  # reopened, RocksDB keeps the history and the observed stream time
        reopened = open_store(spec, task_dir)
        assert reopened.get("eur", 9_000) is None and reopened.get("eur", 12_000).value == 1.1
        assert reopened.put("eur", 2.0, 9_000) == PUT_RETURN_CODE_NOT_PUT
        assert [k for k, _ in reopened.all()] == ["eur", "gbp"]
        reopened.close()

    other = open_store(spec, None)
    other.restore_records(log)
    assert other.get("eur", 4_000) is None  # the replayed history is bounded by the same retention
    assert other.get("eur") == VersionedRecord(1.1, 10_000, None)
    assert other.get("gbp", 25_000) == VersionedRecord(0.85, 20_000, None)
    other.close()


def test_versioned_sweep_drops_expired_history_of_keys_no_longer_written(task_dir: Path | None) -> None:
    spec = Stores.persistent_versioned_key_value_store("v", 100_000, Serdes.STRING, Serdes.LONG)
    store = open_store(spec, task_dir)
    for ts in (1_000, 2_000, 3_000):
        store.put("idle", ts, ts)
    store.put("gone", 1, 1_000)
    store.put("gone", None, 2_000)
    store.flush()
    assert store.sweep() == 0  # nothing expired yet
    store.put("busy", 1, 400_000)  # stream time 400 s: everything before 300 s has expired
    store.flush()  # stream time moved by more than half the retention: the sweep ran
    raw = dict(store.inner.range(None, None))
    assert b"\x01gone" not in raw  # a deletion long past leaves nothing
    assert store.versions("idle") == [store.get("idle")]  # only the version still valid now
    assert store.get("idle").value == 3_000 and store.get("idle", 250_000) is None
    store.close()
