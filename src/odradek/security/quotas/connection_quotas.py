"""Connection limits (Kafka's ConnectionQuotas): how many connections, from where, how fast.

Configs (Kafka's names): ``max.connections`` (whole broker; ``listener.name.L.max.connections`` per
listener), ``max.connections.per.ip`` with ``max.connections.per.ip.overrides`` (``host:N,ip:N``),
``max.connection.creation.rate`` (per listener, connections per second), and the client quota
``connection_creation_rate`` on an ``ip`` entity (its default: the ip entity with no name).

`admit` decides for one new connection, in Kafka's order:

1. broker or listener full → REJECT (Kafka keeps it waiting in the accept queue; we close it at
   once, which clients see the same way: the connection did not come up). The inter-broker
   listener is exempt from the broker-wide limit, so replication survives a flood of clients;
2. too many from this address → REJECT;
3. the listener's creation rate exceeded → ACCEPT after `delay_ms` (the acceptor slows down);
4. this address's creation rate exceeded → DELAYED_CLOSE after `delay_ms`: the connection is
   counted, held without being served, and closed, as Kafka does, so a reconnect storm is slowed.

`release` is called exactly once for each admitted connection when it closes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from odradek.security.quotas.rate import TokenBucket

UNLIMITED = 2**31 - 1


class Verdict(Enum):
    ACCEPT = "accept"
    REJECT = "reject"
    DELAYED_CLOSE = "delayed close"


@dataclass(frozen=True, slots=True)
class Admission:
    verdict: Verdict
    delay_ms: int = 0
    reason: str = ""


def parse_overrides(text: str | None) -> dict[str, int]:
    """``max.connections.per.ip.overrides``: ``hostOrIp:count`` pairs separated by commas."""
    out: dict[str, int] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        host, sep, count = item.strip().rpartition(":")
        if not sep or not host or not count.strip().isdigit():
            raise ValueError(f"Invalid max.connections.per.ip.overrides entry {item.strip()!r}")
        out[host.strip()] = int(count)
    return out


@dataclass(slots=True)
class ConnectionLimits:
    max_connections: int = UNLIMITED
    per_listener: Mapping[str, int] = field(default_factory=dict)
    max_per_ip: int = UNLIMITED
    per_ip_overrides: Mapping[str, int] = field(default_factory=dict)
    creation_rate_per_listener: Mapping[str, float] = field(default_factory=dict)
    max_creation_rate: float = float(UNLIMITED)
    ip_creation_rate: Mapping[str | None, float] = field(default_factory=dict)
    """ip -> connections/s; the None key is the default for every ip."""
    inter_broker_listener: str | None = None


class ConnectionQuotas:
    def __init__(self, limits: ConnectionLimits | None = None) -> None:
        self.limits = limits or ConnectionLimits()
        self.by_listener: Counter[str] = Counter()
        self.by_ip: Counter[str] = Counter()
        self._listener_rates: dict[str, TokenBucket] = {}
        self._ip_rates: dict[str, TokenBucket] = {}

    @property
    def total(self) -> int:
        return sum(self.by_listener.values())

    def update(self, limits: ConnectionLimits) -> None:
        self.limits = limits

    def _ip_limit(self, ip: str) -> int:
        return self.limits.per_ip_overrides.get(ip, self.limits.max_per_ip)

    def admit(self, listener: str, ip: str, now_ms: int) -> Admission:
        limits = self.limits
        protected = listener == limits.inter_broker_listener
        if not protected and self.total >= limits.max_connections:
            return Admission(Verdict.REJECT, reason=f"max.connections ({limits.max_connections}) reached")
        listener_max = limits.per_listener.get(listener, UNLIMITED)
        if self.by_listener[listener] >= listener_max:
            return Admission(
                Verdict.REJECT, reason=f"max.connections of listener {listener} ({listener_max}) reached"
            )
        ip_max = self._ip_limit(ip)
        if self.by_ip[ip] >= ip_max:
            return Admission(Verdict.REJECT, reason=f"Too many connections from {ip} (maximum = {ip_max})")
        delay = 0
        listener_rate = limits.creation_rate_per_listener.get(listener, limits.max_creation_rate)
        if listener_rate < UNLIMITED and not protected:
            delay = self._record(self._listener_rates, listener, listener_rate, now_ms)
        self.by_listener[listener] += 1
        self.by_ip[ip] += 1
        ip_rate = limits.ip_creation_rate.get(ip, limits.ip_creation_rate.get(None))
        if ip_rate is not None:
            ip_delay = self._record(self._ip_rates, ip, ip_rate, now_ms)
            if ip_delay > 0:
                return Admission(
                    Verdict.DELAYED_CLOSE,
                    ip_delay,
                    f"connection_creation_rate of {ip} ({ip_rate}/s) exceeded",
                )
        return Admission(Verdict.ACCEPT, delay)

    @staticmethod
    def _record(rates: dict[str, TokenBucket], key: str, limit: float, now_ms: int) -> int:
        """One connection against a bucket of `limit` per second (burst: one second's worth)."""
        bucket = rates.get(key)
        if bucket is None or bucket.rate != limit:
            bucket = rates[key] = TokenBucket(limit, now_ms, max(1.0, limit))
        bucket.take(1, now_ms)
        return bucket.throttle_time_ms(now_ms)

    def release(self, listener: str, ip: str) -> None:
        self.by_listener[listener] -= 1
        if self.by_listener[listener] <= 0:
            del self.by_listener[listener]
        self.by_ip[ip] -= 1
        if self.by_ip[ip] <= 0:
            del self.by_ip[ip]
