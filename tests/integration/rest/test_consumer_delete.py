"""Deleting a consumer (v3 group consumer, v2 instance) frees its partitions at once: the other
member of the group gets all of them within a few seconds, far below the session timeout."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, ConsumerGroupDescription
from rest_media import V2, V2_BINARY

SESSION_MS = 60_000  # far above what the test allows the hand-over to take
HANDOVER_S = 8.0  # heartbeat 1 s + rebalance + fetch rounds on a loaded machine


def produce(bootstrap: str, topic: str, partitions: int) -> None:
    p = Producer({"bootstrap.servers": bootstrap})
    for i in range(partitions * 3):
        p.produce(topic, b"%d" % i, partition=i % partitions)
    assert p.flush(10) == 0


def members(admin: AdminClient, group: str) -> dict[str, set[int]]:
    description: ConsumerGroupDescription = admin.describe_consumer_groups([group])[group].result(10)
    return {
        m.group_instance_id or m.client_id: {tp.partition for tp in m.assignment.topic_partitions}
        for m in description.members
    }


def test_v3_delete_hands_partitions_over_at_once(
    http: httpx.Client,
    cluster_id: str,
    bootstrap: str,
    kafka_admin: AdminClient,
    make_topic: Callable[..., str],
) -> None:
    topic = make_topic(4)
    produce(bootstrap, topic, 4)
    group = f"rest-delete-{topic[-8:]}"
    g = f"/v3/clusters/{cluster_id}/consumer-groups/{group}"
    body = {
        "topics": [topic],
        "format": "STRING",
        "auto.offset.reset": "earliest",
        "session.timeout.ms": SESSION_MS,
    }
    cursors = {}
    seen: set[str] = set()
    for name in ("one", "two"):
        r = http.post(g + "/consumers", json={**body, "name": name})
        assert r.status_code == 201, r.text
        cursors[name] = r.json()["cursor"]
    # both consume until the group is balanced: two partitions each
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for name in ("one", "two"):
            r = http.get(g + "/records", params={"cursor": cursors[name], "timeout": 200})
            assert r.status_code == 200, r.text
            cursors[name] = r.json()["cursor"]
            seen |= {d["value"]["data"] for d in r.json()["data"]}
        owned = members(kafka_admin, group)
        if sorted(len(p) for p in owned.values()) == [2, 2] and set(owned) == {"one", "two"}:
            break
    else:
        raise AssertionError(f"the group never balanced: {members(kafka_admin, group)}")
    assert http.delete(g + "/consumers/two", params={"cursor": cursors["two"]}).status_code == 204
    deleted = time.monotonic()
    while True:
        r = http.get(g + "/records", params={"cursor": cursors["one"], "timeout": 200})
        assert r.status_code == 200, r.text
        cursors["one"] = r.json()["cursor"]
        seen |= {d["value"]["data"] for d in r.json()["data"]}
        if members(kafka_admin, group) == {"one": {0, 1, 2, 3}}:
            break
        assert time.monotonic() - deleted < HANDOVER_S, members(kafka_admin, group)
    # "one" goes on from what "two" acknowledged: nothing is lost
    deadline = time.monotonic() + 30
    while len(seen) < 12 and time.monotonic() < deadline:
        r = http.get(g + "/records", params={"cursor": cursors["one"], "timeout": 200})
        cursors["one"] = r.json()["cursor"]
        seen |= {d["value"]["data"] for d in r.json()["data"]}
    assert seen == {str(i) for i in range(12)}
    assert http.delete(g + "/consumers/one", params={"cursor": cursors["one"]}).status_code == 204
    deadline = time.monotonic() + HANDOVER_S
    while members(kafka_admin, group):
        assert time.monotonic() < deadline, members(kafka_admin, group)
        time.sleep(0.2)


def test_v2_delete_hands_partitions_over_at_once(
    http: httpx.Client, bootstrap: str, kafka_admin: AdminClient, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(4)
    produce(bootstrap, topic, 4)
    group = f"rest-v2-delete-{topic[-8:]}"
    urls = {}
    for name in ("one", "two"):
        r = http.post(
            f"/consumers/{group}",
            json={"name": name, "format": "binary", "auto.offset.reset": "earliest"},
            headers={"content-type": V2},
        )
        assert r.status_code == 200, r.text
        urls[name] = f"/consumers/{group}/instances/{name}"
        sub = http.post(urls[name] + "/subscription", json={"topics": [topic]}, headers={"content-type": V2})
        assert sub.status_code == 204

    def assigned(name: str) -> set[int]:
        r = http.get(urls[name] + "/assignments")
        assert r.status_code == 200, r.text
        return {p["partition"] for p in r.json()["partitions"]}

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for url in urls.values():
            assert http.get(url + "/records?timeout=200", headers={"accept": V2_BINARY}).status_code == 200
        if len(assigned("one")) == 2 and len(assigned("two")) == 2:
            break
    else:
        raise AssertionError("the group never balanced")
    assert http.delete(urls["two"]).status_code == 204
    deleted = time.monotonic()
    while assigned("one") != {0, 1, 2, 3}:
        assert time.monotonic() - deleted < HANDOVER_S, assigned("one")
        assert (
            http.get(urls["one"] + "/records?timeout=200", headers={"accept": V2_BINARY}).status_code == 200
        )
    assert len(members(kafka_admin, group)) == 1
    assert http.delete(urls["one"]).status_code == 204
