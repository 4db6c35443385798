"""`odradek produce` and `odradek consume` against a real broker: byte-exact round trips."""

from __future__ import annotations

import base64
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.compat

SRC = str(Path(__file__).resolve().parents[2] / "src")
# One record per batch where a test reads log end offsets: it is about the CLI, not about how a
# broker reports ListOffsets after multi-record batches.
ONE_PER_BATCH = ("-X", "batch.num.messages=1")


def value(i: int) -> bytes:
    # Mostly text; every 7th value holds bytes that are not UTF-8 (JSON output must base64 them).
    return f"value {i} é".encode() + (b"\xff\xfe" if i % 7 == 0 else b"")


def create(run_cli: Any, topic: str, partitions: int = 1) -> None:
    result = run_cli("topic", "create", topic, "--partitions", str(partitions))
    assert result.code == 0, result.err


def test_thousand_records_with_keys_and_headers_round_trip(run_cli: Any, topic_name: str) -> None:
    create(run_cli, topic_name)
    lines = b"".join(b"key-%d\tn=%d\t%s\n" % (i, i, value(i)) for i in range(1000))
    produced = run_cli(
        "produce", topic_name, "--format", "%k\\t%h\\t%s\\n", "--header", "src=cli", stdin=lines
    )
    assert produced.code == 0, produced.err
    assert produced.err.startswith("produced 1000 records in ")

    fmt = "%p:%o %k\\t%h\\t%s\\n"
    consumed = run_cli("consume", topic_name, "--from-beginning", "--exit", "--format", fmt)
    assert consumed.code == 0, consumed.err
    assert consumed.out == b"".join(
        b"0:%d key-%d\tn=%d,src=cli\t%s\n" % (i, i, i, value(i)) for i in range(1000)
    )

    as_json = run_cli("consume", topic_name, "--from-beginning", "--exit", "--output", "json")
    assert as_json.code == 0, as_json.err
    docs = [json.loads(line) for line in as_json.out.splitlines()]
    assert len(docs) == 1000
    for i, doc in enumerate(docs):
        raw = value(i)
        encoded = (raw.decode(), "utf-8") if i % 7 else (base64.b64encode(raw).decode(), "base64")
        assert doc == {
            "topic": topic_name,
            "partition": 0,
            "offset": i,
            "timestamp": doc["timestamp"],
            "timestamp_type": "CreateTime",
            "key": f"key-{i}",
            "key_encoding": "utf-8",
            "value": encoded[0],
            "value_encoding": encoded[1],
            "headers": [
                {"key": "n", "value": str(i), "value_encoding": "utf-8"},
                {"key": "src", "value": "cli", "value_encoding": "utf-8"},
            ],
        }
        assert abs(doc["timestamp"] - time.time() * 1000) < 600_000


def test_key_delimiter_both_ways_across_partitions(run_cli: Any, topic_name: str) -> None:
    create(run_cli, topic_name, partitions=3)
    lines = [b"k%d:v%d" % (i, i) for i in range(60)]
    assert run_cli("produce", topic_name, "-K", ":", stdin=b"\n".join(lines)).code == 0
    consumed = run_cli("consume", topic_name, "--from-beginning", "--exit", "-K", ":")
    assert consumed.code == 0, consumed.err
    assert sorted(consumed.out.splitlines()) == sorted(lines)
    # Same key, same partition: the producer's partitioner is used.
    per_partition = run_cli("consume", topic_name, "--from-beginning", "--exit", "--format", "%k %p\\n")
    owner = dict(line.split() for line in per_partition.out.splitlines())
    assert len(owner) == 60 and set(owner.values()) <= {b"0", b"1", b"2"}


def test_offset_from_end_partition_and_count(run_cli: Any, topic_name: str) -> None:
    create(run_cli, topic_name, partitions=2)
    stdin = b"".join(b"%d\n" % i for i in range(10))
    assert run_cli("produce", topic_name, "--partition", "1", *ONE_PER_BATCH, stdin=stdin).code == 0

    tail = run_cli("consume", topic_name, "--offset", "-3", "--exit", "--format", "%p/%o=%s\\n")
    assert (tail.code, tail.out) == (0, b"1/7=7\n1/8=8\n1/9=9\n")
    absolute = run_cli("consume", topic_name, "--partition", "1", "--offset", "4", "--count", "2")
    assert (absolute.code, absolute.out) == (0, b"4\n5\n")
    too_far_back = run_cli("consume", topic_name, "--partition", "1", "--offset", "-100", "--exit")
    assert too_far_back.out == stdin
    at_end = run_cli("consume", topic_name, "--offset", "end", "--exit")
    assert (at_end.code, at_end.out) == (0, b"")
    nothing = run_cli("consume", topic_name, "--partition", "0", "--from-beginning", "--exit")
    assert (nothing.code, nothing.out) == (0, b"")
    no_such = run_cli("consume", topic_name, "--partition", "5", "--exit")
    assert (no_such.code, no_such.err) == (
        1,
        f"odradek: error: topic {topic_name} has no partition 5 (it has 2)\n",
    )


def test_tombstones_compression_and_idempotence(run_cli: Any, topic_name: str) -> None:
    create(run_cli, topic_name)
    flags = ("-K", "=", "--null-value-marker", "NULL", "--compression", "zstd", "--idempotent")
    produced = run_cli("produce", topic_name, *flags, stdin=b"a=1\nb=NULL\nc=\n")
    assert produced.code == 0, produced.err
    docs = [
        json.loads(x)
        for x in run_cli(
            "consume", topic_name, "--from-beginning", "--exit", "--output", "json"
        ).out.splitlines()
    ]
    assert [(d["key"], d["value"], d["value_encoding"]) for d in docs] == [
        ("a", "1", "utf-8"), ("b", None, None), ("c", "", "utf-8"),
    ]  # fmt: skip
    lengths = run_cli("consume", topic_name, "--from-beginning", "--exit", "--format", "%K %S\\n")
    assert lengths.out == b"1 1\n1 -1\n1 0\n"


def test_failed_deliveries_are_counted_and_exit_non_zero(run_cli: Any, topic_name: str) -> None:
    create(run_cli, topic_name)
    result = run_cli("produce", topic_name, "--partition", "7", stdin=b"x\ny\n")
    assert result.code == 1
    last = result.err.splitlines()[-1]
    assert last.startswith("odradek: error: 2 of 2 records were not delivered: _UNKNOWN_PARTITION (2)"), (
        result.err
    )


def test_bad_input_stops_after_sending_the_good_records(run_cli: Any, topic_name: str) -> None:
    create(run_cli, topic_name)
    result = run_cli("produce", topic_name, "-K", ":", stdin=b"a:1\nno delimiter\nc:3\n")
    assert result.code == 1
    assert result.err.splitlines() == [
        "produced 1 records in " + result.err.split("produced 1 records in ")[1].splitlines()[0],
        "odradek: error: input: record 2: no delimiter b':' after the key",
    ]
    assert run_cli("consume", topic_name, "--from-beginning", "--exit", "-K", ":").out == b"a:1\n"


def test_unknown_topic_is_one_clear_error(run_cli: Any, topic_name: str) -> None:
    result = run_cli("consume", topic_name + "-missing", "--exit")
    assert result.code == 1
    assert (
        result.err
        == f"odradek: error: topic {topic_name}-missing: UNKNOWN_TOPIC_OR_PART: "
        + result.err.split("UNKNOWN_TOPIC_OR_PART: ")[1]
    )
    assert result.err.count("\n") == 1


def spawn(bootstrap: str, *argv: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "odradek", *argv, "-b", bootstrap],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def read_line(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> bytes:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "no output from the consumer"
    return proc.stdout.readline()


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "closed pipe"])
def test_follow_mode_stops_cleanly(run_cli: Any, bootstrap: str, topic_name: str, how: str) -> None:
    create(run_cli, topic_name)
    assert run_cli("produce", topic_name, stdin=b"".join(b"%d\n" % i for i in range(5000))).code == 0
    proc = spawn(bootstrap, "consume", topic_name, "--from-beginning")
    try:
        assert read_line(proc) == b"0\n"
        assert proc.stdout is not None and proc.stderr is not None
        if how == "closed pipe":
            proc.stdout.close()
            # The consumer keeps writing until it notices; give it more records to write.
            assert run_cli("produce", topic_name, stdin=b"more\n" * 2000).code == 0
        else:
            proc.send_signal(getattr(signal, how))
        assert proc.wait(30) == 0
        assert proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
