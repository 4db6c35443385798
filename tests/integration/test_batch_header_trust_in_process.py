"""Time-based retention of batches whose header has no max timestamp (Debian's sarama writes -1),
through the Produce handler of an in-process broker on a fake clock.

Retention judges a segment by its largest timestamp, taken from the batch headers. Trusted as
sent, a header with maxTimestamp -1 made a segment of fresh records look 56 years old, and the
first retention pass deleted it; the broker now recomputes the maximum before the append.
"""

from __future__ import annotations

from pathlib import Path

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import produce
from odradek.protocol.records import build_batch
from odradek.testing.clock import FakeClock
from odradek.testing.in_process import InProcessBroker
from odradek.testing.lying_batches import with_header

NOW = 1_700_000_000_000
HOUR = 3_600_000


def produce_without_max_timestamp(broker: InProcessBroker, topic: str, *timestamps: int) -> None:
    batch = with_header(build_batch([(b"k", b"v", [], ts) for ts in timestamps]), max_timestamp=-1)
    data = produce.TopicProduceData(name=topic, partition_data=[produce.PartitionProduceData(0, batch)])
    request = produce.ProduceRequest(acks=-1, timeout_ms=1000, topic_data=[data])
    [[part]] = [t.partition_responses for t in broker.connect().call(ApiKey.PRODUCE, 3, request).responses]
    assert part.error_code == ErrorCode.NO_ERROR


def test_retention_keeps_fresh_records_and_drops_old_ones_whatever_the_header_said(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path, clock=FakeClock(NOW)) as b:
        for topic in ("fresh", "old"):
            b.create_topic(topic, **{"retention.ms": str(HOUR)})
        produce_without_max_timestamp(b, "fresh", NOW - 10, NOW - 5)
        produce_without_max_timestamp(b, "old", NOW - 3 * HOUR, NOW - 2 * HOUR)
        logs = {topic: b.broker.partitions.get(topic, 0) for topic in ("fresh", "old")}
        for partition in logs.values():
            assert partition is not None
            partition.log.roll(NOW)  # retention never deletes the active segment
        b.broker.logs.run_retention(NOW + 1000)
        starts = {topic: p.log.log_start_offset for topic, p in logs.items() if p is not None}
        assert starts == {"fresh": 0, "old": 2}
