"""A PartitionLog reloaded after a crash or a clean shutdown has the producer state, last stable
offset and aborted-transaction index it had live.

Random steps over a real log on disk: idempotent and transactional batches from a few producers,
retries of recent batches (answered as duplicates), COMMIT/ABORT markers, segment rolls (each one a
snapshot), then a reload — clean (snapshot at the log end) or unclean (newest roll snapshot plus a
replay of the headers after it, with the `.txnindex` files of the replayed segments deleted).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import CONTROL_ABORT, CONTROL_COMMIT, BatchSpec, build_batch, validate_batches
from odradek.storage.log_config import LogConfig
from odradek.storage.partition_log import PartitionLog
from odradek.storage.producer_snapshot import list_snapshots
from odradek.storage.producer_state import EndTxnMarker

NOW = 1_700_000_000_000
PRODUCERS = (7, 8, 9)
TP = TopicPartition("p", 0)
TOPIC_ID = uuid.UUID(int=7)

step = st.one_of(
    st.tuples(st.just("data"), st.sampled_from(PRODUCERS), st.integers(1, 4), st.booleans()),
    st.tuples(st.just("retry"), st.sampled_from(PRODUCERS)),
    st.tuples(st.just("end"), st.sampled_from(PRODUCERS), st.booleans()),
    st.tuples(
        st.just("roll"),
    ),
)


def fingerprint(log: PartitionLog) -> tuple[object, ...]:
    producers = sorted(
        (e.producer_id, e.producer_epoch, e.last_seq, e.last_data_offset, e.current_txn_first_offset)
        for e in log.producer_state
    )
    aborted = log.aborted_transactions(0, log.log_end_offset + 1)
    return (
        producers,
        log.last_stable_offset,
        [(a.producer_id, a.first_offset, a.last_offset) for a in aborted],
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=30), clean=st.booleans())
def test_reloaded_log_has_the_live_producer_state(steps: list[tuple[object, ...]], clean: bool) -> None:
    with TemporaryDirectory() as tmp:
        directory = Path(tmp) / "p-0"
        log = PartitionLog.create(directory, TP, TOPIC_ID, LogConfig(), now_ms=NOW)
        next_seq = dict.fromkeys(PRODUCERS, 0)
        in_txn = dict.fromkeys(PRODUCERS, False)
        last: dict[int, bytes] = {}

        def append(raw: bytes) -> None:
            buf = bytearray(raw)
            log.append(buf, validate_batches(buf), 0, NOW)
            log.high_watermark = log.log_end_offset

        for s in steps:
            kind = s[0]
            if kind == "data":
                _, pid, count, txn = s
                assert isinstance(pid, int) and isinstance(count, int)
                transactional = bool(txn) or in_txn[pid]
                spec = BatchSpec(
                    producer_id=pid,
                    producer_epoch=0,
                    base_sequence=next_seq[pid],
                    is_transactional=transactional,
                )
                raw = build_batch([(None, b"v", [], NOW + i) for i in range(count)], spec)
                append(raw)
                next_seq[pid] += count
                in_txn[pid] = transactional
                last[pid] = raw
            elif kind == "retry":
                pid = s[1]
                assert isinstance(pid, int)
                if pid in last:
                    end = log.log_end_offset
                    append(last[pid])
                    assert log.log_end_offset == end  # a duplicate writes nothing
            elif kind == "end":
                _, pid, commit = s
                assert isinstance(pid, int)
                if in_txn[pid]:
                    marker = EndTxnMarker(CONTROL_COMMIT if commit else CONTROL_ABORT, 0)
                    log.append_marker(pid, 0, marker, 0, NOW)
                    log.high_watermark = log.log_end_offset
                    in_txn[pid] = False
            else:
                log.roll(NOW)
        live = fingerprint(log)
        if clean:
            log.close(flush=True)
        else:
            log.flush()
            log.close()
            # a crash loses what was written after the newest snapshot: its .txnindex entries too
            # (older segments were fsynced, and their indexes with them)
            newest = max(list_snapshots(directory), default=0)
            for name in os.listdir(directory):
                if name.endswith(".txnindex") and int(name.split(".")[0]) >= newest:
                    os.unlink(directory / name)
        reloaded = PartitionLog.load(
            directory,
            TP,
            LogConfig(),
            recovery_point=0,
            log_start_offset=0,
            high_watermark=log.log_end_offset,
            clean=clean,
            now_ms=NOW,
        )
        try:
            assert fingerprint(reloaded) == live
        finally:
            reloaded.close()
