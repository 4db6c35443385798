"""The contract body (`odradek.testing.metadata_store_contract`) on every store we have; then the local
store's crash safety."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.local_store import LocalMetadataStore, MetadataStoreLockedError
from odradek.metadata.metadata_log import MetadataLogCorruptError, encode_batch
from odradek.metadata.records import (
    RemoveTopicRecord,
)
from odradek.metadata.store import InMemoryMetadataStore, MetadataStore
from odradek.testing.metadata_store_contract import B1, BOOT, MetadataStoreContract, topic_batch


class Reopenable:
    """`StoreFactory` of the in-memory and the local store: `reopen()` closes and opens it again."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.directory = tmp_path / "meta"
        self.memory = InMemoryMetadataStore()
        self.store: MetadataStore = self._open()

    def _open(self) -> MetadataStore:
        if self.kind == "memory":
            return self.memory
        return LocalMetadataStore.open(self.directory, compact_after_bytes=200)

    def reopen(self) -> MetadataStore:
        if self.kind != "memory":
            self.store.close()
        self.store = self._open()
        return self.store


class TestContract(MetadataStoreContract):
    """The contract body every store runs (the ZooKeeper store's tests subclass it the same way)."""

    @pytest.fixture(params=["memory", "local"])
    def stores(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Reopenable]:
        factory = Reopenable(request.param, tmp_path)
        yield factory
        factory.store.close()


@pytest.fixture
def local(tmp_path: Path) -> Callable[..., LocalMetadataStore]:
    opened: list[LocalMetadataStore] = []

    def open_store(**kw: int) -> LocalMetadataStore:
        store = LocalMetadataStore.open(tmp_path / "meta", **kw)
        opened.append(store)
        return store

    yield open_store  # type: ignore[misc]
    for store in opened:
        store.close()


def test_torn_last_batch_is_ignored_and_truncated(local: Callable[..., LocalMetadataStore]) -> None:
    store = local()
    store.apply(BOOT)
    store.apply(topic_batch("a", 1))
    expected = store.image
    size = store.path.stat().st_size
    store.close()
    with open(store.path, "ab") as f:
        f.write(encode_batch(topic_batch("b", 2))[:25])  # the crash cut this write short
    reopened = local()
    assert reopened.image == expected
    assert reopened.path.stat().st_size == size
    reopened.apply(topic_batch("c", 3))
    reopened.close()
    assert sorted(local().image.topics_by_name) == ["a", "c"]


def test_corruption_in_the_middle_is_an_error(local: Callable[..., LocalMetadataStore]) -> None:
    store = local()
    store.apply(BOOT)
    store.apply(topic_batch("a", 1))
    store.close()
    data = bytearray(store.path.read_bytes())
    data[3] = ord("x") if data[3] != ord("x") else ord("y")
    store.path.write_bytes(bytes(data))
    with pytest.raises(MetadataLogCorruptError):
        local()


def test_compaction_rewrites_the_log_as_a_snapshot(local: Callable[..., LocalMetadataStore]) -> None:
    store = local(compact_after_bytes=2000)
    store.apply(BOOT)
    for i in range(40):
        store.apply(topic_batch(f"t{i}", i))
        store.apply([RemoveTopicRecord(uuid.UUID(int=i + 1))])
    store.apply(topic_batch("kept", 100))
    expected = store.image
    assert store.path.stat().st_size < 2 * 2000
    assert not (store.path.parent / "metadata.log.tmp").exists()
    store.close()
    assert local().image == expected


def test_a_leftover_temporary_snapshot_is_harmless(local: Callable[..., LocalMetadataStore]) -> None:
    store = local()
    store.apply(BOOT)
    store.close()
    (store.path.parent / "metadata.log.tmp").write_bytes(b"half a snapshot")
    assert local().image == replay(ClusterImage.EMPTY, BOOT)


def test_one_process_at_a_time(local: Callable[..., LocalMetadataStore], tmp_path: Path) -> None:
    local()
    with pytest.raises(MetadataStoreLockedError):
        LocalMetadataStore.open(tmp_path / "meta")


def test_failed_write_leaves_no_half_batch(
    local: Callable[..., LocalMetadataStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = local()
    store.apply(BOOT)
    size = store.path.stat().st_size
    real_write = os.write

    def short_then_fail(fd: int, data: object) -> int:
        monkeypatch.setattr(os, "write", failing)
        return real_write(fd, bytes(data)[:10])  # type: ignore[call-overload]

    def failing(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", short_then_fail)
    with pytest.raises(OSError):
        store.apply(topic_batch("a", 1))
    monkeypatch.setattr(os, "write", real_write)
    assert store.path.stat().st_size == size
    assert store.image == replay(ClusterImage.EMPTY, BOOT)
    store.apply(topic_batch("b", 2))
    store.close()
    assert sorted(local().image.topics_by_name) == ["b"]


def test_controller_flow_survives_a_restart(local: Callable[..., LocalMetadataStore]) -> None:
    import random

    from odradek.metadata.controller import CreatableTopic, bootstrap_single_node, create_topics
    from odradek.metadata.describe_configs import describe_configs
    from odradek.metadata.static_config import StaticBrokerConfig
    from odradek.model.errors import ErrorCode

    static = StaticBrokerConfig.from_properties({"node.id": "1"})
    rng = random.Random(5)
    store = local()
    store.apply(bootstrap_single_node(store.image, B1, "localhost", 9092, rack=None, rng=rng))
    created = create_topics(
        store.image,
        static,
        [CreatableTopic("orders", 2, 1, configs=(("cleanup.policy", "compact"),))],
        validate_only=False,
        rng=rng,
    )
    store.apply(created.records)
    store.close()
    image = local().image
    assert image.cluster_id is not None and image.controller_id == 1
    topic = image.topic("orders")
    assert topic is not None and topic.topic_id == created.response[0].topic_id
    described = describe_configs(image, static, ConfigResourceType.TOPIC, "orders", ["cleanup.policy"])
    assert described.error_code is ErrorCode.NO_ERROR
    assert [(c.name, c.value) for c in described.configs] == [("cleanup.policy", "compact")]
