"""PartitionPublisher: a change it failed to follow half-way is made good by the next one (which,
shared topic objects aside, may not touch the topics it missed)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from odradek.broker.metadata_publishing import PartitionPublisher
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import PartitionRecord, RegisterBrokerRecord, TopicRecord
from odradek.metadata.store import MetadataChange
from odradek.model.ids import BrokerId
from odradek.replication.manager import PartitionManager
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager

B1 = BrokerId(1)


def _topic(name: str, n: int) -> list[Any]:
    topic_id = uuid.UUID(int=n)
    return [TopicRecord(name, topic_id), PartitionRecord(topic_id, 0, (B1,), (B1,), B1)]


def test_partitions_a_failed_change_left_unhosted_are_hosted_by_the_next_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = PartitionManager(LogManager([tmp_path]), 1, lambda _: LogConfig(), lambda: 0)
    publisher = PartitionPublisher(manager)
    try:
        start = replay(ClusterImage.EMPTY, [RegisterBrokerRecord(B1, "h", 1)])
        asyncio.run(publisher.publish(MetadataChange(ClusterImage.EMPTY, start, (), 1)))
        records = _topic("orders", 1)
        first = replay(start, records)
        host = manager.host
        failures = [OSError("a transient failure")]

        def flaky_host(*args: Any) -> Any:
            if failures:
                raise failures.pop()
            return host(*args)

        monkeypatch.setattr(manager, "host", flaky_host)
        with pytest.raises(OSError):
            asyncio.run(publisher.publish(MetadataChange(start, first, tuple(records), 2)))
        assert manager.get("orders", 0) is None
        records = _topic("payments", 2)
        second = replay(first, records)
        assert second.topic("orders") is first.topic("orders")  # the next change leaves it alone
        asyncio.run(publisher.publish(MetadataChange(first, second, tuple(records), 3)))
        orders = manager.get("orders", 0)
        assert orders is not None and orders.is_leader
        assert manager.get("payments", 0) is not None
    finally:
        manager.logs.close()
