"""v3 produce (one record, streaming, batch) and consume (offset fetch, group cursor, SSE, NDJSON),
checked byte for byte against confluent-kafka and kcat."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable

import httpx
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from odradek.rest.consumers.cursor import decode

J = {"content-type": "application/json"}


def read(bootstrap: str, topic: str, partition: int, count: int) -> list:  # type: ignore[type-arg]
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "rest-v3-reader", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, partition, 0)])
    out = []
    try:
        while len(out) < count:
            msg = consumer.poll(10)
            assert msg is not None and msg.error() is None
            out.append(msg)
    finally:
        consumer.close()
    return out


def test_produce_one_record_every_type(
    http: httpx.Client, cluster_id: str, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(2)
    url = f"/v3/clusters/{cluster_id}/topics/{topic}/records"
    records = [
        {
            "partition_id": 1,
            "key": {"type": "STRING", "data": "k"},
            "value": {"type": "JSON", "data": {"a": [1, 2]}},
            "headers": [{"name": "h", "value": base64.b64encode(b"\x01").decode()}],
            "timestamp": "2025-05-05T05:05:05.555Z",
        },
        {
            "partition_id": 1,
            "key": {"type": "BINARY", "data": ""},
            "value": {"type": "BINARY", "data": base64.b64encode(bytes(range(256))).decode()},
        },
        {"partition_id": 1, "value": None},
        {"partition_id": 1, "value": {"type": "JSON", "data": None}},
    ]
    reports = []
    for record in records:
        r = http.post(url, json=record)
        assert r.status_code == 200, r.text
        reports.append(r.json())
    assert reports[0]["error_code"] == 200 and reports[0]["cluster_id"] == cluster_id
    assert (reports[0]["topic_name"], reports[0]["partition_id"], reports[0]["offset"]) == (topic, 1, 0)
    assert reports[0]["timestamp"] == "2025-05-05T05:05:05.555Z"
    assert reports[0]["key"] == {"type": "STRING", "size": 1} and reports[0]["value"] == {
        "type": "JSON",
        "size": 11,
    }
    assert reports[2]["value"] is None
    msgs = read(bootstrap, topic, 1, 4)
    assert (msgs[0].key(), msgs[0].value(), msgs[0].headers()) == (b"k", b'{"a":[1,2]}', [("h", b"\x01")])
    assert msgs[0].timestamp()[1] == 1746421505555
    assert (msgs[1].key(), msgs[1].value()) == (b"", bytes(range(256)))
    assert (msgs[2].key(), msgs[2].value()) == (None, None)
    assert msgs[3].value() == b"null"
    if shutil.which("kcat"):
        out = subprocess.run(
            [
                "kcat",
                "-b",
                bootstrap,
                "-C",
                "-t",
                topic,
                "-p",
                "1",
                "-o",
                "0",
                "-c",
                "1",
                "-e",
                "-f",
                "%k|%s|%h|%T",
            ],
            capture_output=True,
            timeout=30,
            check=True,
        ).stdout
        assert out == b'k|{"a":[1,2]}|h=\x01|1746421505555'


def test_record_errors_and_bad_bodies(
    http: httpx.Client, cluster_id: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1, max_message_bytes="1000")
    url = f"/v3/clusters/{cluster_id}/topics/{topic}/records"
    big = base64.b64encode(b"x" * 3000).decode()
    cases = [
        ({"value": {"type": "BINARY", "data": big}}, 500, 50002),
        ({"partition_id": 4, "value": {"type": "STRING", "data": "x"}}, 404, 40402),
        ({"value": {"type": "BINARY", "data": "@@"}}, 422, 42206),
        ({"value": {"type": "XML", "data": "x"}}, 422, 42206),
        ({"value": {"data": "x"}}, 422, 42206),
        ({"value": {"type": "AVRO", "data": {}}}, 422, 42205),
        ({"value": {"type": "STRING", "data": 5}}, 422, 42206),
        ({"timestamp": "not a time", "value": None}, 422, 42206),
    ]
    for body, status, code in cases:
        r = http.post(url, json=body)
        assert (r.status_code, r.json()["error_code"]) == (status, code), (body, r.text)
    assert http.post(url, content=b"{", headers=J).json()["error_code"] == 42206
    assert http.post(url, content=b"{}", headers={"content-type": "text/plain"}).status_code == 415
    r = http.post(f"/v3/clusters/{cluster_id}/topics/no-such-topic/records", json={"value": None})
    assert r.status_code == 404 and r.json()["error_code"] == 40401
    offsets = http.get(f"/v3/clusters/{cluster_id}/topics/{topic}/partitions/0/offset").json()
    assert offsets["latest_offset"] == 0


def test_streaming_produce_reports_in_order(
    http: httpx.Client, cluster_id: str, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(3)
    url = f"/v3/clusters/{cluster_id}/topics/{topic}/records"

    def body():  # type: ignore[no-untyped-def]
        for i in range(300):
            if i == 100:
                # a bad record: an error report, and the stream goes on
                yield b'{"value": {"type": "BINARY", "data": "!!"}}\n'
            elif i == 200:
                yield b"{not json}\n"
            else:
                yield (
                    json.dumps({"partition_id": i % 3, "value": {"type": "STRING", "data": f"r{i}"}}).encode()
                    + b"\n"
                )

    with http.stream("POST", url, content=body(), headers=J) as r:
        assert r.status_code == 200
        reports = [json.loads(line) for line in r.iter_lines() if line.strip()]
    assert len(reports) == 300
    assert reports[100]["error_code"] == 42206 and reports[100]["pointer"] == "/value/data"
    assert reports[200]["error_code"] == 42206
    good = [r for i, r in enumerate(reports) if i not in (100, 200)]
    assert all(r["error_code"] == 200 for r in good)
    for p in range(3):
        offsets = [r["offset"] for r in good if r["partition_id"] == p]
        assert offsets == list(range(len(offsets)))
    values = [m.value() for m in read(bootstrap, topic, 0, 99)]
    assert values == [f"r{i}".encode() for i in range(0, 300, 3) if i not in (100, 200)][:99]


def test_batch_produce(http: httpx.Client, cluster_id: str, make_topic: Callable[..., str]) -> None:
    topic = make_topic(1)
    url = f"/v3/clusters/{cluster_id}/topics/{topic}/records:batch"
    entries = [
        {"id": "a", "value": {"type": "STRING", "data": "1"}},
        {"id": "b", "value": {"type": "BINARY", "data": "??"}},
        {"id": "c", "partition_id": 0, "value": {"type": "JSON", "data": 3}},
    ]
    r = http.post(url, json={"entries": entries})
    assert r.status_code == 207
    body = r.json()
    assert [s["id"] for s in body["successes"]] == ["a", "c"] and [
        s["offset"] for s in body["successes"]
    ] == [0, 1]
    assert body["failures"] == [
        {
            "id": "b",
            "error_code": 42206,
            "message": body["failures"][0]["message"],
            "pointer": "/entries/1/value/data",
        }
    ]
    for bad in ({"entries": []}, {"entries": [{"id": "x"}, {"id": "x"}]}, {"entries": [{"value": None}]}):
        r = http.post(url, json=bad)
        assert r.status_code == 400 and r.json()["error_code"] == 42208


def test_offset_addressed_fetch(
    http: httpx.Client, cluster_id: str, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    p = Producer({"bootstrap.servers": bootstrap})
    for i in range(5):
        p.produce(
            topic, b"v%d" % i, key=None if i % 2 else b"k", headers=[("i", b"%d" % i)], timestamp=10_000 + i
        )
    p.flush(10)
    url = f"/v3/clusters/{cluster_id}/topics/{topic}/partitions/0/records"
    r = http.get(url, params={"offset": 2, "format": "STRING"})
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "KafkaRecordList" and body["next_offset"] == 5
    first = body["data"][0]
    assert (first["offset"], first["key"], first["value"]) == (
        2,
        {"type": "STRING", "data": "k"},
        {"type": "STRING", "data": "v2"},
    )
    assert first["timestamp"] == "1970-01-01T00:00:10.002Z" and first["timestamp_type"] == "CREATE_TIME"
    assert first["headers"] == [{"name": "i", "value": base64.b64encode(b"2").decode()}]
    assert body["data"][1]["key"] is None
    r = http.get(url, params={"offset": 0, "max_records": 2})
    assert [d["offset"] for d in r.json()["data"]] == [0, 1] and r.json()["next_offset"] == 2
    assert base64.b64decode(r.json()["data"][0]["value"]["data"]) == b"v0"
    r = http.get(url, params={"offset": 5, "timeout": 200})
    assert r.json()["data"] == [] and r.json()["next_offset"] == 5
    r = http.get(url, params={"offset": 99, "timeout": 2000})
    assert r.status_code == 416, r.text
    assert http.get(url, params={"offset": "x"}).status_code == 400
    # SSE: one event per record, the last event of a batch carries the next offset as its id
    with http.stream("GET", url, params={"offset": 3}, headers={"accept": "text/event-stream"}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines: list[str] = []
        for line in r.iter_lines():
            lines.append(line)
            if line == "" and "id: 5" in lines:
                break
    data = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
    assert [d["offset"] for d in data] == [3, 4]
    ids = [line for line in lines if line.startswith("id:")]
    assert ids[-1] == "id: 5" and lines.index(ids[-1]) == len(lines) - 3  # id, data, blank line
    with http.stream("GET", url, params={"offset": 4}, headers={"accept": "application/x-ndjson"}) as r:
        it = r.iter_lines()
        assert json.loads(next(it))["offset"] == 4
        assert json.loads(next(it)) == {"next_offset": 5}


def test_group_consume_with_a_cursor(
    http: httpx.Client, cluster_id: str, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(2)
    p = Producer({"bootstrap.servers": bootstrap})
    for i in range(20):
        p.produce(topic, b"%d" % i, partition=i % 2)
    p.flush(10)
    g = f"/v3/clusters/{cluster_id}/consumer-groups/rest-cursor-group"
    r = http.post(
        g + "/consumers", json={"topics": [topic], "format": "STRING", "auto.offset.reset": "earliest"}
    )
    assert r.status_code == 201, r.text
    cursor = r.json()["cursor"]
    assert r.json()["kind"] == "KafkaGroupConsumer"
    seen: list[str] = []
    for _ in range(30):
        r = http.get(g + "/records", params={"cursor": cursor, "max_records": 7, "timeout": 500})
        assert r.status_code == 200, r.text
        seen += [d["value"]["data"] for d in r.json()["data"]]
        cursor = r.json()["cursor"]
        if len(seen) >= 20:
            break
    assert sorted(seen, key=int) == [str(i) for i in range(20)]
    # presenting the cursor acknowledges: the group's committed offsets follow
    http.get(g + "/records", params={"cursor": cursor, "timeout": 0})
    lags = {x["partition_id"]: x["current_offset"] for x in http.get(g + "/lags").json()["data"]}
    assert lags == {0: 10, 1: 10}
    name = decode(cursor).spec.name
    assert http.delete(g + "/consumers/other", params={"cursor": cursor}).status_code == 400
    assert http.delete(g + f"/consumers/{name}", params={"cursor": cursor}).status_code == 204
    # a retried old cursor answers the same records again (at least once, nothing skipped)
    r = http.get(g + "/records", params={"cursor": "c1.garbage"})
    assert r.status_code == 404 and r.json()["error_code"] == 40403
    r = http.get(g + "/records")
    assert r.status_code == 400
    r = http.post(g + "/consumers", json={"topics": [topic], "topic_pattern": "x"})
    assert r.status_code == 422


@pytest.mark.parametrize("accept", ["text/event-stream", "application/x-ndjson"])
def test_group_stream(
    http: httpx.Client, cluster_id: str, bootstrap: str, make_topic: Callable[..., str], accept: str
) -> None:
    topic = make_topic(1)
    p = Producer({"bootstrap.servers": bootstrap})
    for i in range(5):
        p.produce(topic, b"%d" % i)
    p.flush(10)
    g = f"/v3/clusters/{cluster_id}/consumer-groups/rest-stream-{accept[-6:]}"
    cursor = http.post(
        g + "/consumers", json={"topics": [topic], "format": "STRING", "auto.offset.reset": "earliest"}
    ).json()["cursor"]
    values = []
    with http.stream("GET", g + "/records", params={"cursor": cursor}, headers={"accept": accept}) as r:
        for line in r.iter_lines():
            if line.startswith("data:") or line.startswith("{"):
                doc = json.loads(line[5:] if line.startswith("data:") else line)
                if "value" in doc:
                    values.append(doc["value"]["data"])
            if len(values) == 5:
                break
    assert values == ["0", "1", "2", "3", "4"]
