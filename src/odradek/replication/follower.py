"""What a follower does with its leader's answers: one partition's fetch state, as plain code.

A broker follows each partition it replicates but does not lead. Per partition, the fetcher keeps a
`FollowedPartition`: the leader epoch it follows and a state, Kafka's:

* `TRUNCATING`: just started following this leader epoch. The next request for it is an
  OffsetForLeaderEpoch with the follower's latest epoch; `apply_epoch_end` truncates a divergent
  tail (`truncation.py`) and, once the logs agree, the partition is `FETCHING` (or it asks again).
* `FETCHING`: Fetch from its log end offset; `apply_fetched` appends the leader's batches as bytes
  (offsets, epochs and producer state as written, no record decoding; each batch's CRC checked in C),
  takes the leader's high watermark and follows the leader's log start offset (DeleteRecords).

Errors back the partition off (`replica.fetch.backoff.ms`): NOT_LEADER_OR_FOLLOWER,
FENCED_LEADER_EPOCH and UNKNOWN_LEADER_EPOCH mean the metadata moved (the fetcher manager re-assigns
the partition when the new image arrives); OFFSET_OUT_OF_RANGE below the leader's log start restarts
the log there, anything else out of range goes back to `TRUNCATING`.

Nothing here does network I/O or awaits; the shell (`broker/replica_fetcher.py`) sends the requests
and calls these with the answers. Appends and truncations are the partition log's synchronous
page-cache writes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from odradek.model.errors import ErrorCode
from odradek.protocol.primitives import ProtocolError
from odradek.protocol.records import LOG_OVERHEAD, iter_headers, validate_batches
from odradek.replication.partition import Partition
from odradek.replication.truncation import truncation_point
from odradek.storage.errors import StorageError

log = logging.getLogger("odradek.replication.follower")


class FetchState(Enum):
    TRUNCATING = "truncating"
    FETCHING = "fetching"


class Outcome(Enum):
    OK = "ok"
    BACK_OFF = "back off"
    """An error: wait `replica.fetch.backoff.ms` before asking again for this partition."""


@dataclass(slots=True)
class FollowedPartition:
    """A partition this broker follows: the leader epoch it follows and its fetch state."""

    partition: Partition
    leader_epoch: int
    """The epoch of the leader it follows: every request carries it (fencing both ways)."""
    state: FetchState = FetchState.TRUNCATING
    delayed_until_ms: int = 0
    doomed: list[Path] = field(default_factory=list)
    """Segment files a truncation renamed away, for the shell to remove off the loop."""

    @property
    def fetch_offset(self) -> int:
        return self.partition.log.log_end_offset

    def ready(self, now_ms: int) -> bool:
        return now_ms >= self.delayed_until_ms

    def back_off(self, now_ms: int, backoff_ms: int) -> Outcome:
        self.delayed_until_ms = now_ms + backoff_ms
        return Outcome.BACK_OFF

    # --- TRUNCATING ------------------------------------------------------------------------------
    def epoch_to_ask(self) -> int:
        """The epoch OffsetForLeaderEpoch asks about: the follower's latest."""
        return self.partition.log.latest_epoch

    def skip_truncation(self) -> bool:
        """A log without any epoch (empty, or never written with one) has nothing to compare."""
        return self.partition.log.latest_epoch < 0 and self.partition.log.log_end_offset == 0

    def apply_epoch_end(
        self, error: int, leader_epoch: int, end_offset: int, now_ms: int, backoff_ms: int
    ) -> Outcome:
        """The leader's OffsetForLeaderEpoch answer for this partition."""
        if error != ErrorCode.NO_ERROR:
            return self.back_off(now_ms, backoff_ms)
        log_ = self.partition.log
        leo = log_.log_end_offset
        if log_.latest_epoch < 0:  # data without epochs: Kafka's fallback
            cut, complete = log_.high_watermark, True
        else:
            cut, complete = truncation_point(
                leader_epoch, end_offset, leo, log_.high_watermark, log_.end_offset_for_epoch
            )
        if cut < leo:
            log.warning(
                "%s: follower log diverges from leader epoch %d: truncating %d..%d (log end offset) to %d",
                self.partition.tp,
                self.leader_epoch,
                cut,
                leo,
                cut,
            )
            self.doomed += self.partition.truncate_to(cut, now_ms)
        if complete:
            self.state = FetchState.FETCHING
        return Outcome.OK

    # --- FETCHING --------------------------------------------------------------------------------
    def apply_fetched(
        self,
        error: int,
        records: bytes | bytearray | memoryview | None,
        high_watermark: int,
        log_start_offset: int,
        now_ms: int,
        backoff_ms: int,
    ) -> Outcome:
        """The leader's Fetch answer for this partition: append, then take its high watermark."""
        partition = self.partition
        if error == ErrorCode.OFFSET_OUT_OF_RANGE:
            if 0 <= self.fetch_offset < log_start_offset:
                log.warning(
                    "%s: follower at %d is behind the leader's log start %d: restarting its log there",
                    partition.tp,
                    self.fetch_offset,
                    log_start_offset,
                )
                self.doomed += partition.truncate_fully_and_start_at(log_start_offset, now_ms)
                return Outcome.OK
            self.state = FetchState.TRUNCATING
            return self.back_off(now_ms, backoff_ms)
        if error != ErrorCode.NO_ERROR:
            return self.back_off(now_ms, backoff_ms)
        if records:
            view = memoryview(records)
            end = whole_batches_end(view)
            if end:
                try:
                    batch = view[:end]  # written as it is: no copy, no restamp
                    headers = validate_batches(batch)
                    partition.append_as_follower(batch, headers, now_ms)
                except (ProtocolError, StorageError) as exc:
                    log.warning("%s: cannot append the leader's batches: %s", partition.tp, exc)
                    self.state = FetchState.TRUNCATING
                    return self.back_off(now_ms, backoff_ms)
        partition.update_follower_high_watermark(high_watermark)
        log_ = partition.log
        if log_.log_start_offset < log_start_offset <= log_.high_watermark:
            # the leader's log start moved (retention, DeleteRecords): so does the follower's
            self.doomed += log_.delete_records_before(log_start_offset, now_ms)
        return Outcome.OK


def whole_batches_end(buf: memoryview) -> int:
    """The length of the whole batches at the start of `buf` (a leader may cut the last one)."""
    end = 0
    for pos, header in iter_headers(buf):
        end = pos + header.batch_length + LOG_OVERHEAD
    return end
