"""kcat, as Debian ships it (kcat 1.7.1 on librdkafka 2.0.2, old): metadata, produce, consume, query."""

from __future__ import annotations

import json
import subprocess

import pytest
from compat_clients import Out, produce_confluent

pytestmark = pytest.mark.compat


def kcat(bootstrap: str, *args: str, stdin: bytes | None = None) -> str:
    result = subprocess.run(
        ["kcat", "-b", bootstrap, *args], input=stdin, capture_output=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return result.stdout.decode()


def test_list_metadata(bootstrap: str, topic_name: str) -> None:
    produce_confluent(bootstrap, topic_name, [Out(None, b"x")])
    out = kcat(bootstrap, "-L", "-t", topic_name)
    host, port = bootstrap.split(":")
    assert f" 1 brokers:\n  broker 1 at {host}:{port} (controller)\n" in out
    assert f' 1 topics:\n  topic "{topic_name}" with 1 partitions:\n' in out
    assert "    partition 0, leader 1, replicas: 1, isrs: 1\n" in out


def test_list_metadata_json(bootstrap: str, topic_name: str) -> None:
    produce_confluent(bootstrap, topic_name, [Out(None, b"x")])
    meta = json.loads(kcat(bootstrap, "-L", "-J"))
    assert meta["controllerid"] == 1
    assert meta["brokers"] == [{"id": 1, "name": bootstrap}]
    [mine] = [t for t in meta["topics"] if t["topic"] == topic_name]
    assert mine == {
        "topic": topic_name,
        "partitions": [{"partition": 0, "leader": 1, "replicas": [{"id": 1}], "isrs": [{"id": 1}]}],
    }
    names = [t["topic"] for t in meta["topics"]]
    assert names == sorted(names) and len(names) == len(set(names))


FORMAT = "%p|%o|%k|%s|%h|%K|%S\\n"


def test_produce_with_key_delimiter_and_headers_then_consume(bootstrap: str, topic_name: str) -> None:
    lines = b"k1:v1\nk2:v2 with spaces\n:no key\nk4:\nk5:a:b:c\n"
    kcat(bootstrap, "-P", "-t", topic_name, "-K:", "-H", "a=1", "-H", "b=two", "-H", "a=3", "-Z", stdin=lines)
    out = kcat(bootstrap, "-C", "-t", topic_name, "-o", "beginning", "-e", "-f", FORMAT)
    headers = "a=1,b=two,a=3"
    assert out.splitlines() == [
        f"0|0|k1|v1|{headers}|2|2",
        f"0|1|k2|v2 with spaces|{headers}|2|14",
        f"0|2||no key|{headers}|-1|6",  # -Z: an empty key is NULL
        f"0|3|k4||{headers}|2|-1",  # and so is an empty value
        f"0|4|k5|a:b:c|{headers}|2|5",  # only the first delimiter splits
    ]


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_produce_compressed(bootstrap: str, topic_name: str, codec: str) -> None:
    lines = b"".join(f"key{i}:value {i} ".encode() * 3 + b"\n" for i in range(200))
    kcat(bootstrap, "-P", "-t", topic_name, "-K:", "-z", codec, stdin=lines)
    out = kcat(bootstrap, "-C", "-t", topic_name, "-o", "beginning", "-e", "-f", "%o %k %s\\n")
    # the key ends at the first delimiter; the value keeps the rest
    assert out.splitlines() == [
        f"{i} key{i} value {i} key{i}:value {i} key{i}:value {i} " for i in range(200)
    ]


def test_offsets_beginning_end_relative_absolute(bootstrap: str, topic_name: str) -> None:
    kcat(bootstrap, "-P", "-t", topic_name, stdin=b"".join(f"m{i}\n".encode() for i in range(10)))

    def consume(offset: str) -> list[str]:
        return kcat(bootstrap, "-C", "-t", topic_name, "-o", offset, "-e", "-f", "%o:%s\\n").splitlines()

    assert consume("beginning") == [f"{i}:m{i}" for i in range(10)]
    assert consume("end") == []
    assert consume("-3") == ["7:m7", "8:m8", "9:m9"]
    assert consume("6") == ["6:m6", "7:m7", "8:m8", "9:m9"]


def test_query_and_consume_by_timestamp(bootstrap: str, topic_name: str) -> None:
    produce_confluent(
        bootstrap, topic_name, [Out(None, f"t{ts}".encode(), timestamp=ts) for ts in (1000, 2000, 3000, 4000)]
    )
    assert kcat(bootstrap, "-Q", "-t", f"{topic_name}:0:2500").strip() == f"{topic_name} [0] offset 2"
    assert kcat(bootstrap, "-Q", "-t", f"{topic_name}:0:1000").strip() == f"{topic_name} [0] offset 0"
    out = kcat(bootstrap, "-C", "-t", topic_name, "-o", "s@2000", "-o", "e@4000", "-e", "-f", "%o:%s:%T\\n")
    assert out.splitlines() == ["1:t2000:2000", "2:t3000:3000"]
