"""Handlers see the broker only through typed ports, so one part can be swapped in and tested alone:
a coordinator port that is not ready, a partition manager over a follower partition. A port the test
does not provide fails loudly if the handler reaches for it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, cast

from odradek.broker.authorization import BrokerAuthorizer
from odradek.broker.context import RequestContext
from odradek.broker.handlers import find_coordinator, list_offsets
from odradek.broker.ports import BrokerPorts
from odradek.metadata.image import ClusterImage
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId, Epoch
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.messages import find_coordinator as fc
from odradek.protocol.messages import list_offsets as lo
from odradek.protocol.records import build_batch, validate_batches
from odradek.replication.manager import PartitionManager
from odradek.replication.replica_set import LeaderAndIsr
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager


class Missing:
    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> Any:
        raise AssertionError(f"the handler used ports.{self.name}.{attr}, which this test did not give it")


def ports(**given: Any) -> BrokerPorts:
    names = BrokerPorts.__dataclass_fields__
    given.setdefault(
        "authorizer", BrokerAuthorizer(lambda: ClusterImage.EMPTY, lambda: 0)
    )  # none: all allowed
    return BrokerPorts(**{name: given.get(name, Missing(name)) for name in names})


def context(ports_: BrokerPorts, version: int) -> RequestContext:
    return RequestContext(0, version, 1, "client", "127.0.0.1", 1, ports_)


class NotReady:
    service = None

    async def ensure_ready(self) -> ErrorCode:
        return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS


class Node:
    node_id = 7

    def advertised_endpoint(self, listener: str | None = None) -> tuple[str, int]:
        return "broker-7", 9097


def test_find_coordinator_with_a_coordinator_that_is_not_ready() -> None:
    p = ports(groups=NotReady(), node=Node())
    request = fc.FindCoordinatorRequest(key_type=0, coordinator_keys=["g"])
    response = asyncio.run(cast(Any, find_coordinator.handle(context(p, 4), request)))
    assert [(c.key, c.error_code) for c in response.coordinators] == [
        ("g", ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
    ]


def test_list_offsets_over_a_partition_manager_alone(tmp_path: Path) -> None:
    manager = PartitionManager(LogManager([tmp_path]), 1, lambda _: LogConfig(), lambda: 0)
    topic_id = uuid.uuid4()
    leader = manager.host(TopicPartition("t", 0), topic_id, LeaderAndIsr.single(BrokerId(1), Epoch(3)))
    batch = bytearray(build_batch([(None, b"v", [], 0)] * 4))
    leader.append_as_leader(batch, validate_batches(batch), now_ms=0)
    follower_state = LeaderAndIsr(BrokerId(2), Epoch(4), (BrokerId(1), BrokerId(2)), (BrokerId(2),))
    manager.host(TopicPartition("t", 1), topic_id, follower_state)
    request = lo.ListOffsetsRequest(
        topics=[
            lo.ListOffsetsTopic(
                name="t",
                partitions=[lo.ListOffsetsPartition(partition_index=i, timestamp=-1) for i in (0, 1)],
            )
        ]
    )
    response = list_offsets.handle(context(ports(partitions=manager), 8), request)
    [topic] = response.topics
    answered = [(p.partition_index, p.error_code, p.offset, p.leader_epoch) for p in topic.partitions]
    assert answered == [(0, ErrorCode.NO_ERROR, 4, 3), (1, ErrorCode.NOT_LEADER_OR_FOLLOWER, -1, -1)]
    manager.logs.close()
