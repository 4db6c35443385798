"""Client quotas: entities, their keys, Kafka's precedence, and the throttle a client earns.

An *entity* is a set of (type, name) components: ``user``, ``client-id``, both, or ``ip``; a name of
None is that type's default (``<default>`` in Kafka's tools). Quotas are set per entity and key
with AlterClientQuotas and kept in the cluster metadata. For a request by user U with client id C,
the first of these that has a value for the key applies (Kafka's order):

    1. user=U, client-id=C           5. user=<default>, client-id=<default>
    2. user=U, client-id=<default>   6. user=<default>
    3. user=U                        7. client-id=C
    4. user=<default>, client-id=C   8. client-id=<default>

Which clients *share* a measured rate follows the same walk (`quota_tags`): a user-level quota
(3, 6) is shared by all of that user's clients, a client-id quota (7, 8) by every user of that
client id, the others are per (user, client id) pair. Each group gets its own bucket.

`ClientQuotaManager` is one quota type (produce bytes, fetch bytes, request time, ...): `record`
adds a value and returns the throttle time in ms (0 when within quota), to be sent back as
``throttle_time_ms`` while the connection is muted that long (KIP-219). Each group is measured by a
token bucket (rate.py says why).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable, Mapping
from enum import Enum

from odradek.security.quotas.rate import QUOTA_WINDOW_NUM, QUOTA_WINDOW_SIZE_MS, TokenBucket

USER = "user"
CLIENT_ID = "client-id"
IP = "ip"
ENTITY_TYPES = (USER, CLIENT_ID, IP)

PRODUCER_BYTE_RATE = "producer_byte_rate"
CONSUMER_BYTE_RATE = "consumer_byte_rate"
REQUEST_PERCENTAGE = "request_percentage"
CONTROLLER_MUTATION_RATE = "controller_mutation_rate"
CONNECTION_CREATION_RATE = "connection_creation_rate"

CLIENT_KEYS = {  # key -> whether its value must be a whole number (Kafka's LONG vs DOUBLE)
    PRODUCER_BYTE_RATE: True,
    CONSUMER_BYTE_RATE: True,
    REQUEST_PERCENTAGE: False,
    CONTROLLER_MUTATION_RATE: False,
}
IP_KEYS = {CONNECTION_CREATION_RATE: True}
INACTIVE_SENSOR_EXPIRATION_MS = 3600 * 1000

EntityComponent = tuple[str, str | None]
QuotaEntity = frozenset[EntityComponent]


class _Unset(Enum):
    UNSET = "unset"


_UNSET = _Unset.UNSET


def entity(*, user: str | _Unset | None = _UNSET, client_id: str | _Unset | None = _UNSET) -> QuotaEntity:
    """``entity(user="alice")``, ``entity(client_id=None)`` (the client-id default), ..."""
    parts: list[EntityComponent] = []
    if not isinstance(user, _Unset):
        parts.append((USER, user))
    if not isinstance(client_id, _Unset):
        parts.append((CLIENT_ID, client_id))
    return frozenset(parts)


def describe_entity(quota_entity: QuotaEntity) -> str:
    return ", ".join(f"{t}={'<default>' if n is None else n}" for t, n in sorted(quota_entity, key=str))


def entity_error(quota_entity: QuotaEntity) -> str | None:
    """Why AlterClientQuotas must refuse this entity (INVALID_REQUEST), or None."""
    types = [t for t, _ in quota_entity]
    if not types or len(set(types)) != len(types):
        return "Invalid empty or duplicate quota entity"
    if any(t not in ENTITY_TYPES for t in types):
        return f"Unknown quota entity type in {sorted(types)}"
    if IP in types:
        if len(types) > 1:
            return "Invalid quota entity combination: ip cannot be combined with user or client-id"
        name = next(iter(quota_entity))[1]
        if name is not None:
            try:
                ipaddress.ip_address(name)
            except ValueError:
                return f"{name} is not a valid IP address"
    return None


def value_error(quota_entity: QuotaEntity, key: str, value: float) -> str | None:
    keys = IP_KEYS if any(t == IP for t, _ in quota_entity) else CLIENT_KEYS
    if key not in keys:
        return f"Invalid configuration key {key}"
    if math.isnan(value) or value <= 0:
        return f"Quota {key} must be greater than 0"
    if keys[key] and (not math.isfinite(value) or value != math.floor(value) or value > 2**63 - 1):
        return f"Quota {key} must be a whole number"
    return None


class QuotaType(Enum):
    PRODUCE = PRODUCER_BYTE_RATE
    FETCH = CONSUMER_BYTE_RATE
    REQUEST = REQUEST_PERCENTAGE
    CONTROLLER_MUTATION = CONTROLLER_MUTATION_RATE


def _component_value(quotas: Mapping[QuotaEntity, float], *parts: EntityComponent) -> float | None:
    return quotas.get(frozenset(parts))


def quota_tags(quotas: Mapping[QuotaEntity, float], user: str, client_id: str) -> tuple[str, str]:
    """The (user, client id) group whose rate is measured together (empty string = any)."""
    order: Iterable[tuple[QuotaEntity, tuple[str, str]]] = (
        (frozenset({(USER, user), (CLIENT_ID, client_id)}), (user, client_id)),
        (frozenset({(USER, user), (CLIENT_ID, None)}), (user, client_id)),
        (frozenset({(USER, user)}), (user, "")),
        (frozenset({(USER, None), (CLIENT_ID, client_id)}), (user, client_id)),
        (frozenset({(USER, None), (CLIENT_ID, None)}), (user, client_id)),
        (frozenset({(USER, None)}), (user, "")),
    )
    for quota_entity, tags in order:
        if quota_entity in quotas:
            return tags
    return ("", client_id)


def quota_limit(quotas: Mapping[QuotaEntity, float], user: str, client_id: str) -> float | None:
    """The quota that applies to the group `quota_tags` chose (None: unlimited)."""
    if user and client_id:
        candidates: tuple[tuple[EntityComponent, ...], ...] = (
            ((USER, user), (CLIENT_ID, client_id)),
            ((USER, user), (CLIENT_ID, None)),
            ((USER, None), (CLIENT_ID, client_id)),
            ((USER, None), (CLIENT_ID, None)),
        )
    elif user:
        candidates = (((USER, user),), ((USER, None),))
    elif client_id:
        candidates = (((CLIENT_ID, client_id),), ((CLIENT_ID, None),))
    else:
        return None
    for parts in candidates:
        value = _component_value(quotas, *parts)
        if value is not None:
            return value
    return None


def effective_quota(quotas: Mapping[QuotaEntity, float], user: str, client_id: str) -> float | None:
    user_tag, client_tag = quota_tags(quotas, user, client_id)
    return quota_limit(quotas, user_tag, client_tag)


class ClientQuotaManager:
    """One quota type's buckets; `quotas` maps entity -> that type's value (per second)."""

    def __init__(
        self,
        quotas: Mapping[QuotaEntity, float] | None = None,
        *,
        samples: int = QUOTA_WINDOW_NUM,
        window_ms: int = QUOTA_WINDOW_SIZE_MS,
        max_throttle_ms: int | None = None,
    ) -> None:
        self.quotas: Mapping[QuotaEntity, float] = dict(quotas or {})
        self.samples = samples
        self.window_ms = window_ms
        self.max_throttle_ms = max_throttle_ms
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    @property
    def enabled(self) -> bool:
        return bool(self.quotas)

    def update(self, quotas: Mapping[QuotaEntity, float]) -> None:
        """New quota values; a group whose quota changed starts a fresh bucket."""
        self.quotas = dict(quotas)

    def _bucket(self, user: str, client_id: str, now_ms: int) -> TokenBucket | None:
        tags = quota_tags(self.quotas, user, client_id)
        limit = quota_limit(self.quotas, *tags)
        if limit is None:
            return None
        bucket = self._buckets.get(tags)
        if bucket is None or bucket.rate != limit:
            bucket = self._buckets[tags] = TokenBucket(limit, now_ms, limit * self.window_ms / 1000.0)
        return bucket

    def record(self, user: str, client_id: str, value: float, now_ms: int) -> int:
        """Adds `value` and returns the throttle time (ms) the client has earned."""
        if not self.quotas:
            return 0
        bucket = self._bucket(user, client_id, now_ms)
        if bucket is None:
            return 0
        bucket.take(value, now_ms)
        throttle = bucket.throttle_time_ms(now_ms)
        if self.max_throttle_ms is not None:
            throttle = min(throttle, self.max_throttle_ms)
        return throttle

    def throttle_time_ms(self, user: str, client_id: str, now_ms: int) -> int:
        """What the client still owes, without recording anything."""
        bucket = self._bucket(user, client_id, now_ms) if self.quotas else None
        return 0 if bucket is None else bucket.throttle_time_ms(now_ms)

    def unrecord(self, user: str, client_id: str, value: float, now_ms: int) -> None:
        """Takes back a value recorded for a response that was not sent (a throttled fetch)."""
        bucket = self._bucket(user, client_id, now_ms) if self.quotas else None
        if bucket is not None:
            bucket.take(-value, now_ms)

    def max_value_in_window(self, user: str, client_id: str) -> float | None:
        """The most one response may carry (Kafka's cap on a fetch: quota x (samples - 1) windows)."""
        limit = effective_quota(self.quotas, user, client_id)
        return None if limit is None else limit * (self.samples - 1) * self.window_ms / 1000.0

    def expire(self, now_ms: int) -> None:
        """Forgets groups idle for an hour (Kafka's inactive sensor expiry)."""
        idle = [
            t for t, b in self._buckets.items() if now_ms - b.last_used_ms() >= INACTIVE_SENSOR_EXPIRATION_MS
        ]
        for tags in idle:
            del self._buckets[tags]

    def tracked_groups(self) -> int:
        return len(self._buckets)


class ControllerMutationQuotaManager:
    """``controller_mutation_rate``: partitions created or deleted per second (KIP-599).

    Strict mode (CreateTopics v6+, CreatePartitions v3+, DeleteTopics v5+): a mutation is refused
    with THROTTLING_QUOTA_EXCEEDED while the bucket is negative, accepted otherwise even if it takes
    the bucket below zero. Permissive mode (older versions) always accepts and only throttles.
    """

    def __init__(
        self,
        quotas: Mapping[QuotaEntity, float] | None = None,
        *,
        samples: int = QUOTA_WINDOW_NUM,
        window_ms: int = QUOTA_WINDOW_SIZE_MS,
    ) -> None:
        self.quotas: Mapping[QuotaEntity, float] = dict(quotas or {})
        self.samples = samples
        self.window_ms = window_ms
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def update(self, quotas: Mapping[QuotaEntity, float]) -> None:
        self.quotas = dict(quotas)

    def _bucket(self, user: str, client_id: str, now_ms: int) -> TokenBucket | None:
        tags = quota_tags(self.quotas, user, client_id)
        limit = quota_limit(self.quotas, *tags)
        if limit is None:
            return None
        bucket = self._buckets.get(tags)
        if bucket is None or bucket.rate != limit:
            burst = limit * self.samples * self.window_ms / 1000.0
            bucket = self._buckets[tags] = TokenBucket(limit, now_ms, burst)
        return bucket

    def try_record(self, user: str, client_id: str, partitions: int, now_ms: int, *, strict: bool) -> bool:
        """Takes `partitions` tokens; False (nothing taken) if strict and the bucket is negative."""
        bucket = self._bucket(user, client_id, now_ms)
        if bucket is None:
            return True
        if strict and bucket.exhausted(now_ms):
            return False
        bucket.take(partitions, now_ms)
        return True

    def throttle_time_ms(self, user: str, client_id: str, now_ms: int) -> int:
        bucket = self._bucket(user, client_id, now_ms)
        return 0 if bucket is None else bucket.throttle_time_ms(now_ms)
