"""Connection limits, decided at accept time (Kafka's ConnectionQuotas, KIP-402/KIP-612). Pure.

The broker's accept loop (`server.py`) asks these rules, in Kafka's order, before it takes a new
connection off a listener's backlog:

* `max.connections`: at the limit, the broker stops accepting until a connection closes; clients
  wait in the listen backlog (Kafka's acceptor blocks the same way);
* `max.connection.creation.rate`: new connections per second over the broker, as a token bucket
  holding one second of connections; a burst beyond it waits `accept_delay()` in the backlog,
  accepted a little later rather than refused (Kafka throttles its acceptor the same way);
* `max.connections.per.ip` (and `max.connections.per.ip.overrides`, ``host:count,...``): a connection
  from an address already at its limit is accepted and closed at once, as Kafka does.

`connections.max.idle.ms` is the server's idle sweep (`server.py`). Every value is read when the
server starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

UNLIMITED = (1 << 31) - 1


def parse_overrides(text: str) -> dict[str, int]:
    """``host1:10,host2:20`` (Kafka's `max.connections.per.ip.overrides`); raises ValueError."""
    overrides = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        host, sep, count = item.rpartition(":")
        if not sep or not host or not count.isdigit():
            raise ValueError(f"max.connections.per.ip.overrides entry {item!r} is not host:count")
        overrides[host.strip("[]")] = int(count)
    return overrides


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_connections: int = UNLIMITED
    max_connections_per_ip: int = UNLIMITED
    per_ip_overrides: Mapping[str, int] = field(default_factory=dict)
    creation_rate: int = UNLIMITED  # per second
    max_idle_ms: int = 600_000


class ConnectionQuotas:
    __slots__ = ("_by_host", "_last", "_tokens", "count", "limits")

    def __init__(self, limits: ConnectionLimits, now: float) -> None:
        self.limits = limits
        self.count = 0
        self._by_host: dict[str, int] = {}
        self._tokens = float(limits.creation_rate)
        self._last = now

    @property
    def at_capacity(self) -> bool:
        return self.count >= self.limits.max_connections

    def accept_delay(self, now: float) -> float:
        """Seconds to wait before taking the next connection (0: now)."""
        rate = self.limits.creation_rate
        if rate >= UNLIMITED:
            return 0.0
        self._tokens = min(float(rate), self._tokens + (now - self._last) * rate)
        self._last = now
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / rate

    def admit(self, host: str) -> bool:
        """Count a connection just accepted from `host`; False if `host` is over its limit (the
        caller closes it; it is not counted)."""
        self._tokens -= 1
        limit = self.limits.per_ip_overrides.get(host, self.limits.max_connections_per_ip)
        held = self._by_host.get(host, 0)
        if held >= limit:
            return False
        self._by_host[host] = held + 1
        self.count += 1
        return True

    def release(self, host: str) -> None:
        held = self._by_host.get(host, 0)
        if held <= 1:
            self._by_host.pop(host, None)
        else:
            self._by_host[host] = held - 1
        self.count -= 1
