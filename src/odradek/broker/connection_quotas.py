"""Connection limits, decided at accept time (Kafka's ConnectionQuotas, KIP-308/402/612). Pure.

The broker's accept loop (`server.py`) runs one loop per listener and asks these rules, in Kafka's
order, around taking a new connection off that listener's backlog:

* before accepting (`at_capacity`, `accept_delay`): ``max.connections`` for the whole broker and
  ``listener.name.<l>.max.connections`` per listener: at a limit the listener stops accepting until
  one of its connections closes, clients wait in the listen backlog (Kafka's acceptor blocks the
  same way); ``max.connection.creation.rate`` (broker) and
  ``listener.name.<l>.max.connection.creation.rate``: new connections per second, token buckets
  holding one second's worth; beyond, the acceptor waits. The inter-broker listener is exempt from
  the broker-wide limits (only its own listener limits apply) when the broker has other listeners,
  so replication survives a flood of clients (unlike Kafka, odradek does not close another
  listener's least recently used connection to make room);
* after accepting (`admit`): ``max.connections.per.ip`` (with ``max.connections.per.ip.overrides``,
  ``host:count,...``): a connection from an address at its limit is closed at once (REJECT); the
  client quota ``connection_creation_rate`` of an ``ip`` entity (``odradek quota set --ip``,
  AlterClientQuotas; the entity without a name is every address's default): a connection beyond
  that address's rate is held unserved for the throttle time and then closed (DELAYED_CLOSE), as
  Kafka does, so a reconnect storm slows itself down.

`release` is called exactly once for each admitted connection (ACCEPT or DELAYED_CLOSE) when it
closes. `connections.max.idle.ms` is the server's idle sweep (`server.py`). Times are monotonic
milliseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from odradek.security.quotas.client_quotas import CONNECTION_CREATION_RATE, IP
from odradek.security.quotas.rate import TokenBucket

UNLIMITED = (1 << 31) - 1
N = TypeVar("N", int, float)


class Verdict(Enum):
    ACCEPT = "accept"
    REJECT = "reject"
    DELAYED_CLOSE = "delayed close"


@dataclass(frozen=True, slots=True)
class Admission:
    """Whether a new connection is accepted now, later (after `delay_ms`) or refused, and why."""

    verdict: Verdict
    delay_ms: int = 0
    reason: str = ""


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


def listener_overrides(props: Mapping[str, str], name: str, kind: Callable[[str], N]) -> dict[str, N]:
    """``listener.name.<l>.<name>`` settings by upper-case listener name; raises ValueError."""
    out = {}
    for key, value in props.items():
        if key.startswith("listener.name.") and key.endswith("." + name):
            listener = key[len("listener.name.") : -len(name) - 1]
            if listener and "." not in listener:
                try:
                    out[listener.upper()] = kind(value)
                except ValueError:
                    raise ValueError(f"Invalid value {value} for configuration {key}") from None
    return out


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Kafka's connection limits: counts (per broker, per IP), creation rate and idle timeout."""

    max_connections: int = UNLIMITED
    max_connections_per_ip: int = UNLIMITED
    per_ip_overrides: Mapping[str, int] = field(default_factory=dict)
    creation_rate: float = UNLIMITED
    """Broker-wide new connections per second (every listener but the inter-broker one)."""
    max_idle_ms: int = 600_000
    per_listener: Mapping[str, int] = field(default_factory=dict)
    creation_rate_per_listener: Mapping[str, float] = field(default_factory=dict)
    inter_broker_listener: str | None = None


class ConnectionQuotas:
    __slots__ = ("_broker_rate", "_ip_rates", "_listener_rates", "by_ip", "by_listener", "ip_rate", "limits")

    def __init__(
        self,
        limits: ConnectionLimits,
        now_ms: int,
        ip_rate: Callable[[str], float | None] = lambda _ip: None,
    ) -> None:
        """`ip_rate(ip)`: that address's ``connection_creation_rate`` quota (read at each accept,
        so a quota set a moment ago applies to the next connection), None if it has none."""
        self.limits = limits
        self.ip_rate = ip_rate
        self.by_listener: Counter[str] = Counter()
        self.by_ip: Counter[str] = Counter()
        self._broker_rate = _bucket(limits.creation_rate, now_ms)
        self._listener_rates = {
            name: bucket
            for name, rate in limits.creation_rate_per_listener.items()
            if (bucket := _bucket(rate, now_ms)) is not None
        }
        self._ip_rates: dict[str, TokenBucket] = {}

    @property
    def count(self) -> int:
        return sum(self.by_listener.values())

    def _protected(self, listener: str) -> bool:
        return listener == self.limits.inter_broker_listener

    def at_capacity(self, listener: str) -> bool:
        """The listener's own limit, or the broker's (not for the inter-broker listener), is reached."""
        limits = self.limits
        if self.by_listener[listener] >= limits.per_listener.get(listener, UNLIMITED):
            return True
        return not self._protected(listener) and self.count >= limits.max_connections

    def accept_delay(self, listener: str, now_ms: int) -> int:
        """Milliseconds to wait before taking the next connection on `listener` (0: now)."""
        delay = 0
        bucket = self._listener_rates.get(listener)
        if bucket is not None:
            delay = bucket.throttle_time_ms(now_ms)
        if self._broker_rate is not None and not self._protected(listener):
            delay = max(delay, self._broker_rate.throttle_time_ms(now_ms))
        return delay

    def admit(self, listener: str, host: str, now_ms: int) -> Admission:
        """Decide for a connection just accepted on `listener` from `host`; REJECT is not counted."""
        for bucket in (
            self._listener_rates.get(listener),
            None if self._protected(listener) else self._broker_rate,
        ):
            if bucket is not None:
                bucket.take(1, now_ms)
        limit = self.limits.per_ip_overrides.get(host, self.limits.max_connections_per_ip)
        if self.by_ip[host] >= limit:
            return Admission(Verdict.REJECT, reason=f"Too many connections from {host} (maximum = {limit})")
        self.by_listener[listener] += 1
        self.by_ip[host] += 1
        rate = self.ip_rate(host)
        if rate is None:
            self._ip_rates.pop(host, None)
            return Admission(Verdict.ACCEPT)
        bucket = self._ip_rates.get(host)
        if bucket is None or bucket.rate != rate:
            bucket = self._ip_rates[host] = TokenBucket(rate, now_ms, max(1.0, rate))
        bucket.take(1, now_ms)
        delay = bucket.throttle_time_ms(now_ms)
        if delay > 0:
            return Admission(
                Verdict.DELAYED_CLOSE, delay, f"connection_creation_rate of {host} ({rate:g}/s) exceeded"
            )
        return Admission(Verdict.ACCEPT)

    def release(self, listener: str, host: str) -> None:
        for counter, key in ((self.by_listener, listener), (self.by_ip, host)):
            counter[key] -= 1
            if counter[key] <= 0:
                del counter[key]


def _bucket(rate: float, now_ms: int) -> TokenBucket | None:
    return None if rate >= UNLIMITED else TokenBucket(rate, now_ms, max(1.0, rate))


class IpCreationRates:
    """``connection_creation_rate`` by address from the client quotas (``ip`` entities): the
    address's own, else the default ip entity's. `quotas()` gives the current client quotas (entity
    -> key -> value, the image's; read per connection, the table is rebuilt only when they change)."""

    __slots__ = ("_by_ip", "_quotas", "_seen")

    def __init__(
        self, quotas: Callable[[], Mapping[frozenset[tuple[str, str | None]], Mapping[str, float]]]
    ) -> None:
        self._quotas = quotas
        self._seen: object = None
        self._by_ip: dict[str | None, float] = {}

    def __call__(self, ip: str) -> float | None:
        quotas = self._quotas()
        if quotas is not self._seen:
            self._seen = quotas
            self._by_ip = {
                name: values[CONNECTION_CREATION_RATE]
                for entity, values in quotas.items()
                if CONNECTION_CREATION_RATE in values and len(entity) == 1
                for kind, name in entity
                if kind == IP
            }
        by_ip = self._by_ip
        return by_ip.get(ip, by_ip.get(None))
