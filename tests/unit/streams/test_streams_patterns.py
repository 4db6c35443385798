"""Pattern sources (`builder.stream(re.compile(...))`, Kafka Streams' `stream(Pattern)`) in the test
driver: every topic whose whole name matches is read, topics appear at any time, overlaps with named
sources are refused when the topology is built, the runtime subscribes with a regex."""

from __future__ import annotations

import re

import pytest

from odradek.streams import Serdes, StreamsBuilder, StreamsException, TopologyException, TopologyTestDriver
from odradek.streams.config import StreamsConfig
from odradek.streams.runtime.internal_topics import plan_internal_topics
from odradek.streams.runtime.state_directory import StateDirectory
from odradek.streams.runtime.tasks import TaskFactory


def _counts(pattern: str) -> StreamsBuilder:
    b = StreamsBuilder()
    (
        b.stream(re.compile(pattern), key_serde=Serdes.STRING, value_serde=Serdes.STRING)
        .group_by(lambda k, _v: k, name="by-key", key_serde=Serdes.STRING, value_serde=Serdes.STRING)
        .count(materialized="counts")
        .to_stream()
        .to("totals", key_serde=Serdes.STRING, value_serde=Serdes.LONG)
    )
    return b


def test_every_matching_topic_is_read_including_new_ones() -> None:
    with TopologyTestDriver(_counts(r"logs-[a-z]+").build()) as driver:
        totals = driver.create_output_topic("totals", Serdes.STRING, Serdes.LONG)
        for i, topic in enumerate(["logs-web", "logs-db", "logs-web", "logs-queue"]):
            driver.create_input_topic(topic, Serdes.STRING, Serdes.STRING).pipe_input("k", "v", i)
        assert totals.read_values_to_list() == [1, 2, 3, 4]
        assert driver.get_key_value_store("counts").get("k").value == 4
        for unmatched in ["logs-", "logs-web2", "xlogs-web", "__logs-web"]:
            with pytest.raises(StreamsException, match="not read by this topology"):
                driver.create_input_topic(unmatched, Serdes.STRING, Serdes.STRING).pipe_input("k", "v")


def test_pattern_and_named_sources_side_by_side() -> None:
    b = StreamsBuilder()
    named = b.stream("audit", key_serde=Serdes.STRING, value_serde=Serdes.STRING)
    b.stream(re.compile(r"app\..*"), key_serde=Serdes.STRING, value_serde=Serdes.STRING).merge(named).to(
        "all", key_serde=Serdes.STRING, value_serde=Serdes.STRING
    )
    topology = b.build()
    assert "(topics: [app\\..*])" in str(topology.describe())
    with TopologyTestDriver(topology) as driver:
        driver.create_input_topic("app.a", Serdes.STRING, Serdes.STRING).pipe_input("1", "a")
        driver.create_input_topic("audit", Serdes.STRING, Serdes.STRING).pipe_input("2", "b")
        assert driver.create_output_topic("all", Serdes.STRING, Serdes.STRING).read_values_to_list() == [
            "a",
            "b",
        ]


def test_overlaps_are_refused_at_build_time() -> None:
    b = StreamsBuilder()
    b.stream("orders-eu")
    with pytest.raises(TopologyException, match="already reads"):
        b.stream(re.compile("orders-.*"))
    b = StreamsBuilder()
    b.stream(re.compile("orders-.*"))
    with pytest.raises(TopologyException, match="already matched by pattern"):
        b.stream("orders-us")
    with pytest.raises(TopologyException, match="already read by source"):
        b.stream(re.compile("orders-.*"))


def test_runtime_subscribes_with_an_anchored_regex_and_sizes_internal_topics(tmp_path: object) -> None:
    topology = _counts(r"logs-[a-z]+").build()
    config = StreamsConfig({"application.id": "pat", "bootstrap.servers": "x:1", "state.dir": str(tmp_path)})

    def physical(name: str) -> str:
        return f"pat-{name}" if name in topology.internal_topics else name

    factory = TaskFactory(topology, config, StateDirectory(str(tmp_path), "pat"), physical, lambda: 0, {})
    assert "^(logs-[a-z]+)$" in factory.source_topics()
    assert factory.task_id_of("logs-web", 2) == "0_2"
    assert factory.task_id_of("pat-by-key-repartition", 1) == "1_1"
    with pytest.raises(StreamsException):
        factory.task_id_of("logs-1", 0)
    plan = plan_internal_topics(topology, physical, {"logs-web": 2, "logs-db": 4, "other": 8})
    assert plan["pat-by-key-repartition"].partitions == 4  # the widest matching topic
    with pytest.raises(StreamsException, match="matches no topic yet"):
        plan_internal_topics(topology, physical, {"other": 8})
