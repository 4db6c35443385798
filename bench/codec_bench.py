"""Micro-benchmark of the protocol codec against kio 0.6.5 (a benchmark, not a test).

    PYTHONPATH=src python bench/codec_bench.py [--min-time SECONDS]

Cases (message bodies only, no size prefix or header):

* parse a Produce v9 request carrying 1 MiB of records (ours keeps the records as a view), with
  the hand-written `protocol.produce` hot path and with the generic codec;
* write a Fetch v12 response with 8 partitions x 1 MiB of records (ours returns chunks, unjoined;
  kio writes into a BytesIO, as its API requires), with `protocol.fetch` and the generic codec;
* encode and decode a Metadata v12 response with 100 topics x 10 partitions x 3 replicas.

kio's objects are obtained by decoding our bytes with kio, so both sides work on the same message.
Each figure is the best of several timing rounds, in microseconds per operation.
"""

from __future__ import annotations

import argparse
import io
import time
import uuid
from collections.abc import Callable
from typing import Any

from kio.index import load_request_schema, load_response_schema
from kio.serial import entity_reader, entity_writer

from odradek.protocol import codec, records
from odradek.protocol.fetch import write_fetch_response
from odradek.protocol.messages import fetch, metadata, produce
from odradek.protocol.produce import parse_produce_request
from odradek.protocol.schema import MessageSchema

MIB = 1024 * 1024
PRODUCE_V, FETCH_V, METADATA_V = 9, 12, 12


def timed(fn: Callable[[], Any], min_time: float, rounds: int = 5) -> float:
    """Best-of-`rounds` microseconds per call, each round running for about `min_time` / `rounds`."""
    n = 1
    while True:  # calibrate: enough calls for a round to last >= 20 ms
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= 0.02:
            break
        n *= 2
    per_round = max(1, int(n * (min_time / rounds) / elapsed))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            fn()
        best = min(best, (time.perf_counter() - start) / per_round)
    return best * 1e6


def one_mib_of_batches() -> bytes:
    """Whole record batches of 64 x 1 KiB values, 1 MiB in all (uncompressed)."""
    value = bytes(range(256)) * 4
    batch = records.build_batch([(None, value, [], 1700000000000 + i) for i in range(64)])
    return batch * (MIB // len(batch) + 1)


def produce_request(batches: bytes) -> Any:
    return produce.ProduceRequest(
        transactional_id=None,
        acks=-1,
        timeout_ms=30000,
        topic_data=[
            produce.TopicProduceData(
                name="bench", partition_data=[produce.PartitionProduceData(index=0, records=batches)]
            )
        ],
    )


def fetch_response(chunks: list[bytes]) -> Any:
    partitions = [
        fetch.PartitionData(
            partition_index=i,
            high_watermark=1000,
            last_stable_offset=1000,
            log_start_offset=0,
            aborted_transactions=None,
            records=chunk,
        )
        for i, chunk in enumerate(chunks)
    ]
    return fetch.FetchResponse(
        session_id=1, responses=[fetch.FetchableTopicResponse(topic="bench", partitions=partitions)]
    )


def metadata_response() -> Any:
    topics = [
        metadata.MetadataResponseTopic(
            name=f"topic-{t:03d}",
            topic_id=uuid.UUID(int=t + 1),
            partitions=[
                metadata.MetadataResponsePartition(
                    partition_index=p,
                    leader_id=p % 3,
                    leader_epoch=7,
                    replica_nodes=[0, 1, 2],
                    isr_nodes=[0, 1, 2],
                    offline_replicas=[],
                )
                for p in range(10)
            ],
        )
        for t in range(100)
    ]
    brokers = [metadata.MetadataResponseBroker(node_id=i, host=f"broker-{i}", port=9092) for i in range(3)]
    return metadata.MetadataResponse(
        brokers=brokers, cluster_id="bench-cluster", controller_id=0, topics=topics
    )


def kio_object(schema: MessageSchema, version: int, raw: bytes) -> tuple[Any, type[Any]]:
    load = load_request_schema if schema.kind == "request" else load_response_schema
    cls = load(schema.api_key, version)
    obj, _ = entity_reader(cls)(memoryview(raw), 0)
    return obj, cls


def kio_write(cls: type[Any], obj: Any) -> io.BytesIO:
    """kio's output stays in its BytesIO: no getvalue() copy is charged to kio."""
    out = io.BytesIO()
    entity_writer(cls)(out, obj)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds of timing per case and side")
    args = parser.parse_args()
    t = args.min_time
    rows: list[tuple[str, float, float]] = []

    produce_raw = codec.encode_bytes(produce.REQUEST, PRODUCE_V, produce_request(one_mib_of_batches()))
    _, kio_produce_cls = kio_object(produce.REQUEST, PRODUCE_V, produce_raw)
    read_produce = entity_reader(kio_produce_cls)
    view = memoryview(produce_raw)
    kio_parse = timed(lambda: read_produce(view, 0), t)
    rows.append(
        (
            f"parse Produce v{PRODUCE_V} request, {len(produce_raw) / MIB:.2f} MiB (hot path)",
            timed(lambda: parse_produce_request(view, 0, PRODUCE_V), t),
            kio_parse,
        )
    )
    rows.append(
        (
            f"parse Produce v{PRODUCE_V} request, {len(produce_raw) / MIB:.2f} MiB (generic codec)",
            timed(lambda: codec.decode(produce.REQUEST, PRODUCE_V, view), t),
            kio_parse,
        )
    )

    chunks = [bytes([i]) * MIB for i in range(8)]
    fetch_obj = fetch_response(chunks)
    fetch_raw = codec.encode_bytes(fetch.RESPONSE, FETCH_V, fetch_obj)
    kio_fetch, kio_fetch_cls = kio_object(fetch.RESPONSE, FETCH_V, fetch_raw)
    assert kio_write(kio_fetch_cls, kio_fetch).getvalue() == fetch_raw
    assert b"".join(write_fetch_response(fetch_obj, FETCH_V)) == fetch_raw
    kio_fetch_write = timed(lambda: kio_write(kio_fetch_cls, kio_fetch), t)
    rows.append(
        (
            f"write Fetch v{FETCH_V} response, 8 x 1 MiB records (hot path)",
            timed(lambda: write_fetch_response(fetch_obj, FETCH_V), t),
            kio_fetch_write,
        )
    )
    rows.append(
        (
            f"write Fetch v{FETCH_V} response, 8 x 1 MiB records (generic codec)",
            timed(lambda: codec.encode(fetch.RESPONSE, FETCH_V, fetch_obj), t),
            kio_fetch_write,
        )
    )

    md_obj = metadata_response()
    md_raw = codec.encode_bytes(metadata.RESPONSE, METADATA_V, md_obj)
    kio_md, kio_md_cls = kio_object(metadata.RESPONSE, METADATA_V, md_raw)
    assert kio_write(kio_md_cls, kio_md).getvalue() == md_raw
    read_md = entity_reader(kio_md_cls)
    rows.append(
        (
            f"encode Metadata v{METADATA_V} response, 100 topics x 10 partitions",
            timed(lambda: codec.encode(metadata.RESPONSE, METADATA_V, md_obj), t),
            timed(lambda: kio_write(kio_md_cls, kio_md), t),
        )
    )
    rows.append(
        (
            f"decode Metadata v{METADATA_V} response, {len(md_raw) / 1024:.0f} KiB",
            timed(lambda: codec.decode(metadata.RESPONSE, METADATA_V, md_raw), t),
            timed(lambda: read_md(memoryview(md_raw), 0), t),
        )
    )

    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'odradek µs':>11}  {'kio µs':>11}  {'kio/ours':>8}")
    for name, ours, kio in rows:
        print(f"{name:<{width}}  {ours:>11.1f}  {kio:>11.1f}  {kio / ours:>8.1f}")


if __name__ == "__main__":
    main()
