"""The ZooKeeper layout (`metadata/zk_layout.py`) and `records_between` over generated images: the znodes
of an image read back as the same image, a change writes exactly the znodes that differ, and the
records a watcher publishes for a change replay to the new image."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from test_metadata_properties import _apply, operations

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import (
    ConfigRecord,
    ControllerRecord,
    FeatureLevelRecord,
    MetadataRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    UnregisterBrokerRecord,
)
from odradek.metadata.zk_layout import Znode, diff, image_of, znodes_of
from odradek.metadata.zk_records import records_between
from odradek.model.ids import BrokerId

extras = st.one_of(
    st.tuples(st.just("controller"), st.integers(1, 3), st.integers(0, 5)),
    st.tuples(st.just("broker-config"), st.sampled_from(["", "1", "2"]), st.sampled_from(["1", None])),
    st.tuples(st.just("producer-ids"), st.integers(1, 1000)),
    st.tuples(st.just("leave"), st.integers(1, 3)),
    st.tuples(st.just("join"), st.integers(1, 4), st.sampled_from(["a", "b", None])),
    st.tuples(
        st.just("feature"), st.sampled_from(["eligible.leader.replicas.version", "x"]), st.integers(0, 1)
    ),
)


EXTRA_KINDS = ("controller", "broker-config", "producer-ids", "leave", "join", "feature")


def _extra(image: ClusterImage, op: tuple[object, ...]) -> ClusterImage:
    kind = op[0]
    records: list[MetadataRecord]
    if kind == "controller":
        records = [ControllerRecord(BrokerId(int(str(op[1]))), int(str(op[2])))]
    elif kind == "broker-config":
        value = op[2] if op[2] is None else str(op[2])
        records = [ConfigRecord(ConfigResourceType.BROKER, str(op[1]), "log.retention.ms", value)]
    elif kind == "producer-ids":
        records = [ProducerIdsRecord(BrokerId(1), image.next_producer_id + int(str(op[1])))]
    elif kind == "feature":
        records = [FeatureLevelRecord(str(op[1]), int(str(op[2])))]
    elif kind == "leave":
        broker = BrokerId(int(str(op[1])))
        records = [UnregisterBrokerRecord(broker)] if broker in image.brokers else []
    else:
        b = int(str(op[1]))
        rack = op[2] if op[2] is None else str(op[2])
        records = [
            RegisterBrokerRecord(BrokerId(b), "h", 9000 + b, rack, endpoints=(f"PLAINTEXT://h:{9000 + b}",))
        ]
    return replay(image, records)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(operations, extras), max_size=20), st.integers(0, 2**32))
def test_znodes_round_trip_and_changes_are_minimal(ops: list[tuple[object, ...]], seed: int) -> None:
    rng = random.Random(seed)
    image = replay(ClusterImage.EMPTY, [RegisterBrokerRecord(BrokerId(b), "h", 9092) for b in (1, 2, 3)])
    for op in ops:
        before = image
        image = _extra(image, op) if op[0] in EXTRA_KINDS else _apply(image, op, rng)
        nodes = znodes_of(image)
        assert image_of({path: node.data for path, node in nodes.items()}) == image
        change = diff(znodes_of(before), nodes)
        written: dict[str, Znode] = dict(znodes_of(before))
        for path in change.delete:
            del written[path]
        written.update(change.create)
        written.update(change.update)
        assert written == nodes
        assert replay(before, records_between(before, image)) == image
