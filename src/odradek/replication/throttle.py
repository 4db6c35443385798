"""The replication throttle (Kafka's replication quotas, KIP-73), pure: a reassignment's copying
must not starve the clients.

Two byte rates per broker, both dynamic broker configs: `leader.replication.throttled.rate` caps
what this broker sends to followers as a leader, `follower.replication.throttled.rate` what it
fetches as a follower. They apply only to the replicas the topic configs name,
`leader.replication.throttled.replicas` / `follower.replication.throttled.replicas` (`*` or
`partition:broker` pairs; an entry counts on the broker it names), and only while the follower is
out of the ISR: a replica in sync is never slowed down, so acks=all does not wait on a throttle.

* Leader side (the Fetch handler's replica path): a throttled partition's records are left out of a
  follower's fetch response while the leader quota is exhausted; the bytes sent for throttled
  partitions are taken from it.
* Follower side (the replica fetcher): a throttled partition is left out of the fetch request while
  the follower quota is exhausted; the bytes received for them are taken from it.

The measure is a token bucket (`security.quotas.rate.TokenBucket`, the one client quotas use) that
fills at the rate with one second of burst: over any span L a throttled direction moves at most
rate x L + rate bytes, plus at most one fetch's worth (a read is not cut in the middle of a batch).
Kafka measures the same rate over 11 one-second windows. Nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from odradek.security.quotas.rate import TokenBucket

UNLIMITED = 9_223_372_036_854_775_807
"""Kafka's default for both rates (Long.MAX_VALUE): no throttle."""
ALL = -1


class Quota:
    """One direction's rate on this broker (leader or follower)."""

    __slots__ = ("_bucket", "rate")

    def __init__(self) -> None:
        self.rate = UNLIMITED
        self._bucket: TokenBucket | None = None

    def set_rate(self, rate: int, now_ms: int) -> None:
        if rate == self.rate:
            return
        self.rate = rate
        self._bucket = None if rate >= UNLIMITED else TokenBucket(float(rate), now_ms, float(rate))

    def exceeded(self, now_ms: int) -> bool:
        return self._bucket is not None and self._bucket.exhausted(now_ms)

    def record(self, size: int, now_ms: int) -> None:
        if self._bucket is not None and size:
            self._bucket.take(size, now_ms)


def throttled_partitions(value: str | Iterable[str] | None, broker: int) -> frozenset[int]:
    """Partitions a `*.replication.throttled.replicas` value names for `broker` ({ALL} for `*`)."""
    if value is None:
        return frozenset()
    entries = [e.strip() for e in (value.split(",") if isinstance(value, str) else value) if e.strip()]
    if entries == ["*"]:
        return frozenset({ALL})
    found: set[int] = set()
    for entry in entries:
        partition, _, replica = entry.partition(":")
        if partition.strip().isdigit() and replica.strip().isdigit() and int(replica) == broker:
            found.add(int(partition))
    return frozenset(found)


class ReplicationThrottle:
    """What this broker throttles: the two quotas and, per topic, the throttled partitions."""

    __slots__ = ("_follower_partitions", "_leader_partitions", "follower", "leader", "node_id")

    def __init__(self, node_id: int) -> None:
        self.node_id = node_id
        self.leader = Quota()
        self.follower = Quota()
        self._leader_partitions: dict[str, frozenset[int]] = {}
        self._follower_partitions: dict[str, frozenset[int]] = {}

    def configure(
        self,
        leader_rate: int,
        follower_rate: int,
        leader_replicas: Mapping[str, str | Iterable[str]],
        follower_replicas: Mapping[str, str | Iterable[str]],
        now_ms: int,
    ) -> None:
        """The rates (bytes/s) and each topic's two `*.replication.throttled.replicas` values."""
        self.leader.set_rate(leader_rate, now_ms)
        self.follower.set_rate(follower_rate, now_ms)
        self._leader_partitions = _for_broker(leader_replicas, self.node_id)
        self._follower_partitions = _for_broker(follower_replicas, self.node_id)

    @property
    def active(self) -> bool:
        return bool(self._leader_partitions or self._follower_partitions)

    def leader_throttled(self, topic: str, partition: int, follower_in_sync: bool) -> bool:
        """Whether a follower's fetch of this partition counts against the leader quota."""
        return not follower_in_sync and _named(self._leader_partitions, topic, partition)

    def follower_throttled(self, topic: str, partition: int, in_sync: bool) -> bool:
        """Whether this broker's fetch of this partition counts against the follower quota."""
        return not in_sync and _named(self._follower_partitions, topic, partition)


def _for_broker(values: Mapping[str, str | Iterable[str]], broker: int) -> dict[str, frozenset[int]]:
    out = {topic: throttled_partitions(value, broker) for topic, value in values.items()}
    return {topic: partitions for topic, partitions in out.items() if partitions}


def _named(table: Mapping[str, frozenset[int]], topic: str, partition: int) -> bool:
    partitions = table.get(topic)
    return partitions is not None and (partition in partitions or ALL in partitions)
