"""Golden bytes: a few messages whose expected encodings were produced by the oracle encoders.

Each hex literal was written by kio 0.6.5 (`entity_writer`) or kafka-python 3.0.12 from the same
values, and checked by hand against the protocol specification; our codec must write exactly these
bytes and read them back into the same object.
"""

from __future__ import annotations

import uuid

from odradek.model.topic_partition import ZERO_UUID
from odradek.protocol import codec, framing, records
from odradek.protocol import primitives as p
from odradek.protocol.messages import api_versions, fetch, headers, metadata, produce

# Two records (key "k1" / value "hello" / header h=v at 1700000000000; no key / "wörld" 5 ms later),
# built by kafka-python's DefaultRecordBatchBuilder (no compression, no producer id). kafka-python
# writes partitionLeaderEpoch 0 where the Java producer writes -1; the CRC does not cover it.
BATCH = bytes.fromhex(
    "0000000000000000"  # baseOffset
    "00000050"  # batchLength 80
    "00000000"  # partitionLeaderEpoch
    "02"  # magic
    "958096d2"  # crc32c
    "0000"  # attributes
    "00000001"  # lastOffsetDelta
    "0000018bcfe56800"  # baseTimestamp
    "0000018bcfe56805"  # maxTimestamp
    "ffffffffffffffff"  # producerId
    "ffff"  # producerEpoch
    "ffffffff"  # baseSequence
    "00000002"  # recordsCount
    "22000000046b310a68656c6c6f0202680276"  # record 0
    "18000a02010c77c3b6726c6400"  # record 1
)


def test_record_batch_from_kafka_python() -> None:
    ours = records.build_batch(
        [(b"k1", b"hello", [("h", b"v")], 1700000000000), (None, "wörld".encode(), [], 1700000000005)],
        records.BatchSpec(partition_leader_epoch=0),
    )
    assert ours == BATCH
    [header] = records.validate_batches(BATCH)
    assert (header.size, header.record_count, header.last_offset_delta) == (92, 2, 1)
    assert list(records.iter_records(BATCH, 0, header)) == [
        records.Record(0, 1700000000000, b"k1", b"hello", [("h", b"v")]),
        records.Record(1, 1700000000005, None, "wörld".encode(), []),
    ]


def _hex(*parts: str) -> bytes:
    return bytes.fromhex("".join(parts))


def _check(schema: object, version: int, obj: object, golden: bytes) -> None:
    assert codec.encode_bytes(schema, version, obj) == golden  # type: ignore[arg-type]
    assert codec.decode(schema, version, golden) == (obj, len(golden))  # type: ignore[arg-type]


def test_api_versions_v3_request() -> None:
    obj = api_versions.ApiVersionsRequest(client_software_name="odradek-cli", client_software_version="0.1.0")
    golden = _hex(
        "0c6f64726164656b2d636c69",  # compact string: length + 1, "odradek-cli"
        "06302e312e30",  # "0.1.0"
        "00",  # no tagged fields
    )
    _check(api_versions.REQUEST, 3, obj, golden)


def test_api_versions_v3_request_framed_with_header_v2() -> None:
    """Size, header v2 (the client id keeps its int16 length, then tags), body: from kafka-python."""
    golden = _hex(
        "00000025",  # size 37
        "0012000300000007",  # api key 18, version 3, correlation id 7
        "00076f64726164656b",  # client id "odradek"
        "00",  # header tags
        "0c6f64726164656b2d636c6906302e312e3000",  # body
    )
    obj = api_versions.ApiVersionsRequest(client_software_name="odradek-cli", client_software_version="0.1.0")
    header = framing.RequestHeader(18, 3, 7, "odradek")
    body = framing.request_header_bytes(header, True) + codec.encode_bytes(api_versions.REQUEST, 3, obj)
    assert p.INT32.pack(len(body)) + body == golden
    assert framing.read_request_header(golden[4:], True) == (header, 2 + 2 + 4 + 2 + len("odradek") + 1)


def test_api_versions_v3_response_with_tagged_fields() -> None:
    obj = api_versions.ApiVersionsResponse(
        error_code=0,
        api_keys=[
            api_versions.ApiVersion(0, 3, 13),
            api_versions.ApiVersion(1, 4, 18),
            api_versions.ApiVersion(18, 0, 4),
        ],
        throttle_time_ms=0,
        supported_features=[api_versions.SupportedFeatureKey("kraft.version", 0, 1)],
        finalized_features_epoch=5,
    )
    golden = _hex(
        "0000",  # error_code
        "04",  # three api keys, each followed by its empty tag section
        "00000003000d00",
        "00010004001200",
        "00120000000400",
        "00000000",  # throttle_time_ms
        "02",  # two tagged fields: finalized_features and zk_migration_ready are default, absent
        "0014",  # tag 0 (supported_features), 20 bytes
        "020e6b726166742e76657273696f6e0000000100",
        "01080000000000000005",  # tag 1 (finalized_features_epoch), 8 bytes
    )
    _check(api_versions.RESPONSE, 3, obj, golden)


def test_metadata_v12_request() -> None:
    obj = metadata.MetadataRequest(
        topics=[
            metadata.MetadataRequestTopic(topic_id=ZERO_UUID, name="orders"),
            metadata.MetadataRequestTopic(
                topic_id=uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), name=None
            ),
        ],
        allow_auto_topic_creation=True,
        include_topic_authorized_operations=False,
    )
    golden = _hex(
        "03",  # two topics
        "00000000000000000000000000000000076f726465727300",  # zero id, "orders", tags
        "6ba7b8109dad11d180b400c04fd430c80000",  # an id, null compact name, tags
        "01",  # allow_auto_topic_creation
        "00",  # include_topic_authorized_operations
        "00",  # tags
    )
    _check(metadata.REQUEST, 12, obj, golden)


def test_produce_v9_request() -> None:
    obj = produce.ProduceRequest(
        transactional_id=None,
        acks=-1,
        timeout_ms=30000,
        topic_data=[
            produce.TopicProduceData(
                name="orders",
                partition_data=[
                    produce.PartitionProduceData(index=0, records=BATCH),
                    produce.PartitionProduceData(index=1, records=None),
                ],
            )
        ],
    )
    golden = _hex(
        "00",  # null transactional id
        "ffff",  # acks -1
        "00007530",  # timeout 30000 ms
        "02076f7264657273",  # one topic, "orders"
        "03",  # two partitions
        "000000005d",  # index 0, compact records length 92 + 1
        BATCH.hex(),
        "00",
        "000000010000",  # index 1, null records, tags
        "00",  # topic tags
        "00",  # request tags
    )
    _check(produce.REQUEST, 9, obj, golden)
    decoded, _ = codec.decode(produce.REQUEST, 9, golden)
    view = decoded.topic_data[0].partition_data[0].records
    assert isinstance(view, memoryview)  # records stay a view into the request


def test_fetch_v12_response() -> None:
    obj = fetch.FetchResponse(
        throttle_time_ms=0,
        error_code=0,
        session_id=123,
        responses=[
            fetch.FetchableTopicResponse(
                topic="orders",
                partitions=[
                    fetch.PartitionData(
                        partition_index=0,
                        error_code=0,
                        high_watermark=2,
                        last_stable_offset=2,
                        log_start_offset=0,
                        current_leader=fetch.LeaderIdAndEpoch(leader_id=1, leader_epoch=7),
                        aborted_transactions=[fetch.AbortedTransaction(producer_id=42, first_offset=0)],
                        preferred_read_replica=-1,
                        records=BATCH,
                    ),
                    fetch.PartitionData(
                        partition_index=1,
                        error_code=6,
                        high_watermark=-1,
                        aborted_transactions=None,
                        records=None,
                    ),
                ],
            )
        ],
    )
    golden = _hex(
        "0000000000000000007b",  # throttle 0, error 0, session id 123
        "02076f7264657273",  # one topic, "orders"
        "03",  # two partitions
        "000000000000",  # partition 0, no error
        "000000000000000200000000000000020000000000000000",  # hw, lso, log start
        "02000000000000002a000000000000000000",  # one aborted transaction (pid 42)
        "ffffffff",  # preferred read replica -1
        "5d",  # compact records length 92 + 1
        BATCH.hex(),
        "010109000000010000000700",  # 1 tag: 1 (current_leader), 9 bytes
        "000000010006",  # partition 1, NOT_LEADER_OR_FOLLOWER
        "ffffffffffffffffffffffffffffffffffffffffffffffff",  # hw, lso, log start: -1
        "00ffffffff0000",  # null aborted, preferred -1, null records, no tags
        "00",  # topic tags
        "00",  # response tags
    )
    _check(fetch.RESPONSE, 12, obj, golden)


def test_response_headers() -> None:
    """v1 (tags) for flexible responses, v0 for the others and always for ApiVersions (KIP-511)."""
    assert framing.response_header(7, metadata.RESPONSE, 12) == _hex("00000007", "00")
    assert framing.response_header(7, metadata.RESPONSE, 8) == _hex("00000007")
    assert framing.response_header(7, api_versions.RESPONSE, 3) == _hex("00000007")
    flexible = codec.encode_bytes(headers.RESPONSE_HEADER, 1, headers.ResponseHeader(correlation_id=7))
    assert flexible == framing.response_header(7, metadata.RESPONSE, 12)
