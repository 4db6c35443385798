"""Batches whose header lies about their records, sent over loopback to a real broker and read back
with librdkafka (confluent-kafka): one test per header field odradek relies on (the decision table
is in protocol/batch_validation.py). No real client writes these batches, so they are built with
the project's record builder and made to lie with `with_header` (CRC recomputed).

Also the version gates of the same kind: zstd below Produce v7, zstd data to Fetch below v10,
transactional batches without a transactional.id.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator

import pytest
from compat_clients import consume_confluent
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

from odradek.model.errors import ErrorCode
from odradek.protocol import compression
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.batch_validation import INVALID_TIMESTAMP_MESSAGE
from odradek.protocol.messages import init_producer_id
from odradek.protocol.records import (
    DELETE_HORIZON_BIT,
    TIMESTAMP_TYPE_BIT,
    TRANSACTIONAL_BIT,
    BatchSpec,
    build_batch,
    iter_headers,
    validate_batches,
)
from odradek.testing.broker_process import BrokerProcess
from odradek.testing.lying_batches import fetch_raw, produce_raw, with_header
from odradek.testing.raw_client import RawClient

pytestmark = pytest.mark.compat

T0 = int(time.time() * 1000) - 60_000


@pytest.fixture(scope="module")
def trust_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess(tmp_path_factory.mktemp("trust"), {"odradek.metrics.port": "0"}) as proc:
        yield proc


@pytest.fixture(scope="module")
def bootstrap_m(trust_broker: BrokerProcess) -> str:
    return trust_broker.bootstrap


@pytest.fixture
def topic(bootstrap_m: str, topic_name: str) -> str:
    """A fresh one-partition topic on the module's broker."""
    create(bootstrap_m, topic_name)
    return topic_name


def records(*timestamps: int) -> list[tuple[bytes | None, bytes | None, list[tuple[str, bytes | None]], int]]:
    return [(f"k{i}".encode(), f"v{i}".encode(), [("h", b"x")], ts) for i, ts in enumerate(timestamps)]


def create(bootstrap: str, topic: str, **configs: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    [future] = admin.create_topics([NewTopic(topic, 1, 1, config=configs)]).values()
    future.result(30)


def offset_for_time(bootstrap: str, topic: str, timestamp: int) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "times"})
    try:
        [found] = consumer.offsets_for_times([TopicPartition(topic, 0, timestamp)], timeout=20)
        assert found.error is None
        return int(found.offset)
    finally:
        consumer.close()


def max_timestamp_offset(bootstrap: str, topic: str) -> int:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    tp = TopicPartition(topic, 0)
    [future] = admin.list_offsets({tp: OffsetSpec.max_timestamp()}).values()
    return int(future.result(30).offset)


def stored(bootstrap: str, topic: str) -> list[tuple[int, int, int, int]]:
    """(base offset, attributes, base timestamp, max timestamp) of each stored batch (CRCs checked)."""
    error, data = fetch_raw(bootstrap, topic)
    assert error == 0
    if data:
        validate_batches(data)
    return [(h.base_offset, h.attributes, h.base_timestamp, h.max_timestamp) for _, h in iter_headers(data)]


def rewritten(broker: BrokerProcess, field: str) -> float:
    assert broker.metrics_port is not None
    url = f"http://127.0.0.1:{broker.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    prefix = f'odradek_batches_rewritten_total{{field="{field}"}} '
    return sum(float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix))


def ok(answer: object) -> int:
    assert getattr(answer, "error_code", None) == 0, answer
    return int(answer.base_offset)  # type: ignore[attr-defined]


# --- maxTimestamp: the sarama defect -----------------------------------------------------------


def test_max_timestamp_minus_one_is_recomputed_and_every_reader_finds_the_records(
    trust_broker: BrokerProcess, topic: str
) -> None:
    bootstrap = trust_broker.bootstrap
    before = rewritten(trust_broker, "max_timestamp")
    batch = with_header(build_batch(records(T0, T0 + 10, T0 + 20)), max_timestamp=-1)  # as sarama 1.22
    assert ok(produce_raw(bootstrap, topic, batch, version=3)) == 0
    assert stored(bootstrap, topic) == [(0, 0, T0, T0 + 20)]
    assert offset_for_time(bootstrap, topic, T0 - 1) == 0  # was -1 when the header was trusted
    assert offset_for_time(bootstrap, topic, T0 + 5) == 1
    assert offset_for_time(bootstrap, topic, T0 + 20) == 2
    assert offset_for_time(bootstrap, topic, T0 + 21) == -1
    assert max_timestamp_offset(bootstrap, topic) == 2
    assert [r.timestamp for r in consume_confluent(bootstrap, topic, 3)] == [T0, T0 + 10, T0 + 20]
    assert rewritten(trust_broker, "max_timestamp") == before + 1


@pytest.mark.parametrize("codec", sorted(compression.NAMES.values()))
def test_max_timestamp_below_the_first_is_recomputed_in_every_codec(
    bootstrap_m: str, topic: str, codec: str
) -> None:
    spec = BatchSpec(compression=compression.BY_NAME[codec])
    batch = with_header(build_batch(records(T0 + 5, T0, T0 + 9), spec), max_timestamp=T0 - 100)
    ok(produce_raw(bootstrap_m, topic, batch))
    assert [h[3] for h in stored(bootstrap_m, topic)] == [T0 + 9]
    assert offset_for_time(bootstrap_m, topic, T0 + 6) == 2
    assert [r.timestamp for r in consume_confluent(bootstrap_m, topic, 3)] == [T0 + 5, T0, T0 + 9]


def test_a_max_timestamp_lying_into_the_future_no_longer_refuses_in_bounds_records(
    bootstrap_m: str, topic: str
) -> None:
    batch = with_header(build_batch(records(T0, T0 + 1)), max_timestamp=T0 + 10 * 3_600_000)
    ok(produce_raw(bootstrap_m, topic, batch))
    assert [h[3] for h in stored(bootstrap_m, topic)] == [T0 + 1]
    assert max_timestamp_offset(bootstrap_m, topic) == 1


def test_known_gap_an_understated_plausible_max_timestamp_is_trusted(bootstrap_m: str, topic: str) -> None:
    liar = with_header(build_batch(records(T0, T0 + 50)), max_timestamp=T0 + 10)
    ok(produce_raw(bootstrap_m, topic, liar))
    ok(produce_raw(bootstrap_m, topic, build_batch(records(T0 + 60))))
    assert [h[3] for h in stored(bootstrap_m, topic)] == [T0 + 10, T0 + 60]
    # The record at T0 + 50 is behind the claimed maximum: a lookup for T0 + 20 lands on the next batch.
    assert offset_for_time(bootstrap_m, topic, T0 + 20) == 2
    assert offset_for_time(bootstrap_m, topic, T0 + 5) == 1


# --- baseTimestamp and the bounds ---------------------------------------------------------------


def test_records_out_of_bounds_are_named_one_by_one(bootstrap_m: str, topic_name: str) -> None:
    create(bootstrap_m, topic_name, **{"message.timestamp.before.max.ms": "3600000"})
    now = int(time.time() * 1000)
    batch = build_batch(records(now, now - 2 * 3_600_000, now, now - 3 * 3_600_000))
    answer = produce_raw(bootstrap_m, topic_name, batch)
    assert (answer.error_code, answer.error_message) == (
        ErrorCode.INVALID_TIMESTAMP,
        INVALID_TIMESTAMP_MESSAGE,
    )
    assert [e.batch_index for e in answer.record_errors] == [1, 3]
    assert stored(bootstrap_m, topic_name) == []


# --- recordsCount and lastOffsetDelta -------------------------------------------------------------


def test_record_count_lies_are_refused_and_nothing_is_stored(bootstrap_m: str, topic: str) -> None:
    honest = build_batch(records(T0, T0 + 1, T0 + 2))
    for lie in ({"record_count": 5}, {"last_offset_delta": 7}, {"record_count": 0, "last_offset_delta": -1}):
        answer = produce_raw(bootstrap_m, topic, with_header(honest, **lie))
        assert answer.error_code in (ErrorCode.INVALID_RECORD, ErrorCode.CORRUPT_MESSAGE), lie
    one = with_header(honest, record_count=1, last_offset_delta=0)
    assert produce_raw(bootstrap_m, topic, one).error_code == ErrorCode.CORRUPT_MESSAGE
    assert stored(bootstrap_m, topic) == []
    assert ok(produce_raw(bootstrap_m, topic, honest)) == 0
    assert [r.offset for r in consume_confluent(bootstrap_m, topic, 3)] == [0, 1, 2]


def test_known_gap_an_overstated_multi_record_count_leaves_an_offset_gap(
    bootstrap_m: str, topic: str
) -> None:
    liar = with_header(build_batch(records(T0, T0 + 1, T0 + 2)), record_count=5, last_offset_delta=4)
    assert ok(produce_raw(bootstrap_m, topic, liar)) == 0
    assert ok(produce_raw(bootstrap_m, topic, build_batch(records(T0 + 3)))) == 5
    # librdkafka reads the three records there are, then the next batch: offsets 3 and 4 are a gap.
    assert [r.offset for r in consume_confluent(bootstrap_m, topic, 4)] == [0, 1, 2, 5]


# --- attributes --------------------------------------------------------------------------------


def test_codec_lies_are_refused(bootstrap_m: str, topic: str) -> None:
    unknown = with_header(build_batch(records(T0)), attributes=5)
    assert produce_raw(bootstrap_m, topic, unknown).error_code == ErrorCode.INVALID_RECORD
    gzip_body = build_batch(records(T0, T0), BatchSpec(compression=compression.GZIP))
    for codec in (compression.LZ4, compression.ZSTD):
        answer = produce_raw(bootstrap_m, topic, with_header(gzip_body, attributes=codec))
        assert answer.error_code == ErrorCode.CORRUPT_MESSAGE
    assert stored(bootstrap_m, topic) == []


def test_log_append_time_from_a_producer(trust_broker: BrokerProcess, topic: str) -> None:
    bootstrap = trust_broker.bootstrap
    before = rewritten(trust_broker, "timestamp_type")
    lat = build_batch(records(T0, T0 + 3), BatchSpec(log_append_time=True))
    # CreateTime topic: kept as CreateTime, the records' own timestamps count.
    ok(produce_raw(bootstrap, topic, with_header(lat, max_timestamp=T0 + 999)))
    assert stored(bootstrap, topic) == [(0, 0, T0, T0 + 3)]
    assert [r.timestamp for r in consume_confluent(bootstrap, topic, 2)] == [T0, T0 + 3]
    assert rewritten(trust_broker, "timestamp_type") == before + 1
    refused = produce_raw(bootstrap, topic, with_header(lat, max_timestamp=-1))
    assert refused.error_code == ErrorCode.INVALID_TIMESTAMP
    stamped = f"{topic}-lat"
    create(bootstrap, stamped, **{"message.timestamp.type": "LogAppendTime"})
    answer = produce_raw(bootstrap, stamped, lat)
    assert answer.error_code == ErrorCode.INVALID_TIMESTAMP
    assert [e.batch_index for e in answer.record_errors] == [0, 1]


def test_a_producer_set_delete_horizon_is_cleared(trust_broker: BrokerProcess, topic: str) -> None:
    before = rewritten(trust_broker, "delete_horizon")
    batch = with_header(build_batch(records(T0)), attributes=DELETE_HORIZON_BIT)
    ok(produce_raw(trust_broker.bootstrap, topic, batch))
    assert stored(trust_broker.bootstrap, topic) == [(0, 0, T0, T0)]
    assert rewritten(trust_broker, "delete_horizon") == before + 1


def test_unused_attribute_bits_base_offset_and_epoch_are_no_lie_that_matters(
    bootstrap_m: str, topic: str
) -> None:
    batch = with_header(build_batch(records(T0, T0 + 1)), attributes=0x0180, base_offset=1000)
    raw = bytearray(batch)
    raw[12:16] = (77).to_bytes(4, "big")  # partitionLeaderEpoch, outside the CRC
    assert ok(produce_raw(bootstrap_m, topic, bytes(raw))) == 0
    [(base, attributes, _, _)] = stored(bootstrap_m, topic)
    assert (base, attributes) == (0, 0x0180)
    assert [(r.offset, r.value) for r in consume_confluent(bootstrap_m, topic, 2)] == [
        (0, b"v0"),
        (1, b"v1"),
    ]


# --- producer fields and transactional gates -------------------------------------------------------


def test_producer_field_lies_are_refused(bootstrap_m: str, topic: str) -> None:
    no_sequence = build_batch(records(T0), BatchSpec(producer_id=3, producer_epoch=0, base_sequence=-1))
    assert produce_raw(bootstrap_m, topic, no_sequence).error_code == ErrorCode.INVALID_RECORD
    orphan = with_header(build_batch(records(T0)), attributes=TRANSACTIONAL_BIT)
    assert (
        produce_raw(bootstrap_m, topic, orphan, transactional_id="t").error_code == ErrorCode.INVALID_RECORD
    )
    txn = build_batch(
        records(T0), BatchSpec(producer_id=3, producer_epoch=0, base_sequence=0, is_transactional=True)
    )
    for version in (3, 9, 11):
        answer = produce_raw(bootstrap_m, topic, txn, version=version)
        assert answer.error_code == ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, version
    assert stored(bootstrap_m, topic) == []


def test_producer_epoch_and_sequence_lies_meet_the_producer_state(bootstrap_m: str, topic: str) -> None:
    with RawClient.connect(bootstrap_m) as client:
        init = client.call(ApiKey.INIT_PRODUCER_ID, 4, init_producer_id.InitProducerIdRequest(None, 60_000))
    pid, epoch = init.producer_id, init.producer_epoch

    def idempotent(epoch: int, sequence: int) -> bytes:
        return build_batch(
            records(T0), BatchSpec(producer_id=pid, producer_epoch=epoch, base_sequence=sequence)
        )

    assert ok(produce_raw(bootstrap_m, topic, idempotent(epoch, 0))) == 0
    gap = produce_raw(bootstrap_m, topic, idempotent(epoch, 5))
    assert gap.error_code == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert ok(produce_raw(bootstrap_m, topic, idempotent(epoch, 0))) == 0  # a retry: its original offset
    assert ok(produce_raw(bootstrap_m, topic, idempotent(epoch + 1, 0))) == 1
    fenced = produce_raw(bootstrap_m, topic, idempotent(epoch, 1))
    assert fenced.error_code == ErrorCode.INVALID_PRODUCER_EPOCH
    assert [r.offset for r in consume_confluent(bootstrap_m, topic, 2)] == [0, 1]


# --- version gates -------------------------------------------------------------------------------


def test_zstd_needs_produce_v7(bootstrap_m: str, topic: str) -> None:
    zstd = build_batch(records(T0, T0 + 1), BatchSpec(compression=compression.ZSTD))
    for version in (3, 4, 5, 6):
        answer = produce_raw(bootstrap_m, topic, zstd, version=version)
        assert answer.error_code == ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, version
        assert answer.base_offset == -1
    assert stored(bootstrap_m, topic) == []
    lz4 = build_batch(records(T0), BatchSpec(compression=compression.LZ4))
    assert ok(produce_raw(bootstrap_m, topic, lz4, version=3)) == 0
    assert ok(produce_raw(bootstrap_m, topic, zstd, version=7)) == 1
    assert len(consume_confluent(bootstrap_m, topic, 3)) == 3


def test_fetch_below_v10_gets_no_zstd_data(bootstrap_m: str, topic: str) -> None:
    lz4 = build_batch(records(T0, T0), BatchSpec(compression=compression.LZ4))
    zstd = build_batch(records(T0, T0), BatchSpec(compression=compression.ZSTD))
    ok(produce_raw(bootstrap_m, topic, lz4))
    ok(produce_raw(bootstrap_m, topic, zstd))
    for version in (4, 9):
        error, data = fetch_raw(bootstrap_m, topic, version=version)
        assert error == 0
        assert [h.compression for _, h in iter_headers(data)] == [compression.LZ4]
        error, data = fetch_raw(bootstrap_m, topic, version=version, offset=2)
        assert (error, data) == (ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, b"")
    error, data = fetch_raw(bootstrap_m, topic, version=10)
    assert [h.compression for _, h in iter_headers(data)] == [compression.LZ4, compression.ZSTD]


def test_fetch_below_v10_of_a_zstd_topic_is_refused_as_kafka_does(bootstrap_m: str, topic_name: str) -> None:
    create(bootstrap_m, topic_name, **{"compression.type": "zstd"})
    ok(produce_raw(bootstrap_m, topic_name, build_batch(records(T0))))  # stored as produced
    assert fetch_raw(bootstrap_m, topic_name, version=9) == (ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, b"")
    assert fetch_raw(bootstrap_m, topic_name, version=10)[0] == 0


def test_attribute_bits_survive_as_the_reader_sees_them(bootstrap_m: str, topic: str) -> None:
    # the timestamp-type bit of a LogAppendTime topic is the broker's, set at append
    stamped = f"{topic}-lat"
    create(bootstrap_m, stamped, **{"message.timestamp.type": "LogAppendTime"})
    ok(produce_raw(bootstrap_m, stamped, build_batch(records(T0))))
    [(_, attributes, _, max_ts)] = stored(bootstrap_m, stamped)
    assert attributes & TIMESTAMP_TYPE_BIT and max_ts >= T0
