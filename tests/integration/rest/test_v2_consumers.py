"""v2 consumer instances over HTTP: lifecycle, subscribe/assign, seek, fetch, commit, errors."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
from confluent_kafka import Producer
from rest_media import V2, V2_BINARY, V2_JSON

H = {"content-type": V2}


def produce(bootstrap: str, topic: str, values: list[bytes], partition: int = 0, keyed: bool = True) -> None:
    p = Producer({"bootstrap.servers": bootstrap})
    for i, v in enumerate(values):
        key = b"k%d" % i if keyed else b'{"id":%d}' % i
        p.produce(topic, v, key=key, partition=partition, headers=[("n", b"%d" % i)], timestamp=1_000 + i)
    assert p.flush(10) == 0


def fetch_until(http: httpx.Client, url: str, count: int, accept: str = V2_BINARY) -> list:  # type: ignore[type-arg]
    got: list = []  # type: ignore[type-arg]
    for _ in range(40):
        r = http.get(url + "/records?timeout=500", headers={"accept": accept})
        assert r.status_code == 200, r.text
        got += r.json()
        if len(got) >= count:
            break
    return got


def test_subscribe_fetch_commit_delete(
    http: httpx.Client, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    produce(bootstrap, topic, [b"a", b"", b"\x00\x01"])
    r = http.post(
        "/consumers/rest-g1",
        json={
            "name": "c1",
            "format": "binary",
            "auto.offset.reset": "earliest",
            "auto.commit.enable": "false",
        },
        headers=H,
    )
    assert r.status_code == 200 and r.headers["content-type"] == V2
    assert r.json()["instance_id"] == "c1"
    base = r.json()["base_uri"]
    assert base.endswith("/consumers/rest-g1/instances/c1")
    url = "/consumers/rest-g1/instances/c1"
    assert http.post(url + "/subscription", json={"topics": [topic]}, headers=H).status_code == 204
    assert http.get(url + "/subscription").json() == {"topics": [topic]}
    records = fetch_until(http, url, 3)
    assert [base64.b64decode(r["value"]) for r in records] == [b"a", b"", b"\x00\x01"]
    first = records[0]
    assert first["topic"] == topic and first["partition"] == 0 and first["offset"] == 0
    assert base64.b64decode(first["key"]) == b"k0"
    assert first["timestamp"] == 1000 and first["timestamp_type"] == "CREATE_TIME"
    assert first["headers"] == [{"key": "n", "value": base64.b64encode(b"0").decode()}]
    # commit everything fetched, then read it back
    assert http.post(url + "/offsets", headers=H).status_code == 204
    r = http.request(
        "GET", url + "/offsets", json={"partitions": [{"topic": topic, "partition": 0}]}, headers=H
    )
    assert r.json() == {"offsets": [{"topic": topic, "partition": 0, "offset": 3, "metadata": ""}]}
    # explicit commit of a given offset (Confluent: the last consumed one)
    assert (
        http.post(
            url + "/offsets", json={"offsets": [{"topic": topic, "partition": 0, "offset": 0}]}, headers=H
        ).status_code
        == 204
    )
    r = http.request(
        "GET", url + "/offsets", json={"partitions": [{"topic": topic, "partition": 0}]}, headers=H
    )
    assert r.json()["offsets"][0]["offset"] == 1
    # seek back to the beginning and read again; the format must match the Accept header
    assert (
        http.post(
            url + "/positions/beginning", json={"partitions": [{"topic": topic, "partition": 0}]}, headers=H
        ).status_code
        == 204
    )
    again = fetch_until(http, url, 3)
    assert [r["offset"] for r in again] == [0, 1, 2]
    assert (
        http.post(
            url + "/positions/end", json={"partitions": [{"topic": topic, "partition": 0}]}, headers=H
        ).status_code
        == 204
    )
    produce(bootstrap, topic, [b"late"])
    assert [base64.b64decode(r["value"]) for r in fetch_until(http, url, 1)] == [b"late"]
    r = http.get(url + "/records", headers={"accept": V2_JSON})
    assert r.status_code == 406 and r.json()["error_code"] == 40601
    assert http.delete(url + "/subscription").status_code == 204
    assert http.delete(url).status_code == 204
    r = http.get(url + "/records")
    assert r.status_code == 404 and r.json()["error_code"] == 40403
    assert http.delete(url).json()["error_code"] == 40403


def test_assign_seek_and_json_format(
    http: httpx.Client, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(2)
    produce(bootstrap, topic, [b'{"a":1}', b"[2]", b'"three"'], partition=1, keyed=False)
    r = http.post("/consumers/rest-g2", json={"format": "json", "auto.offset.reset": "earliest"}, headers=H)
    url = "/consumers/rest-g2/instances/" + r.json()["instance_id"]
    assert (
        http.post(
            url + "/assignments", json={"partitions": [{"topic": topic, "partition": 1}]}, headers=H
        ).status_code
        == 204
    )
    assert http.get(url + "/assignments").json() == {"partitions": [{"topic": topic, "partition": 1}]}
    r = http.post(url + "/subscription", json={"topics": [topic]}, headers=H)
    assert r.status_code == 409 and r.json()["error_code"] == 40903
    assert (
        http.post(
            url + "/positions", json={"offsets": [{"topic": topic, "partition": 1, "offset": 1}]}, headers=H
        ).status_code
        == 204
    )
    records = fetch_until(http, url, 2, V2_JSON)
    assert [r["value"] for r in records] == [[2], "three"]
    assert records[0]["key"] == {"id": 1}
    r = http.post(
        url + "/positions", json={"offsets": [{"topic": topic, "partition": 0, "offset": 0}]}, headers=H
    )
    assert r.status_code == 409 and r.json()["error_code"] == 40903
    assert http.delete(url).status_code == 204


def test_consumer_bad_input(http: httpx.Client) -> None:
    assert http.post("/consumers/rest-g3", json={"name": "dup"}, headers=H).status_code == 200
    r = http.post("/consumers/rest-g3", json={"name": "dup"}, headers=H)
    assert r.status_code == 409 and r.json()["error_code"] == 40902
    for body in (
        {"format": "xml"},
        {"auto.offset.reset": "sometimes"},
        {"auto.commit.enable": "maybe"},
        {"fetch.min.bytes": "lots"},
        {"isolation.level": "dirty"},
    ):
        r = http.post("/consumers/rest-g3", json=body, headers=H)
        assert r.status_code == 422 and r.json()["error_code"] == 42204, (body, r.text)
    url = "/consumers/rest-g3/instances/dup"
    r = http.post(url + "/subscription", content=b"[", headers=H)
    assert r.status_code == 422 and r.json()["error_code"] == 42206
    r = http.post(url + "/subscription", json={"topics": ["a"], "topic_pattern": "b"}, headers=H)
    assert r.status_code == 422
    r = http.post(url + "/subscription", json={"topic_pattern": "("}, headers=H)
    assert r.status_code == 422 and r.json()["pointer"] == "/topic_pattern"
    r = http.post(url + "/subscription", json={"topics": ["a"]}, headers={"content-type": "text/csv"})
    assert r.status_code == 415
    r = http.get(url + "/records?max_bytes=lots")
    assert r.status_code == 400
    assert http.delete(url).status_code == 204


def test_a_record_that_is_not_json_is_a_clear_error(
    http: httpx.Client, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    produce(bootstrap, topic, [b"not json"], keyed=False)
    r = http.post("/consumers/rest-g4", json={"format": "json", "auto.offset.reset": "earliest"}, headers=H)
    url = "/consumers/rest-g4/instances/" + r.json()["instance_id"]
    http.post(url + "/subscription", json={"topics": [topic]}, headers=H)
    for _ in range(20):
        r = http.get(url + "/records?timeout=500", headers={"accept": V2_JSON})
        if r.status_code != 200:
            break
    assert r.status_code == 500 and r.json()["error_code"] == 50002
    assert "not JSON" in r.json()["message"]
    assert http.delete(url).status_code == 204
