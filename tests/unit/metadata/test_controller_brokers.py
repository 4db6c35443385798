from __future__ import annotations

import random

from odradek.metadata.controller import (
    allocate_producer_ids,
    bootstrap_single_node,
    fence_broker,
    new_cluster_id,
    register_broker,
    unregister_broker,
)
from odradek.metadata.controller.brokers import ProducerIdBlock
from odradek.metadata.delta import replay
from odradek.metadata.image import BrokerRegistration, ClusterImage
from odradek.metadata.records import (
    BrokerFenceRecord,
    ClusterIdRecord,
    ControllerRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    UnregisterBrokerRecord,
)
from odradek.model.ids import BrokerId, ProducerId

B1 = BrokerId(1)


def test_cluster_ids_look_like_kafkas() -> None:
    cluster_id = new_cluster_id(random.Random(1))
    assert len(cluster_id) == 22
    assert cluster_id == new_cluster_id(random.Random(1))
    assert set(cluster_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_bootstrap_once_then_nothing() -> None:
    records = bootstrap_single_node(
        ClusterImage.EMPTY, B1, "localhost", 9092, rack=None, rng=random.Random(1)
    )
    assert records == (
        ClusterIdRecord(new_cluster_id(random.Random(1))),
        ControllerRecord(B1, 1),
        RegisterBrokerRecord(B1, "localhost", 9092, None, False, 0),
    )
    image = replay(ClusterImage.EMPTY, records)
    assert bootstrap_single_node(image, B1, "localhost", 9092, rack=None, rng=random.Random(2)) == ()
    moved = bootstrap_single_node(image, B1, "otherhost", 9093, rack="r", rng=random.Random(2))
    assert moved == (RegisterBrokerRecord(B1, "otherhost", 9093, "r", False, 1),)


def test_register_fence_unregister() -> None:
    image = replay(ClusterImage.EMPTY, register_broker(ClusterImage.EMPTY, B1, "h", 1, None))
    assert image.brokers[B1] == BrokerRegistration(B1, "h", 1)
    assert fence_broker(image, B1, False) == ()
    assert fence_broker(image, B1, True) == (BrokerFenceRecord(B1, True),)
    assert fence_broker(image, BrokerId(9), True) == ()
    assert unregister_broker(image, B1) == (UnregisterBrokerRecord(B1),)
    assert unregister_broker(image, BrokerId(9)) == ()


def test_producer_id_blocks_never_overlap() -> None:
    first = allocate_producer_ids(ClusterImage.EMPTY, B1)
    assert first.response == ProducerIdBlock(B1, ProducerId(0), 1000)
    assert first.response.last_producer_id == 999
    assert first.records == (ProducerIdsRecord(B1, 1000),)
    image = replay(ClusterImage.EMPTY, first.records)
    second = allocate_producer_ids(image, BrokerId(2), 10)
    assert second.response == ProducerIdBlock(BrokerId(2), ProducerId(1000), 10)
    assert replay(image, second.records).next_producer_id == 1010
