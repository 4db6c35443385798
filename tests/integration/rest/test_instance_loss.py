"""Two proxy instances, one consumer: kill the instance serving it, go on through the other.

The consumer's cursor is all the state a client holds; its group membership (a static member) and
committed offsets are in Kafka. After ``kill -9`` of the first instance the second accepts the same
cursor, takes the member's place at once and continues where the cursor says: no record lost,
none skipped, and (since the client had every answer it asked for) none duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from confluent_kafka import Producer

from odradek.testing.service_process import rest_proxy


def test_consumer_survives_the_loss_of_its_proxy(bootstrap: str, make_topic: Callable[..., str]) -> None:
    topic = make_topic(2)
    p = Producer({"bootstrap.servers": bootstrap})
    for i in range(40):
        p.produce(topic, b"%d" % i, partition=i % 2)
    p.flush(10)
    with rest_proxy(bootstrap) as a, rest_proxy(bootstrap) as b:
        cluster = httpx.get(a.url + "/v3/clusters").json()["data"][0]["cluster_id"]
        group = f"/v3/clusters/{cluster}/consumer-groups/rest-failover"
        r = httpx.post(
            a.url + group + "/consumers",
            json={"topics": [topic], "format": "STRING", "auto.offset.reset": "earliest"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        cursor = r.json()["cursor"]
        seen: list[int] = []
        while len(seen) < 10:
            r = httpx.get(
                a.url + group + "/records",
                params={"cursor": cursor, "max_records": 10 - len(seen), "timeout": 1000},
                timeout=30,
            )
            assert r.status_code == 200, r.text
            seen += [int(d["value"]["data"]) for d in r.json()["data"]]
            cursor = r.json()["cursor"]
        a.kill()
        started = time.monotonic()
        while len(seen) < 40 and time.monotonic() - started < 60:
            r = httpx.get(b.url + group + "/records", params={"cursor": cursor, "timeout": 1000}, timeout=30)
            assert r.status_code == 200, r.text
            seen += [int(d["value"]["data"]) for d in r.json()["data"]]
            cursor = r.json()["cursor"]
        assert sorted(seen) == list(range(40)), "lost or duplicated records"
        for partition in (0, 1):
            in_partition = [v for v in seen if v % 2 == partition]
            assert in_partition == sorted(in_partition), "out of order within a partition"
        # the cursor was acknowledged through instance b: the group's offsets are at the end
        httpx.get(b.url + group + "/records", params={"cursor": cursor, "timeout": 0}, timeout=30)
        lags = httpx.get(b.url + group + "/lags", timeout=30).json()["data"]
        assert {x["partition_id"]: x["current_offset"] for x in lags} == {0: 20, 1: 20}
