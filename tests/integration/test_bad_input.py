"""Bad input over raw sockets against the session broker subprocess.

Each test sends something a well-behaved client would not, checks the broker's reaction (an error
code, or the connection closed), and then — through the autouse `canary` fixture — that the broker
still accepts new connections and that data acknowledged before the test is still readable with
exactly the bytes that were produced.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions, fetch, metadata, produce
from odradek.protocol.records import CRC_OFFSET, build_batch, iter_headers
from odradek.testing.raw_client import RawClient, encode_request

PRODUCE_V = 9  # flexible, topics by name
FETCH_V = 12  # flexible, topics by name
METADATA_V = 12
DEFAULT_MAX_MESSAGE_BYTES = 1048588
DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024


def batch(*values: bytes, ts: int = 1_700_000_000_000) -> bytes:
    return build_batch([(b"k", v, [("h", b"x")], ts + i) for i, v in enumerate(values)])


def ensure_topic(client: RawClient, topic: str) -> None:
    """Auto-create `topic` through Metadata (a new topic gets `num.partitions` = 1 partition)."""
    response = client.call(
        ApiKey.METADATA,
        METADATA_V,
        metadata.MetadataRequest(topics=[metadata.MetadataRequestTopic(name=topic)]),
    )
    assert [(t.name, t.error_code, len(t.partitions)) for t in response.topics] == [(topic, 0, 1)]


def produce_request(
    topic: str, records: bytes | None, partition: int = 0, acks: int = -1
) -> produce.ProduceRequest:
    return produce.ProduceRequest(
        acks=acks,
        timeout_ms=5000,
        topic_data=[
            produce.TopicProduceData(
                name=topic, partition_data=[produce.PartitionProduceData(partition, records)]
            )
        ],
    )


def produce_one(
    client: RawClient, topic: str, records: bytes | None, partition: int = 0, acks: int = -1
) -> produce.PartitionProduceResponse:
    response = client.call(ApiKey.PRODUCE, PRODUCE_V, produce_request(topic, records, partition, acks))
    [topic_response] = response.responses
    [part] = topic_response.partition_responses
    assert part.index == partition
    return part


def fetch_one(client: RawClient, topic: str, offset: int, partition: int = 0) -> fetch.PartitionData:
    request = fetch.FetchRequest(
        max_wait_ms=0,
        min_bytes=0,
        max_bytes=50 << 20,
        topics=[
            fetch.FetchTopic(
                topic=topic,
                partitions=[
                    fetch.FetchPartition(
                        partition=partition, fetch_offset=offset, partition_max_bytes=10 << 20
                    )
                ],
            )
        ],
    )
    response = client.call(ApiKey.FETCH, FETCH_V, request)
    assert response.error_code == 0
    [topic_response] = response.responses
    [part] = topic_response.partitions
    return part


def assert_batch_stored(stored: bytes, sent: bytes, offset: int) -> None:
    """The log holds the produced batch unchanged except the broker-assigned base offset and epoch."""
    assert len(stored) == len(sent)
    assert struct.unpack_from(">q", stored)[0] == offset
    assert stored[8:12] == sent[8:12]  # batch length
    assert stored[16:] == sent[16:]  # magic, CRC, attributes, timestamps, producer, records


@dataclass
class Canary:
    topic: str
    sent: list[bytes]


@pytest.fixture(scope="module")
def canary_data(bootstrap: str) -> Canary:
    topic = "bad-input-canary"
    sent = [batch(b"first", b"second"), batch(b"third" * 100)]
    with RawClient.connect(bootstrap) as client:
        ensure_topic(client, topic)
        base = fetch_one(client, topic, 0).high_watermark
        assert base == 0
        for i, b in enumerate(sent):
            assert produce_one(client, topic, b).base_offset == 2 * i
    return Canary(topic, sent)


@pytest.fixture(autouse=True)
def canary(bootstrap: str, canary_data: Canary) -> Iterator[Canary]:
    yield canary_data
    # After the test: the broker answers a new connection and acknowledged data is untouched.
    with RawClient.connect(bootstrap) as client:
        versions = client.call(ApiKey.API_VERSIONS, 3, api_versions.ApiVersionsRequest("t", "1"))
        assert versions.error_code == 0
        part = fetch_one(client, canary_data.topic, 0)
        assert part.error_code == 0
        assert part.high_watermark == 3
        data = b"".join(bytes(c) for c in part.records) if isinstance(part.records, list) else part.records
        stored = bytes(data or b"")
        batches = [stored[pos : pos + h.size] for pos, h in iter_headers(stored)]
        assert len(batches) == 2
        assert_batch_stored(batches[0], canary_data.sent[0], 0)
        assert_batch_stored(batches[1], canary_data.sent[1], 2)


def header_only(api_key: int, version: int, correlation_id: int = 7, client_id: str = "raw") -> bytes:
    return struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id.encode()


# --- framing --------------------------------------------------------------------------------


def test_frame_larger_than_socket_request_max_bytes_closes(bootstrap: str) -> None:
    with RawClient.connect(bootstrap) as client:
        client.send_raw(struct.pack(">i", DEFAULT_MAX_REQUEST_BYTES + 1) + b"\x00" * 100)
        assert client.closed_by_peer()


def test_negative_frame_size_closes(bootstrap: str) -> None:
    with RawClient.connect(bootstrap) as client:
        client.send_raw(struct.pack(">i", -5) + header_only(18, 0))
        assert client.closed_by_peer()


def test_truncated_frame_then_close_leaves_broker_fine(bootstrap: str, canary: Canary) -> None:
    frame = encode_request(ApiKey.PRODUCE, PRODUCE_V, produce_request(canary.topic, batch(b"never")), 1)
    with RawClient.connect(bootstrap) as client:
        client.send_raw(struct.pack(">i", len(frame)) + frame[: len(frame) // 2])
    # A big frame announced and abandoned after a few bytes (the broker allocated its buffer).
    with RawClient.connect(bootstrap) as client:
        client.send_raw(struct.pack(">i", 50 << 20) + b"\x00" * 1000)
        client.sock.shutdown(socket.SHUT_WR)
        assert client.closed_by_peer()


def test_pipelined_requests_are_answered_in_order(bootstrap: str) -> None:
    with RawClient.connect(bootstrap) as client:
        frames = b""
        for cid in range(1, 21):
            version = cid % 5
            body = encode_request(
                ApiKey.API_VERSIONS, version, api_versions.ApiVersionsRequest("t", "1"), cid
            )
            frames += struct.pack(">i", len(body)) + body
        client.send_raw(frames)
        for cid in range(1, 21):
            got, response = client.receive(ApiKey.API_VERSIONS, cid % 5)
            assert (got, response.error_code) == (cid, 0)


# --- requests that cannot be answered --------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"\xff" * 11,  # a varint that never ends
        b"\x05\x01",  # four topics announced, one byte
        b"\x02" + b"\x00" * 16 + b"\x04ab\xff",  # one topic whose name is not UTF-8
    ],
)
def test_garbage_body_after_valid_header_closes(bootstrap: str, body: bytes) -> None:
    with RawClient.connect(bootstrap) as client:
        client.send_frame(header_only(ApiKey.METADATA, METADATA_V) + b"\x00" + body)
        assert client.closed_by_peer()


def test_garbage_produce_body_closes(bootstrap: str) -> None:
    with RawClient.connect(bootstrap) as client:
        client.send_frame(
            header_only(ApiKey.PRODUCE, 3) + b"\x00\x00\xff\xff\x00\x00\x13\x88\x7f\xff\xff\xff"
        )
        assert client.closed_by_peer()


def test_trailing_bytes_after_a_parsed_body_are_ignored(bootstrap: str) -> None:
    """As in Kafka (librdkafka 2.16 sends three extra bytes after an all-topics Metadata v13)."""
    body = encode_request(ApiKey.METADATA, METADATA_V, metadata.MetadataRequest(topics=[]), 3)
    with RawClient.connect(bootstrap) as client:
        client.send_frame(body + b"\x00\x01\x02")
        correlation_id, response = client.receive(ApiKey.METADATA, METADATA_V)
        assert (correlation_id, response.topics) == (3, [])


@pytest.mark.parametrize("version", [3, PRODUCE_V])
def test_trailing_bytes_after_a_produce_body_are_ignored(
    bootstrap: str, topic_name: str, version: int
) -> None:
    """The hand-written Produce parser tolerates them like the generic codec (see the test above)."""
    records = batch(b"trailing")
    body = encode_request(ApiKey.PRODUCE, version, produce_request(topic_name, records), 5)
    with RawClient.connect(bootstrap) as client:
        ensure_topic(client, topic_name)
        client.send_frame(body + b"\x00\x01\x02")
        correlation_id, response = client.receive(ApiKey.PRODUCE, version)
        [[part]] = [t.partition_responses for t in response.responses]
        assert (correlation_id, part.error_code, part.base_offset) == (5, ErrorCode.NO_ERROR, 0)
        assert_batch_stored(fetch_one(client, topic_name, 0).records, records, 0)


@pytest.mark.parametrize("api_key", [-1, 99, 1000, 32767])
def test_unknown_api_key_closes(bootstrap: str, api_key: int) -> None:
    with RawClient.connect(bootstrap) as client:
        client.send_frame(header_only(api_key, 0) + b"\x00" * 8)
        assert client.closed_by_peer()


def test_header_shorter_than_fixed_part_closes(bootstrap: str) -> None:
    with RawClient.connect(bootstrap) as client:
        client.send_frame(b"\x00\x03\x00")
        assert client.closed_by_peer()


@pytest.mark.parametrize(
    ("api_key", "version"), [(ApiKey.METADATA, 14), (ApiKey.PRODUCE, 2), (ApiKey.FETCH, 3)]
)
def test_unsupported_version_of_known_api_closes(bootstrap: str, api_key: int, version: int) -> None:
    with RawClient.connect(bootstrap) as client:
        advertised = client.call(ApiKey.API_VERSIONS, 0, api_versions.ApiVersionsRequest())
        ranges = {v.api_key: (v.min_version, v.max_version) for v in advertised.api_keys}
        lo, hi = ranges[api_key]
        assert not lo <= version <= hi
        client.send_frame(header_only(api_key, version) + b"\x00" * 16)
        assert client.closed_by_peer()


def test_api_versions_too_new_is_answered_in_v0(bootstrap: str) -> None:
    with RawClient.connect(bootstrap) as client:
        advertised = client.call(ApiKey.API_VERSIONS, 0, api_versions.ApiVersionsRequest())
        assert advertised.error_code == 0
        [own] = [v for v in advertised.api_keys if v.api_key == ApiKey.API_VERSIONS]
        assert (own.min_version, own.max_version) == (0, 4)
        # v127 with a body this broker cannot know the shape of (KIP-511: answer in v0 anyway).
        client.send_frame(header_only(ApiKey.API_VERSIONS, 127, correlation_id=4242) + b"\x00\x01\x02\x03")
        frame = client.recv_frame()
        # The connection stays usable: the client retries with a version both sides know.
        assert client.call(ApiKey.API_VERSIONS, 4, api_versions.ApiVersionsRequest("t", "1")).error_code == 0
    # Kafka's exact bytes: header v0 (correlation id, no tagged fields), then ApiVersionsResponse
    # v0: error_code int16 = UNSUPPORTED_VERSION, api_keys array (int32 count) holding only
    # ApiVersions' own range (key, min, max as int16), nothing else.
    assert frame == struct.pack(">ihihhh", 4242, ErrorCode.UNSUPPORTED_VERSION, 1, ApiKey.API_VERSIONS, 0, 4)


@pytest.mark.parametrize(("name", "version"), [("bad name", "1.0"), ("", "1"), ("ok", "1.0-"), ("-x", "1")])
def test_api_versions_invalid_client_software_is_invalid_request(
    bootstrap: str, name: str, version: str
) -> None:
    with RawClient.connect(bootstrap) as client:
        response = client.call(ApiKey.API_VERSIONS, 3, api_versions.ApiVersionsRequest(name, version))
        assert (response.error_code, response.api_keys) == (ErrorCode.INVALID_REQUEST, [])
        fine = client.call(ApiKey.API_VERSIONS, 3, api_versions.ApiVersionsRequest("librdkafka", "2.0.2"))
        assert fine.error_code == 0 and fine.api_keys


# --- produce errors --------------------------------------------------------------------------


def test_crc_corrupt_batch_is_corrupt_message(bootstrap: str, topic_name: str) -> None:
    raw = bytearray(batch(b"payload"))
    raw[-1] ^= 0x01  # a record byte: covered by the CRC
    with RawClient.connect(bootstrap) as client:
        ensure_topic(client, topic_name)
        result = produce_one(client, topic_name, bytes(raw))
        assert (result.error_code, result.base_offset) == (ErrorCode.CORRUPT_MESSAGE, -1)
        raw = bytearray(batch(b"payload"))
        raw[CRC_OFFSET] ^= 0x80  # the CRC itself
        assert produce_one(client, topic_name, bytes(raw)).error_code == ErrorCode.CORRUPT_MESSAGE
        assert fetch_one(client, topic_name, 0).high_watermark == 0


@pytest.mark.parametrize("delta", [+1, -1, +1000, -40])
def test_batch_length_field_that_lies_is_corrupt_message(bootstrap: str, topic_name: str, delta: int) -> None:
    raw = bytearray(batch(b"payload", b"more"))
    (length,) = struct.unpack_from(">i", raw, 8)
    struct.pack_into(">i", raw, 8, length + delta)
    with RawClient.connect(bootstrap) as client:
        ensure_topic(client, topic_name)
        result = produce_one(client, topic_name, bytes(raw))
        assert result.error_code == ErrorCode.CORRUPT_MESSAGE
        assert fetch_one(client, topic_name, 0).high_watermark == 0


def test_truncated_batch_is_corrupt_message(bootstrap: str, topic_name: str) -> None:
    with RawClient.connect(bootstrap) as client:
        ensure_topic(client, topic_name)
        assert produce_one(client, topic_name, batch(b"x")[:40]).error_code == ErrorCode.CORRUPT_MESSAGE


def test_batch_over_max_message_bytes_is_message_too_large(bootstrap: str, topic_name: str) -> None:
    big = batch(b"v" * DEFAULT_MAX_MESSAGE_BYTES)
    with RawClient.connect(bootstrap) as client:
        ensure_topic(client, topic_name)
        result = produce_one(client, topic_name, big)
        assert (result.error_code, result.base_offset) == (ErrorCode.MESSAGE_TOO_LARGE, -1)
        # exactly at the limit is fine
        size = DEFAULT_MAX_MESSAGE_BYTES - len(batch(b""))
        size -= len(batch(b"v" * size)) - DEFAULT_MAX_MESSAGE_BYTES
        fits = batch(b"v" * size)
        assert len(fits) == DEFAULT_MAX_MESSAGE_BYTES
        assert produce_one(client, topic_name, fits).error_code == 0
        assert fetch_one(client, topic_name, 0).high_watermark == 1


def test_two_batches_in_one_partition_entry_is_invalid_record(bootstrap: str, topic_name: str) -> None:
    with RawClient.connect(bootstrap) as client:
        ensure_topic(client, topic_name)
        result = produce_one(client, topic_name, batch(b"a") + batch(b"b"))
        assert result.error_code == ErrorCode.INVALID_RECORD
        assert produce_one(client, topic_name, b"").error_code == ErrorCode.INVALID_RECORD
        assert produce_one(client, topic_name, None).error_code == ErrorCode.INVALID_RECORD
        assert fetch_one(client, topic_name, 0).high_watermark == 0


@pytest.mark.parametrize("magic", [0, 1, 3])
def test_batch_magic_other_than_2_is_invalid_record(bootstrap: str, topic_name: str, magic: int) -> None:
    raw = bytearray(batch(b"x" * 100))
    raw[16] = magic  # not covered by the CRC
    with RawClient.connect(bootstrap) as client:
        ensure_topic(client, topic_name)
        assert produce_one(client, topic_name, bytes(raw)).error_code == ErrorCode.INVALID_RECORD


def test_record_structure_is_checked_before_the_crc(bootstrap: str, topic_name: str) -> None:
    """Kafka's order: exactly one v2 batch (INVALID_RECORD), then size (MESSAGE_TOO_LARGE), then CRC."""
    corrupt = bytearray(batch(b"a"))
    corrupt[-1] ^= 1
    too_large_and_corrupt = bytearray(batch(b"v" * DEFAULT_MAX_MESSAGE_BYTES))
    too_large_and_corrupt[-1] ^= 1
    with RawClient.connect(bootstrap) as client:
        ensure_topic(client, topic_name)
        two = produce_one(client, topic_name, bytes(corrupt) + batch(b"b"))
        assert two.error_code == ErrorCode.INVALID_RECORD
        big = produce_one(client, topic_name, bytes(too_large_and_corrupt))
        assert big.error_code == ErrorCode.MESSAGE_TOO_LARGE


@pytest.mark.parametrize("acks", [2, -2, 3, 100])
def test_invalid_acks_is_invalid_required_acks(bootstrap: str, topic_name: str, acks: int) -> None:
    with RawClient.connect(bootstrap) as client:
        ensure_topic(client, topic_name)
        request = produce.ProduceRequest(
            acks=acks,
            timeout_ms=1000,
            topic_data=[
                produce.TopicProduceData(
                    name=topic_name,
                    partition_data=[produce.PartitionProduceData(i, batch(b"x")) for i in (0, 1)],
                ),
                produce.TopicProduceData(
                    name="no-such-topic-acks", partition_data=[produce.PartitionProduceData(0, batch(b"y"))]
                ),
            ],
        )
        response = client.call(ApiKey.PRODUCE, PRODUCE_V, request)
        codes = [(t.name, p.index, p.error_code) for t in response.responses for p in t.partition_responses]
        # As in Kafka, partitions that do not exist are reported as such; the rest fail on acks.
        assert codes == [
            (topic_name, 0, ErrorCode.INVALID_REQUIRED_ACKS),
            (topic_name, 1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
            ("no-such-topic-acks", 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        ]
        assert fetch_one(client, topic_name, 0).high_watermark == 0


def test_produce_to_unknown_partition_or_topic(bootstrap: str, topic_name: str) -> None:
    with RawClient.connect(bootstrap) as client:
        ensure_topic(client, topic_name)
        for partition in (1, 7, -1):
            result = produce_one(client, topic_name, batch(b"x"), partition=partition)
            assert result.error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        # Produce never auto-creates.
        assert produce_one(client, topic_name + "-absent", batch(b"x")).error_code == (
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        )


INVALID_NAMES = ["", ".", "..", "bad topic", "a/b", "é", "x" * 250]


def test_invalid_topic_names_in_metadata(bootstrap: str) -> None:
    with RawClient.connect(bootstrap) as client:
        request = metadata.MetadataRequest(
            topics=[metadata.MetadataRequestTopic(name=n) for n in INVALID_NAMES],
            allow_auto_topic_creation=True,
        )
        response = client.call(ApiKey.METADATA, METADATA_V, request)
        assert [(t.name, t.error_code) for t in response.topics] == [
            (n, ErrorCode.INVALID_TOPIC_EXCEPTION) for n in INVALID_NAMES
        ]
        all_topics = client.call(ApiKey.METADATA, METADATA_V, metadata.MetadataRequest(topics=None))
        assert not {t.name for t in all_topics.topics} & set(INVALID_NAMES)


def test_invalid_topic_names_in_produce(bootstrap: str) -> None:
    # Kafka answers a Produce to a topic not in its metadata with UNKNOWN_TOPIC_OR_PARTITION before
    # looking at the name (KafkaApis.handleProduceRequest); an illegal name can never be in it.
    with RawClient.connect(bootstrap) as client:
        for name in INVALID_NAMES:
            result = produce_one(client, name, batch(b"x"))
            assert result.error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name


def test_produce_to_consumer_offsets(bootstrap: str) -> None:
    with RawClient.connect(bootstrap) as client:
        described = client.call(
            ApiKey.METADATA,
            METADATA_V,
            metadata.MetadataRequest(topics=[metadata.MetadataRequestTopic(name="__consumer_offsets")]),
        )
        exists = described.topics[0].error_code == 0
        result = produce_one(client, "__consumer_offsets", batch(b"x"))
        expected = ErrorCode.INVALID_TOPIC_EXCEPTION if exists else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        assert result.error_code == expected


def test_acks_zero_error_closes_connection(bootstrap: str, topic_name: str) -> None:
    with RawClient.connect(bootstrap) as client:
        ensure_topic(client, topic_name)
        # A good acks=0 produce gets no response; the connection stays usable.
        client.send(ApiKey.PRODUCE, PRODUCE_V, produce_request(topic_name, batch(b"ok"), acks=0))
        cid = client.send(ApiKey.API_VERSIONS, 0, api_versions.ApiVersionsRequest())
        assert client.receive(ApiKey.API_VERSIONS, 0)[0] == cid
        assert fetch_one(client, topic_name, 0).high_watermark == 1
        # A failing one closes it, so the client notices (Kafka's behaviour).
        raw = bytearray(batch(b"bad"))
        raw[-1] ^= 1
        client.send(ApiKey.PRODUCE, PRODUCE_V, produce_request(topic_name, bytes(raw), acks=0))
        assert client.closed_by_peer()


# --- fetch errors ----------------------------------------------------------------------------


def test_fetch_out_of_range(bootstrap: str, canary: Canary) -> None:
    with RawClient.connect(bootstrap) as client:
        for offset in (4, 1000, -1, -5):
            part = fetch_one(client, canary.topic, offset)
            assert part.error_code == ErrorCode.OFFSET_OUT_OF_RANGE, offset
            assert (part.high_watermark, part.log_start_offset) == (3, 0)
        assert fetch_one(client, canary.topic, 3).error_code == 0  # the log end is a valid position


def test_fetch_unknown_topic_and_partition(bootstrap: str, canary: Canary) -> None:
    with RawClient.connect(bootstrap) as client:
        assert (
            fetch_one(client, canary.topic, 0, partition=5).error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        )
        assert fetch_one(client, "no-such-topic-f", 0).error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
