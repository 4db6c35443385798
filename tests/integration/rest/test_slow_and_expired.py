"""Bad input that takes time: a body that never finishes, a streamed body that stops, an expired
consumer instance. The session proxy runs with stream.idle.timeout.ms=2000 and
consumer.instance.timeout.ms=3000; the slow-body test runs a proxy with request.timeout.ms=1500."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
from rest_media import V2, V2_BINARY

from odradek.testing.service_process import ServiceProcess, rest_proxy


def raw_exchange(url: str, head: bytes, body: bytes, wait_s: float) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=wait_s) as sock:
        sock.sendall(head + body)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
                head_end = data.find(b"\r\n\r\n")
                length = (
                    re.search(rb"content-length: (\d+)", data[:head_end].lower()) if head_end >= 0 else None
                )
                if length is not None and len(data) >= head_end + 4 + int(length.group(1)):
                    break  # a complete answer; the connection may be kept alive
        except TimeoutError:
            pass
    return data


def test_a_body_that_never_finishes_is_timed_out(
    bootstrap: str, http: httpx.Client, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    head = (
        f"POST /topics/{topic} HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: {V2_BINARY}\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    with rest_proxy(bootstrap, "--override", "request.timeout.ms=1500") as proxy:
        started = time.monotonic()
        answer = raw_exchange(proxy.url, head, b'{"records": [', 10)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"error_code": 408' in answer
    assert 1.2 < elapsed < 6
    assert http.get(f"/topics/{topic}/partitions/0/offsets").json()["end_offset"] == 0


def test_a_stream_that_stops_sending_is_ended(
    rest: ServiceProcess, http: httpx.Client, cluster_id: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    head = (
        f"POST /v3/clusters/{cluster_id}/topics/{topic}/records HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    record = b'{"value": {"type": "STRING", "data": "before the stall"}}\n'
    chunk = f"{len(record):x}\r\n".encode() + record + b"\r\n"
    started = time.monotonic()
    answer = raw_exchange(rest.url, head, chunk, 10)
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 200") and b'"error_code":200' in answer  # its report came
    assert 1.5 < elapsed < 9  # then the stalled stream was ended, the connection closed
    assert http.get(f"/topics/{topic}/partitions/0/offsets").json()["end_offset"] == 1


def test_an_expired_consumer_instance(http: httpx.Client) -> None:
    r = http.post("/consumers/rest-expiry", json={"name": "short-lived"}, headers={"content-type": V2})
    assert r.status_code == 200
    url = "/consumers/rest-expiry/instances/short-lived"
    assert http.get(url + "/subscription").status_code == 200
    time.sleep(5)
    r = http.get(url + "/subscription")
    assert r.status_code == 404 and r.json()["error_code"] == 40403
