"""A broker that becomes controller after the last one's session ended (the controller died as a
broker, with the partitions it led) elects their new leaders in the same change as its own
election: one store write (one ZooKeeper transaction, one read on every other broker), not two."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from odradek.broker.cluster_controller import ClusterController
from odradek.metadata.controller.result import ControllerResult
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import (
    NO_LEADER,
    ControllerRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    TopicRecord,
)
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.ids import BrokerId

B1, B2, B3 = BrokerId(1), BrokerId(2), BrokerId(3)


def test_the_new_controller_elects_the_dead_controllers_partitions_in_the_same_change() -> None:
    topic_id = uuid.uuid4()
    image = replay(  # broker 1 (controller, leader of t-0 and t-1) is gone: its session ended
        ClusterImage.EMPTY,
        [
            RegisterBrokerRecord(B2, "h", 2),
            RegisterBrokerRecord(B3, "h", 3),
            ControllerRecord(NO_LEADER, 1),
            TopicRecord("t", topic_id),
            PartitionRecord(topic_id, 0, (B1, B2, B3), (B1, B2, B3), B1),
            PartitionRecord(topic_id, 1, (B1, B3, B2), (B1, B3, B2), B1),
        ],
    )
    writes: list[int] = []
    state = {"image": image}

    async def run_controller(compute: Callable[[ClusterImage], ControllerResult[Any]]) -> Any:
        result = compute(state["image"])
        if result.records:
            writes.append(len(result.records))
            state["image"] = replay(state["image"], result.records)
        return result.response

    static = StaticBrokerConfig.from_properties({"node.id": "2"})
    controller = ClusterController(B2, static, lambda: state["image"], run_controller)

    async def main() -> None:
        await controller._step()

    asyncio.run(main())
    after = state["image"]
    assert (after.controller_id, after.controller_epoch) == (B2, 2)
    topic = after.topic("t")
    assert topic is not None
    assert [topic.partitions[i].leader for i in (0, 1)] == [B2, B3]
    assert writes == [3]  # the controller record and both elections: one write
    assert controller.elections == 2
