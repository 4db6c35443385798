"""Test helpers: batch headers and a minimal append path around ProducerStateManager."""

from __future__ import annotations

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
from odradek.storage.producer_state import (
    AppendOrigin,
    CompletedTxn,
    EndTxnMarker,
    ProducerStateManager,
    Verdict,
)

TS = 1_700_000_000_000


def batch(
    pid: int, epoch: int, seq: int, count: int = 1, *, txn: bool = False, ts: int = TS, control: bool = False
) -> BatchHeader:
    attributes = (TRANSACTIONAL_BIT if txn or control else 0) | (CONTROL_BIT if control else 0)
    return BatchHeader(
        0, HEADER_SIZE - LOG_OVERHEAD, -1, MAGIC_V2, 0, attributes, count - 1, ts, ts, pid, epoch, seq, count
    )


def marker_batch(pid: int, epoch: int, ts: int = TS) -> BatchHeader:
    return batch(pid, epoch, -1, control=True, ts=ts)


class Log:
    """Drives a ProducerStateManager the way the append path will: check, then write, then record."""

    def __init__(self, state: ProducerStateManager | None = None) -> None:
        self.state = state or ProducerStateManager()
        self.leo = 0

    def produce(
        self, *headers: BatchHeader, origin: AppendOrigin = AppendOrigin.CLIENT
    ) -> tuple[Verdict, int | None]:
        verdict = self.state.check_and_prepare(headers, origin)
        if verdict.accepted:
            first = self.leo
            self.state.on_append_all(headers, first)
            self.leo += sum(h.last_offset_delta + 1 for h in headers)
            return verdict, first
        return verdict, None

    def marker(self, pid: int, epoch: int, commit: bool, coordinator_epoch: int = 0) -> CompletedTxn | None:
        m = EndTxnMarker(CONTROL_COMMIT if commit else CONTROL_ABORT, coordinator_epoch)
        assert self.state.check_marker(pid, epoch, m).accepted
        done = self.state.on_append(marker_batch(pid, epoch), self.leo, m)
        self.leo += 1
        return done
