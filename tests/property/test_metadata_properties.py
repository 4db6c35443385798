"""Invariants of placement, the controller and snapshots, over generated inputs."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.controller import (
    AlterableConfig,
    AlterConfigOp,
    CreatableTopic,
    CreatePartitionsTopic,
    DeleteTopicRef,
    IncrementalAlterConfigsResource,
    create_partitions,
    create_topics,
    delete_topics,
    incremental_alter_configs,
)
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.placement import place_replicas
from odradek.metadata.records import NO_LEADER, RegisterBrokerRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.topic_configs import TOPIC_CONFIGS, TOPIC_NAME_STRATEGY
from odradek.model.ids import BrokerId

STATIC = StaticBrokerConfig.from_properties({"node.id": "1"})


@st.composite
def layouts(draw: st.DrawFn) -> tuple[list[int], int, int, int, int]:
    brokers = draw(st.lists(st.integers(0, 1000), min_size=1, max_size=12, unique=True))
    n = len(brokers)
    partitions = draw(st.integers(1, 60))
    rf = draw(st.integers(1, n))
    return brokers, partitions, rf, draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))


@settings(max_examples=200, deadline=None)
@given(layouts())
def test_placement_is_balanced(layout: tuple[list[int], int, int, int, int]) -> None:
    brokers, partitions, rf, start, shift = layout
    assignments = place_replicas(brokers, partitions, rf, start_index=start, shift=shift)
    assert len(assignments) == partitions
    for replicas in assignments:
        assert len(replicas) == rf == len(set(replicas))
        assert set(replicas) <= set(brokers)
    leaders = Counter(r[0] for r in assignments)
    replicas_per_broker = Counter(b for r in assignments for b in r)
    leader_counts = [leaders.get(b, 0) for b in brokers]
    replica_counts = [replicas_per_broker.get(b, 0) for b in brokers]
    assert max(leader_counts) - min(leader_counts) <= 1
    assert max(replica_counts) - min(replica_counts) <= rf
    if partitions % len(brokers) == 0:
        assert len(set(replica_counts)) == 1


topic_names = st.sampled_from(["a", "b", "c.d", "c_d", "e"])
operations = st.one_of(
    st.tuples(st.just("create"), topic_names, st.integers(1, 4), st.integers(1, 3)),
    st.tuples(st.just("delete"), topic_names),
    st.tuples(st.just("grow"), topic_names, st.integers(1, 6)),
    st.tuples(
        st.just("config"), topic_names, st.sampled_from(["retention.ms", "segment.ms"]), st.integers(1, 10**9)
    ),
    st.tuples(st.just("unset"), topic_names, st.sampled_from(["retention.ms", "segment.ms"])),
)


def _apply(image: ClusterImage, op: tuple[object, ...], rng: random.Random) -> ClusterImage:
    kind, name = op[0], str(op[1])
    if kind == "create":
        result = create_topics(
            image,
            STATIC,
            [CreatableTopic(name, int(op[2]), int(op[3]))],
            validate_only=False,
            rng=rng,  # type: ignore[call-overload]
        )
        return replay(image, result.records)
    if kind == "delete":
        return replay(image, delete_topics(image, STATIC, [DeleteTopicRef(name)]).records)
    if kind == "grow":
        result = create_partitions(image, [CreatePartitionsTopic(name, int(op[2]))], validate_only=False)  # type: ignore[call-overload]
        return replay(image, result.records)
    operation = AlterConfigOp.SET if kind == "config" else AlterConfigOp.DELETE
    value = str(op[3]) if kind == "config" else None
    resource = IncrementalAlterConfigsResource(
        ConfigResourceType.TOPIC, name, (AlterableConfig(str(op[2]), operation, value),)
    )
    return replay(image, incremental_alter_configs(image, STATIC, [resource], validate_only=False).records)


@settings(max_examples=100, deadline=None)
@given(st.lists(operations, max_size=25), st.integers(0, 2**32))
def test_controller_keeps_the_image_consistent(ops: list[tuple[object, ...]], seed: int) -> None:
    rng = random.Random(seed)
    image = replay(ClusterImage.EMPTY, [RegisterBrokerRecord(BrokerId(b), "h", 9092) for b in (1, 2, 3)])
    for op in ops:
        image = _apply(image, op, rng)
        unified = [name.replace(".", "_") for name in image.topics_by_name]
        assert len(unified) == len(set(unified))
        assert {t.topic_id for t in image.topics_by_name.values()} == set(image.topics_by_id)
        assert set(image.topic_configs) <= set(image.topics_by_name)
        for topic in image.topics_by_name.values():
            assert sorted(topic.partitions) == list(range(len(topic.partitions)))
            for partition in topic.partitions.values():
                assert set(partition.isr) <= set(partition.replicas)
                assert partition.leader == NO_LEADER or partition.leader in partition.isr
                assert len(partition.replicas) == topic.replication_factor
    assert replay(ClusterImage.EMPTY, image.to_records()) == image


_VALUES = {
    "cleanup.policy": st.sampled_from(["delete", "compact", "compact,delete"]),
    "compression.type": st.sampled_from(["producer", "zstd", "gzip"]),
    "message.timestamp.type": st.sampled_from(["CreateTime", "LogAppendTime"]),
    "min.cleanable.dirty.ratio": st.floats(0, 1).map(repr),
    "follower.replication.throttled.replicas": st.sampled_from(["", "*", "0:1,1:2"]),
    "leader.replication.throttled.replicas": st.sampled_from(["", "*", "3:4"]),
    "confluent.key.subject.name.strategy": st.just(TOPIC_NAME_STRATEGY),
    "confluent.value.subject.name.strategy": st.just(TOPIC_NAME_STRATEGY),
}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(TOPIC_CONFIGS)), st.data())
def test_topic_config_values_survive_format_and_parse(name: str, data: st.DataObject) -> None:
    definition = TOPIC_CONFIGS[name]
    if name in _VALUES:
        raw = data.draw(_VALUES[name])
    elif isinstance(definition.default, bool):
        raw = data.draw(st.sampled_from(["true", "false"]))
    else:
        assert isinstance(definition.default, int)
        low = getattr(definition.validator, "min", None)
        high = getattr(definition.validator, "max", None)
        top = 2**31 - 1 if definition.type.name == "INT" else 2**63 - 1
        raw = str(
            data.draw(st.integers(-1 if low is None else max(low, -(2**20)), top if high is None else high))
        )
    value = definition.parse(raw)
    assert definition.parse(definition.format(value) or "") == value
