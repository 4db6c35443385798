"""Idempotency keys: a retried produce request writes its records once, through any instance."""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import Callable

import httpx
from rest_media import V2_BINARY

from odradek.testing.service_process import ServiceProcess, rest_proxy


def end_offset(http: httpx.Client, topic: str) -> int:
    return int(http.get(f"/topics/{topic}/partitions/0/offsets").json()["end_offset"])


def test_same_key_twice_writes_once(
    http: httpx.Client, cluster_id: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    key = {"idempotency-key": f"order-{uuid.uuid4()}", "content-type": V2_BINARY}
    body = {"records": [{"value": "YQ=="}, {"value": "Yg=="}]}
    first = http.post(f"/topics/{topic}", json=body, headers=key)
    assert first.status_code == 200 and "idempotency-replayed" not in first.headers
    again = http.post(f"/topics/{topic}", json=body, headers=key)
    assert again.status_code == 200 and again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    assert [o["offset"] for o in first.json()["offsets"]] == [0, 1]
    assert end_offset(http, topic) <= 3  # 2 records (+ a transaction marker), written once
    # the same key with another body is refused, not answered with the first answer
    r = http.post(f"/topics/{topic}", json={"records": [{"value": "Yw=="}]}, headers=key)
    assert r.status_code == 422 and "different request" in r.json()["message"]
    # v3: a key per record in its own request, as a header or in the record
    url = f"/v3/clusters/{cluster_id}/topics/{topic}/records"
    record = {"value": {"type": "STRING", "data": "x"}, "idempotency_key": f"rec-{uuid.uuid4()}"}
    a, b = http.post(url, json=record), http.post(url, json=record)
    assert a.json() == b.json() and b.headers["idempotency-replayed"] == "true"
    batch = {"entries": [{"id": "1", "value": {"type": "STRING", "data": "y"}}]}
    hdr = {"idempotency-key": f"batch-{uuid.uuid4()}"}
    a, b = (
        http.post(url + ":batch", json=batch, headers=hdr),
        http.post(url + ":batch", json=batch, headers=hdr),
    )
    assert a.status_code == b.status_code == 207 and a.json() == b.json()
    r = http.post(f"/topics/{topic}", json=body, headers={"idempotency-key": "", "content-type": V2_BINARY})
    assert r.status_code == 400


def test_a_retry_through_another_instance_and_concurrent_attempts(
    rest: ServiceProcess, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    with rest_proxy(bootstrap) as other:
        urls = [rest.url, other.url]
        headers = {"content-type": V2_BINARY}
        # a retry through the other instance is answered from Kafka
        key = f"retry-{uuid.uuid4()}"
        body = {"records": [{"value": "MQ=="}]}
        first = httpx.post(
            f"{urls[0]}/topics/{topic}", json=body, headers={**headers, "idempotency-key": key}
        )
        second = httpx.post(
            f"{urls[1]}/topics/{topic}", json=body, headers={**headers, "idempotency-key": key}, timeout=60
        )
        assert second.headers.get("idempotency-replayed") == "true" and second.json() == first.json()
        # the same request sent through both instances at the same time: written once, same answer
        for n in range(3):
            key = f"race-{n}-{uuid.uuid4()}"
            body = {"records": [{"value": "Mg=="}, {"value": "Mw=="}]}
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                futures = [
                    pool.submit(
                        httpx.post,
                        f"{u}/topics/{topic}",
                        json=body,
                        headers={**headers, "idempotency-key": key},
                        timeout=60,
                    )
                    for u in urls
                ]
                answers = [f.result() for f in futures]
            assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
            assert answers[0].json() == answers[1].json()
        r = httpx.get(f"{urls[0]}/v3/clusters")
        cluster = r.json()["data"][0]["cluster_id"]
        data = httpx.get(
            f"{urls[0]}/v3/clusters/{cluster}/topics/{topic}/partitions/0/records",
            params={"offset": 0, "format": "STRING", "timeout": 1000},
        ).json()["data"]
        values = [d["value"]["data"] for d in data]
        assert values == ["1"] + ["2", "3"] * 3, values  # read_committed: each request's records once
