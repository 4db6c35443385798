"""Producer state rebuilt from a snapshot plus replayed batch headers equals the live state.

Random interleavings of idempotent and transactional batches from a few producers, client retries
(duplicates), COMMIT/ABORT markers with and without epoch bumps (KIP-890), snapshots taken at
arbitrary points; then recovery from the newest snapshot and the whole log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from odradek.protocol.records import (
    CONTROL_ABORT,
    CONTROL_BIT,
    CONTROL_COMMIT,
    HEADER_SIZE,
    LOG_OVERHEAD,
    MAGIC_V2,
    TRANSACTIONAL_BIT,
    BatchHeader,
)
from odradek.storage.producer_snapshot import decode_snapshot, encode_snapshot, rebuild
from odradek.storage.producer_state import (
    MAX_SEQUENCE,
    CompletedTxn,
    EndTxnMarker,
    ProducerStateManager,
    VerdictKind,
)

TS = 1_700_000_000_000
PRODUCERS = (11, 12, 13)


def header(pid: int, epoch: int, seq: int, count: int, attributes: int, ts: int) -> BatchHeader:
    size = HEADER_SIZE - LOG_OVERHEAD
    return BatchHeader(0, size, 0, MAGIC_V2, 0, attributes, count - 1, ts, ts, pid, epoch, seq, count)


@dataclass
class Client:
    epoch: int = 0
    next_seq: int = 0
    in_txn: bool = False
    sent: list[BatchHeader] = field(default_factory=list)  # this epoch's batches, for retries


ops = st.lists(
    st.one_of(
        st.tuples(st.just("data"), st.sampled_from(PRODUCERS), st.integers(1, 4), st.booleans()),
        st.tuples(st.just("retry"), st.sampled_from(PRODUCERS), st.integers(1, 5), st.just(False)),
        st.tuples(st.just("end"), st.sampled_from(PRODUCERS), st.booleans(), st.booleans()),
        st.tuples(st.just("snapshot"), st.just(PRODUCERS[0]), st.just(0), st.just(False)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(ops=ops, start_seq=st.sampled_from([0, MAX_SEQUENCE - 2]))
def test_snapshot_plus_replay_equals_live_state(ops, start_seq):  # type: ignore[no-untyped-def]
    live = ProducerStateManager()
    clients = {pid: Client(next_seq=start_seq) for pid in PRODUCERS}
    log: list[tuple[BatchHeader, EndTxnMarker | None]] = []
    completions: list[CompletedTxn] = []
    snapshot: tuple[int, bytes] | None = None
    leo = coordinator_epoch = 0
    ts = TS
    for kind, pid, a, b in ops:
        ts += 1
        client = clients[pid]
        if kind == "data":
            transactional = client.in_txn or b
            h = header(pid, client.epoch, client.next_seq, a, TRANSACTIONAL_BIT if transactional else 0, ts)
            verdict = live.check_and_prepare([h])
            assert verdict.kind is VerdictKind.ACCEPT, verdict
            live.on_append(h, leo)
            log.append((h._replace(base_offset=leo), None))
            leo += a
            client.next_seq = (client.next_seq + a) & MAX_SEQUENCE
            client.in_txn = transactional
            client.sent = [*client.sent[-4:], h]
        elif kind == "retry" and client.sent:
            original = client.sent[-min(a, len(client.sent))]
            verdict = live.check_and_prepare([original])
            assert verdict.kind is VerdictKind.DUPLICATE and verdict.duplicate is not None
            assert verdict.duplicate.first_seq == original.base_sequence
        elif kind == "end":
            epoch = client.epoch + 1 if b else client.epoch
            if pid not in live.producers:  # a marker makes it known: its first batch must then be 0
                client.next_seq = 0
            coordinator_epoch += b  # coordinator failovers happen now and then
            marker = EndTxnMarker(CONTROL_COMMIT if a else CONTROL_ABORT, coordinator_epoch)
            assert live.check_marker(pid, epoch, marker).kind is VerdictKind.ACCEPT
            h = header(pid, epoch, -1, 1, TRANSACTIONAL_BIT | CONTROL_BIT, ts)
            done = live.on_append(h, leo, marker)
            assert (done is not None) == client.in_txn
            if done is not None:
                completions.append(done)
            log.append((h._replace(base_offset=leo), marker))
            leo += 1
            client.in_txn = False
            if b:
                client.epoch, client.next_seq, client.sent = epoch, 0, []
        elif kind == "snapshot":
            snapshot = (live.map_end_offset, encode_snapshot(live.producers.values()))

    recovered = ProducerStateManager()
    loaded = None if snapshot is None else (snapshot[0], decode_snapshot(snapshot[1]))
    replayed = rebuild(recovered, loaded, log, log_start_offset=0, now_ms=ts)

    start = 0 if snapshot is None else snapshot[0]
    assert replayed == [c for c in completions if c.last_offset >= start]
    assert encode_snapshot(recovered.producers.values()) == encode_snapshot(live.producers.values())
    assert recovered.ongoing_transactions() == live.ongoing_transactions()
    assert recovered.map_end_offset == live.map_end_offset == leo
    assert recovered.first_undecided_offset() == live.first_undecided_offset()
    assert recovered.last_stable_offset(leo) == live.last_stable_offset(leo)
    if start == 0:  # a snapshot does not hold completed-but-unreplicated transactions (nor does Kafka's)
        for hw in (0, leo // 2):
            assert recovered.last_stable_offset(hw) == live.last_stable_offset(hw)

    def fields(state: ProducerStateManager) -> dict[int, tuple[int, ...]]:
        return {
            e.producer_id: (
                e.producer_epoch,
                e.coordinator_epoch,
                e.last_timestamp,
                e.current_txn_first_offset,
                e.last_seq,
                e.last_data_offset,
            )
            for e in state.producers.values()
        }

    assert fields(recovered) == fields(live)
    for pid, entry in live.producers.items():
        kept = [(m.last_seq, m.last_offset, m.offset_delta) for m in recovered.producers[pid].batches]
        every = [(m.last_seq, m.last_offset, m.offset_delta) for m in entry.batches]
        tail = every[len(every) - len(kept) :]
        assert kept == tail  # recovery may know fewer recent batches, never different ones
