"""Where a follower's log stops agreeing with its leader's (KIP-101, KIP-279), as a pure rule.

Before a follower fetches from a new leader (or the same leader in a new epoch) it asks the leader,
with OffsetForLeaderEpoch, where the follower's latest epoch ends on the leader's log. The answer is
the largest epoch the leader knows at or below it and that epoch's end offset there (the start of the
leader's next epoch, or the leader's log end offset for its current one). Everything the follower
holds past that point was written by a leader whose data did not survive (a divergent tail that
was never committed): it is truncated, and fetching resumes from there. The high watermark plays no
part, except in Kafka's fallbacks when the leader knows no epoch at all that old.

The rule (Kafka's `getOffsetTruncationState`), with the follower's log end offset `LEO`:

* the leader answered no end offset (it knows no epoch <= ours, e.g. retention removed them):
  truncate to the follower's high watermark;
* the leader answered an end offset without an epoch: truncate to min(that offset, LEO);
* the follower knows the leader's epoch E: truncate to min(E's end on the leader, E's end on the
  follower, LEO); done;
* the follower's largest epoch at or below E is older than E (it never saw E): truncate to that
  epoch's end on the follower and ask again with it (`complete` False);
* the follower knows no epoch at or below E: truncate to min(the leader's end offset, LEO).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

UNDEFINED = -1


class Truncation(NamedTuple):
    offset: int
    """Truncate the follower's log here (nothing happens when it is at or past the log end)."""
    complete: bool
    """False: ask the leader again, with the follower's latest epoch after this truncation."""


def truncation_point(
    leader_epoch: int,
    leader_end_offset: int,
    log_end_offset: int,
    high_watermark: int,
    local_end_offset_for_epoch: Callable[[int], tuple[int, int]],
) -> Truncation:
    """`leader_epoch`, `leader_end_offset`: the leader's OffsetForLeaderEpoch answer;
    `local_end_offset_for_epoch(e)`: the follower's own (largest epoch <= e, its end offset)."""
    if leader_end_offset == UNDEFINED:
        return Truncation(min(high_watermark, log_end_offset), True)
    if leader_epoch == UNDEFINED:
        return Truncation(min(leader_end_offset, log_end_offset), True)
    follower_epoch, follower_end = local_end_offset_for_epoch(leader_epoch)
    if follower_epoch == UNDEFINED:
        return Truncation(min(leader_end_offset, log_end_offset), True)
    if follower_epoch != leader_epoch:
        return Truncation(min(follower_end, log_end_offset), False)
    return Truncation(min(leader_end_offset, follower_end, log_end_offset), True)
