"""v3 admin resources over HTTP: clusters, brokers, configs, topics, partitions, groups and lags."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from confluent_kafka import Consumer, Producer, TopicPartition

J = {"content-type": "application/json"}


def test_cluster_and_brokers(http: httpx.Client, cluster_id: str) -> None:
    c = f"/v3/clusters/{cluster_id}"
    cluster = http.get(c).json()
    assert cluster["kind"] == "KafkaCluster" and cluster["metadata"]["self"].endswith(c)
    assert cluster["metadata"]["resource_name"] == f"crn:///kafka={cluster_id}"
    assert cluster["brokers"]["related"].endswith(c + "/brokers")
    brokers = http.get(c + "/brokers").json()
    assert brokers["kind"] == "KafkaBrokerList"
    (broker,) = brokers["data"]
    assert broker["broker_id"] == 1 and broker["host"] == "127.0.0.1" and broker["port"] > 0
    assert http.get(c + "/brokers/1").json() == broker
    assert http.get(c + "/brokers/7").status_code == 404
    r = http.get("/v3/clusters/not-this-one/topics")
    assert r.status_code == 404 and r.json()["error_code"] == 404


def test_topic_lifecycle_and_configs(http: httpx.Client, cluster_id: str) -> None:
    c = f"/v3/clusters/{cluster_id}"
    body = {
        "topic_name": "rest-v3-admin",
        "partitions_count": 2,
        "configs": [{"name": "retention.ms", "value": "99999"}],
    }
    r = http.post(c + "/topics", json=body)
    assert r.status_code == 201, r.text
    topic = r.json()
    assert (topic["kind"], topic["partitions_count"], topic["replication_factor"]) == ("KafkaTopic", 2, 1)
    r = http.post(c + "/topics", json=body)
    assert r.status_code == 400 and r.json()["error_code"] == 40002
    assert any(t["topic_name"] == "rest-v3-admin" for t in http.get(c + "/topics").json()["data"])
    t = c + "/topics/rest-v3-admin"
    assert http.get(t).json()["partitions_count"] == 2
    cfg = http.get(t + "/configs/retention.ms").json()
    assert (
        cfg["kind"] == "KafkaTopicConfig"
        and cfg["value"] == "99999"
        and cfg["source"] == "DYNAMIC_TOPIC_CONFIG"
    )
    assert cfg["is_default"] is False and isinstance(cfg["synonyms"], list)
    assert http.put(t + "/configs/retention.ms", json={"value": "5000"}).status_code == 204
    assert http.get(t + "/configs/retention.ms").json()["value"] == "5000"
    r = http.post(
        t + "/configs:alter",
        json={
            "data": [
                {"name": "cleanup.policy", "value": "compact"},
                {"name": "retention.ms", "operation": "DELETE"},
            ]
        },
    )
    assert r.status_code == 204, r.text
    configs = {e["name"]: e for e in http.get(t + "/configs").json()["data"]}
    assert configs["cleanup.policy"]["value"] == "compact" and configs["retention.ms"]["is_default"] is True
    assert http.delete(t + "/configs/cleanup.policy").status_code == 204
    r = http.put(t + "/configs/retention.ms", json={"value": "soon"})
    assert r.status_code == 400, r.text
    assert http.get(t + "/configs/no.such.config").status_code == 404
    assert any(e["topic_name"] == "rest-v3-admin" for e in http.get(c + "/topics/-/configs").json()["data"])
    # partitions, replicas, offsets
    parts = http.get(t + "/partitions").json()["data"]
    assert [p["partition_id"] for p in parts] == [0, 1]
    assert http.get(t + "/partitions/1").json()["leader"]["related"].endswith("/partitions/1/replicas/1")
    (replica,) = http.get(t + "/partitions/1/replicas").json()["data"]
    assert replica["is_leader"] and replica["is_in_sync"] and replica["broker_id"] == 1
    assert http.get(t + "/partitions/1/replicas/1").json() == replica
    assert http.get(t + "/partitions/1/offset").json()["latest_offset"] == 0
    assert http.get(t + "/partitions/9").status_code == 404
    hosted = http.get(c + "/brokers/1/partition-replicas").json()
    assert hosted["kind"] == "KafkaReplicaList"
    assert {(x["topic_name"], x["partition_id"]) for x in hosted["data"]} >= {
        ("rest-v3-admin", 0),
        ("rest-v3-admin", 1),
    }
    assert http.get(c + "/brokers/9/partition-replicas").status_code == 404
    # more partitions, then delete
    r = http.patch(t, json={"partitions_count": 3})
    assert r.status_code == 200 and r.json()["partitions_count"] == 3
    r = http.patch(t, json={"partitions_count": 1})
    assert r.status_code == 400
    assert http.delete(t).status_code == 204
    r = http.get(t)
    assert r.status_code == 404 and r.json()["error_code"] == 40401
    assert http.delete(t).status_code == 404


def test_topic_create_bad_input(http: httpx.Client, cluster_id: str) -> None:
    c = f"/v3/clusters/{cluster_id}"
    cases = [
        (b"{", 422),
        (b'{"partitions_count": 1}', 422),
        (b'{"topic_name": "x", "partitions_count": "many"}', 422),
        (b'{"topic_name": "bad name!", "partitions_count": 1}', 400),
        (b'{"topic_name": "rest-x", "partitions_count": 1, "replication_factor": 3}', 400),
    ]
    for body, status in cases:
        r = http.post(c + "/topics", content=body, headers=J)
        assert r.status_code == status, (body, r.text)
    assert http.post(c + "/topics", content=b"{}", headers={"content-type": "text/xml"}).status_code == 415


def test_broker_configs(http: httpx.Client, cluster_id: str) -> None:
    c = f"/v3/clusters/{cluster_id}"
    configs = http.get(c + "/brokers/1/configs").json()
    assert configs["kind"] == "KafkaBrokerConfigList"
    names = {e["name"] for e in configs["data"]}
    assert "log.retention.hours" in names or "log.retention.ms" in names
    one = http.get(c + "/brokers/1/configs/num.partitions").json()
    assert one["broker_id"] == 1 and one["kind"] == "KafkaBrokerConfig"
    assert http.get(c + "/broker-configs").json()["kind"] == "KafkaClusterConfigList"
    # cluster-wide defaults: set, read back (a DYNAMIC_DEFAULT_BROKER_CONFIG), reset, bad values
    default = c + "/broker-configs/log.cleaner.backoff.ms"
    assert http.put(default, json={"value": "17000"}).status_code == 204
    one = http.get(default).json()
    assert (one["kind"], one["value"], one["source"]) == (
        "KafkaClusterConfig",
        "17000",
        "DYNAMIC_DEFAULT_BROKER_CONFIG",
    )
    assert http.get(c + "/brokers/1/configs/log.cleaner.backoff.ms").json()["value"] == "17000"
    alter = {"data": [{"name": "log.cleaner.backoff.ms", "operation": "DELETE"}]}
    assert http.post(c + "/broker-configs:alter", json=alter).status_code == 204
    assert http.get(default).status_code == 404
    r = http.put(default, json={"value": "not a number"})
    assert r.status_code == 400 and r.json()["error_code"] == 40002, r.text
    assert http.get(default).status_code == 404
    assert (
        http.put(c + "/brokers/1/configs/log.cleaner.backoff.ms", json={"value": "16000"}).status_code == 204
    )
    assert http.get(c + "/brokers/1/configs/log.cleaner.backoff.ms").json()["value"] == "16000"
    assert http.delete(c + "/brokers/1/configs/log.cleaner.backoff.ms").status_code == 204
    assert (
        http.post(
            c + "/brokers/1/configs:alter",
            json={"data": [{"name": "log.cleaner.backoff.ms", "value": "15000"}], "validate_only": True},
        ).status_code
        == 204
    )
    assert http.get(c + "/brokers/-/configs").json()["data"]


def test_consumer_groups_and_lags(
    http: httpx.Client, cluster_id: str, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(2)
    p = Producer({"bootstrap.servers": bootstrap})
    for i in range(10):
        p.produce(topic, b"v", partition=i % 2)
    p.flush(10)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "rest-lag-group",
            "client.id": "lagger",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe([topic])
        while not consumer.assignment():
            consumer.poll(0.2)
        consumer.commit(
            offsets=[TopicPartition(topic, 0, 2), TopicPartition(topic, 1, 5)], asynchronous=False
        )
        g = f"/v3/clusters/{cluster_id}/consumer-groups/rest-lag-group"
        group = http.get(g).json()
        assert (
            group["kind"] == "KafkaConsumerGroup"
            and group["state"] == "STABLE"
            and group["is_simple"] is False
        )
        assert any(
            x["consumer_group_id"] == "rest-lag-group"
            for x in http.get(f"/v3/clusters/{cluster_id}/consumer-groups").json()["data"]
        )
        (member,) = http.get(g + "/consumers").json()["data"]
        assert member["client_id"] == "lagger"
        assert http.get(g + "/consumers/" + member["consumer_id"]).json() == member
        assigned = http.get(g + "/consumers/" + member["consumer_id"] + "/assignments").json()["data"]
        assert sorted((a["topic_name"], a["partition_id"]) for a in assigned) == [(topic, 0), (topic, 1)]
        lags = {x["partition_id"]: x for x in http.get(g + "/lags").json()["data"]}
        assert (lags[0]["current_offset"], lags[0]["log_end_offset"], lags[0]["lag"]) == (2, 5, 3)
        assert lags[1]["lag"] == 0 and lags[0]["consumer_id"] == member["consumer_id"]
        assert http.get(g + f"/lags/{topic}/partitions/0").json()["lag"] == 3
        summary = http.get(g + "/lag-summary").json()
        assert (summary["max_lag"], summary["total_lag"], summary["max_lag_partition_id"]) == (3, 3, 0)
    finally:
        consumer.close()
    r = http.get(f"/v3/clusters/{cluster_id}/consumer-groups/no-such-group")
    assert r.status_code == 404
