"""Where the replicas of new partitions go, and checks of hand-written assignments.

Automatic placement follows Kafka's rack-unaware assignment over the live brokers sorted by id:

* the first replica (the preferred leader) of partition p is broker `(p + start) mod n`, so leaders
  go round-robin and every broker leads about the same number of partitions;
* follower j of p sits `1 + (shift + j) mod (n - 1)` positions after the leader, where `shift`
  grows by one each time p passes a multiple of n, so the followers of a broker's partitions are
  spread over the other brokers instead of always being its neighbours.

Within each run of n consecutive partitions every broker holds exactly one replica per replica slot,
so replica counts per broker differ by at most the replication factor (and leader counts by one).
A new topic draws `start` and `shift` from the `random.Random` it is given, as Kafka does, so topics
do not all start on the same broker; new partitions of an existing topic continue from the position
of partition 0's leader, so the layout extends the existing one. Pure and deterministic given the
random source.

Rack-aware placement (every live broker has `broker.rack`): the brokers are first ordered so racks
alternate (rack a's first broker, rack b's first, ..., rack a's second, ...), leaders go round-robin
over that order as above, and each follower is the next candidate (in the same shifted order) on a
rack the partition has no replica on yet; once every rack holds one, on any broker without one. So
a partition spans min(replication factor, racks) racks and leaders stay spread evenly. When only
some brokers have a rack, placement ignores racks.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence

from odradek.metadata.image import ClusterImage
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId


class PlacementError(Exception):
    def __init__(self, error_code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


def place_replicas(
    broker_ids: Iterable[int],
    num_partitions: int,
    replication_factor: int,
    *,
    start_index: int,
    shift: int,
    first_partition: int = 0,
) -> list[tuple[BrokerId, ...]]:
    """Replica lists for partitions first_partition .. first_partition + num_partitions - 1."""
    brokers = sorted(set(broker_ids))
    n = len(brokers)
    if num_partitions <= 0:
        raise PlacementError(ErrorCode.INVALID_PARTITIONS, "Number of partitions must be larger than 0.")
    if replication_factor <= 0:
        raise PlacementError(
            ErrorCode.INVALID_REPLICATION_FACTOR,
            f"Invalid replication factor {replication_factor}: the replication factor must be positive.",
        )
    if n == 0:
        raise PlacementError(ErrorCode.INVALID_REPLICATION_FACTOR, "All brokers are currently fenced.")
    if replication_factor > n:
        raise PlacementError(
            ErrorCode.INVALID_REPLICATION_FACTOR,
            f"The target replication factor of {replication_factor} cannot be reached because only "
            f"{n} broker(s) are registered.",
        )
    assignments: list[tuple[BrokerId, ...]] = []
    for p in range(first_partition, first_partition + num_partitions):
        if p > 0 and p % n == 0:
            shift += 1
        first = (p + start_index) % n
        followers = [(first + 1 + (shift + j) % (n - 1)) % n for j in range(replication_factor - 1)]
        assignments.append(tuple(BrokerId(brokers[i]) for i in [first, *followers]))
    return assignments


def place_rack_aware(
    racks: Mapping[int, str],
    num_partitions: int,
    replication_factor: int,
    *,
    start_index: int,
    shift: int,
    first_partition: int = 0,
) -> list[tuple[BrokerId, ...]]:
    """Like `place_replicas`, spreading each partition's replicas over racks (`racks`: broker → rack)."""
    place_replicas(racks, 1, replication_factor, start_index=0, shift=0)  # the same argument checks
    if num_partitions <= 0:
        raise PlacementError(ErrorCode.INVALID_PARTITIONS, "Number of partitions must be larger than 0.")
    by_rack: dict[str, list[int]] = {}
    for broker in sorted(racks):
        by_rack.setdefault(racks[broker], []).append(broker)
    alternated: list[int] = []
    for i in range(max(len(b) for b in by_rack.values())):
        alternated += [brokers[i] for _, brokers in sorted(by_rack.items()) if i < len(brokers)]
    n, rack_count = len(alternated), len(by_rack)
    assignments: list[tuple[BrokerId, ...]] = []
    for p in range(first_partition, first_partition + num_partitions):
        if p > 0 and p % n == 0:
            shift += 1
        first = (p + start_index) % n
        replicas = [alternated[first]]
        candidates = [alternated[(first + 1 + (shift + k) % max(n - 1, 1)) % n] for k in range(n - 1)]
        for candidate in candidates:
            if len(replicas) == replication_factor:
                break
            used = {racks[r] for r in replicas}
            if candidate not in replicas and (racks[candidate] not in used or len(used) == rack_count):
                replicas.append(candidate)
        for candidate in candidates:  # racks ran out before brokers did
            if len(replicas) < replication_factor and candidate not in replicas:
                replicas.append(candidate)
        assignments.append(tuple(BrokerId(b) for b in replicas))
    return assignments


def _racks(image: ClusterImage) -> dict[int, str] | None:
    """Broker → rack when every live broker has one."""
    live = image.live_brokers()
    if live and all(b.rack for b in live):
        return {b.broker_id: str(b.rack) for b in live}
    return None


def place_new_topic(
    image: ClusterImage, num_partitions: int, replication_factor: int, rng: random.Random
) -> list[tuple[BrokerId, ...]]:
    """Replicas for a new topic over the live brokers; raises PlacementError."""
    live = [b.broker_id for b in image.live_brokers()]
    n = max(len(live), 1)
    start_index, shift = rng.randrange(n), rng.randrange(n)
    racks = _racks(image)
    if racks is not None:
        return place_rack_aware(
            racks, num_partitions, replication_factor, start_index=start_index, shift=shift
        )
    return place_replicas(live, num_partitions, replication_factor, start_index=start_index, shift=shift)


def place_new_partitions(
    image: ClusterImage, existing: Sequence[Sequence[int]], additional: int, replication_factor: int
) -> list[tuple[BrokerId, ...]]:
    """Replicas for `additional` partitions appended after `existing` (replica lists by partition)."""
    live = sorted(b.broker_id for b in image.live_brokers())
    leader0 = existing[0][0] if existing and existing[0] else 0
    start = next((i for i, broker in enumerate(live) if broker >= leader0), 0)
    racks = _racks(image)
    if racks is not None:
        return place_rack_aware(
            racks,
            additional,
            replication_factor,
            start_index=start,
            shift=start,
            first_partition=len(existing),
        )
    return place_replicas(
        live, additional, replication_factor, start_index=start, shift=start, first_partition=len(existing)
    )


def manual_assignment_error(
    image: ClusterImage, replicas: Sequence[int], replication_factor: int | None
) -> str | None:
    """Why a hand-written replica list is unacceptable (INVALID_REPLICATION_ASSIGNMENT), or None.

    `replication_factor` is that of the other partitions, when known; all must agree.
    """
    if not replicas:
        return "The manual partition assignment includes an empty replica list."
    previous: int | None = None
    for broker_id in sorted(replicas):
        if BrokerId(broker_id) not in image.brokers:
            return (
                f"The manual partition assignment includes broker {broker_id}, "
                "but no such broker is registered."
            )
        if broker_id == previous:
            return f"The manual partition assignment includes the broker {broker_id} more than once."
        previous = broker_id
    if replication_factor is not None and len(replicas) != replication_factor:
        return (
            f"The manual partition assignment includes a partition with {len(replicas)} replica(s), but "
            f"this is not consistent with previous partitions, which have {replication_factor} replica(s)."
        )
    return None
