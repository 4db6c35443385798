"""v2 metadata and produce over HTTP (httpx), read back with confluent-kafka byte for byte."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
from confluent_kafka import Consumer, TopicPartition
from rest_media import V2, V2_BINARY, V2_JSON


def read_all(bootstrap: str, topic: str, partition: int, count: int) -> list:  # type: ignore[type-arg]
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "rest-test-reader", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, partition, 0)])
    out = []
    try:
        while len(out) < count:
            msg = consumer.poll(10)
            assert msg is not None, f"only {len(out)} of {count} records"
            assert msg.error() is None
            out.append(msg)
    finally:
        consumer.close()
    return out


def test_topics_partitions_offsets_brokers(http: httpx.Client, make_topic: Callable[..., str]) -> None:
    topic = make_topic(2, retention_ms="123456")
    r = http.get("/topics")
    assert r.status_code == 200 and r.headers["content-type"] == V2
    assert topic in r.json() and "__consumer_offsets" not in r.json()
    r = http.get(f"/topics/{topic}")
    body = r.json()
    assert body["name"] == topic and body["configs"]["retention.ms"] == "123456"
    assert [p["partition"] for p in body["partitions"]] == [0, 1]
    assert body["partitions"][0]["replicas"] == [{"broker": 1, "leader": True, "in_sync": True}]
    assert http.get(f"/topics/{topic}/partitions").json() == body["partitions"]
    assert http.get(f"/topics/{topic}/partitions/1").json() == body["partitions"][1]
    assert http.get(f"/topics/{topic}/partitions/1/offsets").json() == {
        "beginning_offset": 0,
        "end_offset": 0,
    }
    assert http.get("/brokers").json() == {"brokers": [1]}


def test_unknown_topic_and_partition(http: httpx.Client, make_topic: Callable[..., str]) -> None:
    topic = make_topic(1)
    for path in ("/topics/no-such-topic", "/topics/no-such-topic/partitions"):
        r = http.get(path)
        assert r.status_code == 404 and r.json()["error_code"] == 40401
    r = http.get(f"/topics/{topic}/partitions/5")
    assert r.status_code == 404 and r.json()["error_code"] == 40402
    r = http.post(
        "/topics/no-such-topic",
        content=b'{"records":[{"value":"eA=="}]}',
        headers={"content-type": V2_BINARY},
    )
    assert r.status_code == 404 and r.json()["error_code"] == 40401
    r = http.post(
        f"/topics/{topic}/partitions/3",
        content=b'{"records":[{"value":"eA=="}]}',
        headers={"content-type": V2_BINARY},
    )
    assert r.status_code == 404 and r.json()["error_code"] == 40402


def test_binary_produce_with_headers_and_timestamps(
    http: httpx.Client, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(2)
    payload = bytes(range(256))
    records = [
        {
            "key": base64.b64encode(b"k1").decode(),
            "value": base64.b64encode(payload).decode(),
            "partition": 1,
            "headers": [
                {"key": "h1", "value": base64.b64encode(b"\x00\xff").decode()},
                {"name": "h2", "value": None},
            ],
            "timestamp": 1_700_000_000_123,
        },
        {"key": None, "value": "", "partition": 1, "timestamp": "2024-01-02T03:04:05.678Z"},
        {"key": "", "value": None, "partition": 1},
    ]
    r = http.post(f"/topics/{topic}", json={"records": records}, headers={"content-type": V2_BINARY})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == V2
    assert r.json() == {
        "offsets": [{"partition": 1, "offset": i, "error_code": None, "error": None} for i in range(3)],
        "key_schema_id": None,
        "value_schema_id": None,
    }
    first, second, third = read_all(bootstrap, topic, 1, 3)
    assert (first.key(), first.value()) == (b"k1", payload)
    assert first.headers() == [("h1", b"\x00\xff"), ("h2", None)]
    assert first.timestamp() == (1, 1_700_000_000_123)
    assert (second.key(), second.value(), second.timestamp()[1]) == (None, b"", 1_704_164_645_678)
    assert (third.key(), third.value()) == (b"", None)


def test_json_produce_to_a_partition(
    http: httpx.Client, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(2)
    records = [
        {"key": "user-1", "value": {"n": 1, "big": 2**70, "s": "é"}},
        {"value": [1, None]},
        {"value": None},
    ]
    r = http.post(
        f"/topics/{topic}/partitions/1", json={"records": records}, headers={"content-type": V2_JSON}
    )
    assert r.status_code == 200, r.text
    assert [o["offset"] for o in r.json()["offsets"]] == [0, 1, 2]
    msgs = read_all(bootstrap, topic, 1, 3)
    assert msgs[0].key() == b'"user-1"'
    assert msgs[0].value() == f'{{"n":1,"big":{2**70},"s":"é"}}'.encode()
    assert msgs[1].value() == b"[1,null]" and msgs[2].value() is None


def test_one_bad_record_does_not_fail_the_others(
    http: httpx.Client, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1, max_message_bytes="2000")
    big = base64.b64encode(b"x" * 5000).decode()
    records = [{"value": "YQ=="}, {"value": big}, {"value": "Yg=="}, {"value": "Yw==", "partition": 9}]
    r = http.post(f"/topics/{topic}", json={"records": records}, headers={"content-type": V2_BINARY})
    assert r.status_code == 200
    offsets = r.json()["offsets"]
    assert offsets[0] == {"partition": 0, "offset": 0, "error_code": None, "error": None}
    assert offsets[1]["error_code"] == 50002 and "MSG_SIZE_TOO_LARGE (10)" in offsets[1]["error"]
    assert offsets[1]["offset"] is None
    assert offsets[2] == {"partition": 0, "offset": 1, "error_code": None, "error": None}
    assert offsets[3]["error_code"] == 40402
    assert [m.value() for m in read_all(bootstrap, topic, 0, 2)] == [b"a", b"b"]


def test_bad_bodies(http: httpx.Client, make_topic: Callable[..., str]) -> None:
    topic = make_topic(1)
    url = f"/topics/{topic}"
    cases = [
        ({"content-type": "text/plain"}, b'{"records":[]}', 415, 415, None),
        ({"content-type": "application/json"}, b'{"records":[]}', 415, 415, None),
        ({"content-type": "application/vnd.kafka.xml.v2+json"}, b"{}", 415, 415, None),
        ({"content-type": V2_BINARY}, b"{not json", 422, 42206, ""),
        ({"content-type": V2_BINARY}, b"", 422, 42206, ""),
        ({"content-type": V2_BINARY}, b'{"records": 3}', 422, 42206, "/records"),
        ({"content-type": V2_BINARY}, b'{"records": [{"value": "%%%"}]}', 422, 42206, "/records/0/value"),
        (
            {"content-type": V2_BINARY},
            b'{"records": [{"value": "YQ==", "partition": "x"}]}',
            422,
            42206,
            "/records/0/partition",
        ),
        (
            {"content-type": V2_BINARY},
            b'{"records": [{"value": "YQ==", "headers": [{"value": "YQ=="}]}]}',
            422,
            42206,
            "/records/0/headers/0/name",
        ),
        (
            {"content-type": V2_BINARY},
            b'{"records": [{"value": "YQ==", "timestamp": "yesterday"}]}',
            422,
            42206,
            "/records/0/timestamp",
        ),
        (
            {"content-type": V2_BINARY},
            b'{"records": [{"value": "YQ==", "timestamp": -5}]}',
            422,
            42206,
            "/records/0/timestamp",
        ),
        ({"content-type": V2_JSON}, b'{"records": [7]}', 422, 42206, "/records/0"),
    ]
    for headers, body, status, code, pointer in cases:
        r = http.post(url, content=body, headers=headers)
        assert (r.status_code, r.json()["error_code"]) == (status, code), (headers, body, r.text)
        if pointer is not None:
            assert r.json()["pointer"] == pointer, r.text
    # nothing was written by any of them
    assert http.get(f"/topics/{topic}/partitions/0/offsets").json()["end_offset"] == 0


def test_oversized_body_is_refused_before_it_is_read(
    http: httpx.Client, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    body = b'{"records":[{"value":"' + b"A" * 1_200_000 + b'"}]}'
    r = http.post(f"/topics/{topic}", content=body, headers={"content-type": V2_BINARY})
    assert r.status_code == 413 and r.json()["error_code"] == 413

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"A" * 65536

    r = http.post(f"/topics/{topic}", content=chunks(), headers={"content-type": V2_BINARY})
    assert r.status_code == 413
    assert http.get("/brokers").status_code == 200  # the proxy is still up
