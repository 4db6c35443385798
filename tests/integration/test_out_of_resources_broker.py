"""A real broker that runs out of descriptors or disk space, or whose disk fails: the request that
meets it gets a Kafka error, the connection and the other partitions carry on, a metadata change is
whole or absent, and a restart comes back consistent. Each resource runs out for real: a low
RLIMIT_NOFILE, a small tmpfs, an ext4 on a loop device shut down under the broker."""

from __future__ import annotations

import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions, create_topics, describe_log_dirs, fetch, produce
from odradek.protocol.messages import metadata as metadata_msg
from odradek.protocol.records import build_batch
from odradek.testing.broker_process import BrokerProcess
from odradek.testing.filesystems import MountUnavailable, failing_ext4, small_tmpfs
from odradek.testing.raw_client import RawClient

STORAGE = ErrorCode.KAFKA_STORAGE_ERROR


def create(client: RawClient, name: str, partitions: int) -> tuple[int, str | None]:
    topic = create_topics.CreatableTopic(name=name, num_partitions=partitions, replication_factor=1)
    response = client.call(ApiKey.CREATE_TOPICS, 7, create_topics.CreateTopicsRequest(topics=[topic]))
    (result,) = response.topics
    return result.error_code, result.error_message


def produce_each(
    client: RawClient, partitions: dict[str, int], value: bytes = b"v"
) -> dict[tuple[str, int], int]:
    """One batch to each partition in one request; the error code of each."""
    batch = build_batch([(b"k", value, [], 1_700_000_000_000)])
    request = produce.ProduceRequest(
        acks=-1,
        timeout_ms=30_000,
        topic_data=[
            produce.TopicProduceData(
                name=topic,
                partition_data=[produce.PartitionProduceData(index=i, records=batch) for i in range(count)],
            )
            for topic, count in partitions.items()
        ],
    )
    response = client.call(ApiKey.PRODUCE, 9, request)
    return {(t.name, p.index): p.error_code for t in response.responses for p in t.partition_responses}


def fetch_each(client: RawClient, partitions: dict[str, int]) -> dict[tuple[str, int], tuple[int, int]]:
    """(error code, bytes of records) of each partition from offset 0."""
    request = fetch.FetchRequest(
        max_wait_ms=0,
        max_bytes=64 << 20,
        topics=[
            fetch.FetchTopic(
                topic=topic,
                partitions=[
                    fetch.FetchPartition(partition=i, partition_max_bytes=1 << 20) for i in range(count)
                ],
            )
            for topic, count in partitions.items()
        ],
    )
    response = client.call(ApiKey.FETCH, 11, request)
    return {
        (t.topic, p.partition_index): (p.error_code, len(p.records or b""))
        for t in response.responses
        for p in t.partitions
    }


def topic_partitions(client: RawClient, name: str) -> list[int] | int:
    """The partition indexes of `name`, or its error code."""
    request = metadata_msg.MetadataRequest(
        topics=[metadata_msg.MetadataRequestTopic(name=name)], allow_auto_topic_creation=False
    )
    (topic,) = client.call(ApiKey.METADATA, 12, request).topics
    return topic.error_code or sorted(p.partition_index for p in topic.partitions)


def still_answers(client: RawClient) -> bool:
    hello = api_versions.ApiVersionsRequest(client_software_name="tests", client_software_version="1")
    response = client.call(ApiKey.API_VERSIONS, 3, hello)
    assert response.error_code == 0, response
    return True


def test_a_broker_limited_to_256_descriptors_holds_a_thousand_partitions(tmp_path: Path) -> None:
    broker = BrokerProcess(tmp_path / "data", limits={resource.RLIMIT_NOFILE: 256}).start()
    topics = {f"many-{i}": 250 for i in range(4)}
    try:
        with RawClient.connect(broker.bootstrap, timeout=120) as client:
            for name, count in topics.items():
                assert create(client, name, count) == (0, None)
            assert set(produce_each(client, topics).values()) == {0}
            assert broker.open_files() <= 128 + 40  # the segment files the cache keeps, and the rest
            fetched = fetch_each(client, topics)
            assert len(fetched) == 1000 and all(e == 0 and n > 0 for e, n in fetched.values())
        broker.restart()  # clean: started from the clean-shutdown state
        with RawClient.connect(broker.bootstrap, timeout=120) as client:
            assert set(produce_each(client, topics, b"w").values()) == {0}
        broker.restart(kill=True)  # every partition recovered, with 256 descriptors
        with RawClient.connect(broker.bootstrap, timeout=120) as client:
            fetched = fetch_each(client, topics)
            assert all(e == 0 and n > 0 for e, n in fetched.values())
            assert set(produce_each(client, topics).values()) == {0}
            assert broker.open_files() <= 128 + 40
    finally:
        broker.kill()


def test_out_of_descriptors_a_create_fails_whole_and_the_connection_stays(tmp_path: Path) -> None:
    data = tmp_path / "data"
    broker = BrokerProcess(data, limits={resource.RLIMIT_NOFILE: 64}).start()
    hogs: list[socket.socket] = []
    try:
        with RawClient.connect(broker.bootstrap, timeout=60) as client:
            deadline = time.monotonic() + 20
            while broker.open_files() < 64 and time.monotonic() < deadline:  # take every descriptor
                hogs.append(socket.create_connection(("127.0.0.1", broker.port)))
                time.sleep(0.01)
            assert broker.open_files() == 64
            code, message = create(client, "starved", 10)
            assert code == STORAGE and message and "Too many open files" in message
            assert still_answers(client)
            assert topic_partitions(client, "starved") == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            assert not [p for p in data.iterdir() if p.name.startswith("starved")]  # no half-made topic
            for hog in hogs:
                hog.close()
            hogs.clear()
            time.sleep(0.5)
            assert create(client, "starved", 10) == (0, None)
            assert set(produce_each(client, {"starved": 10}).values()) == {0}
        broker.restart(kill=True)
        with RawClient.connect(broker.bootstrap, timeout=60) as client:
            assert topic_partitions(client, "starved") == list(range(10))
            assert all(e == 0 and n > 0 for e, n in fetch_each(client, {"starved": 10}).values())
    finally:
        for hog in hogs:
            hog.close()
        broker.kill()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    try:
        with small_tmpfs(tmp_path / "small", 3 << 20) as directory:
            yield directory
    except MountUnavailable as exc:
        pytest.skip(str(exc))


def test_a_full_disk_fails_produce_and_create_and_keeps_what_was_written(small_disk: Path) -> None:
    broker = BrokerProcess(small_disk).start()
    try:
        with RawClient.connect(broker.bootstrap, timeout=60) as client:
            assert create(client, "filling", 1) == (0, None)
            codes = []
            for _ in range(100):
                codes.append(produce_each(client, {"filling": 1}, b"x" * 200_000)[("filling", 0)])
                if codes[-1] != 0:
                    break
            assert codes[-1] == STORAGE and set(codes[:-1]) == {0}
            assert still_answers(client)
            written = fetch_each(client, {"filling": 1})[("filling", 0)]
            assert written[0] == 0 and written[1] > 0
            code, _ = create(client, "wide", 200)
            assert code == STORAGE
            assert topic_partitions(client, "wide") == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        broker.restart(kill=True)
        with RawClient.connect(broker.bootstrap, timeout=60) as client:
            assert topic_partitions(client, "wide") == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            assert fetch_each(client, {"filling": 1})[("filling", 0)][1] >= written[1]
    finally:
        broker.kill()


def test_a_failing_disk_goes_offline_and_the_other_directory_keeps_working(tmp_path: Path) -> None:
    try:
        with failing_ext4(tmp_path / "disk") as disk:
            healthy = tmp_path / "healthy"
            dirs = f"{healthy},{disk.directory}"  # metadata lives in the first
            broker = BrokerProcess(healthy, {"log.dirs": dirs}).start()
            try:
                with RawClient.connect(broker.bootstrap, timeout=60) as client:
                    assert create(client, "spread", 4) == (0, None)
                    assert set(produce_each(client, {"spread": 4}).values()) == {0}
                    on_disk = {int(p.name.rsplit("-", 1)[1]) for p in disk.directory.glob("spread-*")}
                    assert len(on_disk) == 2
                    disk.fail()
                    codes = produce_each(client, {"spread": 4})
                    assert {i for (_, i), c in codes.items() if c == STORAGE} == on_disk
                    assert {i for (_, i), c in codes.items() if c == 0} == {0, 1, 2, 3} - on_disk
                    fetched = fetch_each(client, {"spread": 4})
                    assert {i for (_, i), (c, _) in fetched.items() if c == STORAGE} == on_disk
                    dirs_answer = client.call(
                        ApiKey.DESCRIBE_LOG_DIRS, 4, describe_log_dirs.DescribeLogDirsRequest(topics=None)
                    )
                    errors = {Path(r.log_dir).name: r.error_code for r in dirs_answer.results}
                    assert errors == {"healthy": 0, "disk": STORAGE}
                    request = metadata_msg.MetadataRequest(
                        topics=[metadata_msg.MetadataRequestTopic(name="spread")]
                    )
                    (topic,) = client.call(ApiKey.METADATA, 12, request).topics
                    assert {p.partition_index for p in topic.partitions if p.error_code == STORAGE} == on_disk
                    assert still_answers(client)
                broker.restart()  # the failed directory is offline from the start
                with RawClient.connect(broker.bootstrap, timeout=60) as client:
                    codes = produce_each(client, {"spread": 4})
                    assert {i for (_, i), c in codes.items() if c == 0} == {0, 1, 2, 3} - on_disk, (
                        codes,
                        broker.lines[-30:],
                    )
                    assert not list(healthy.glob("spread-*")) or len(list(healthy.glob("spread-*"))) == 2
            finally:
                broker.kill()
    except MountUnavailable as exc:
        pytest.skip(str(exc))
