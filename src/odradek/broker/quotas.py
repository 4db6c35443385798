"""The quotas port: client quotas from the cluster image, applied to requests as Kafka does.

``producer_byte_rate`` is charged with the bytes of each Produce request, ``consumer_byte_rate`` with
the bytes of each Fetch response (a Fetch that would be throttled returns no data, and its bytes are
given back), ``request_percentage`` with the time handlers spend on the event loop (n% = n% of one
thread), ``controller_mutation_rate`` with partitions created or deleted (KIP-599). A throttled
client gets ``throttle_time_ms`` in its response and its connection reads nothing more for that long
(``ctx.session.throttle_ms``, honoured by the connection). The quota managers are rebuilt when the
image's quotas change; the user of a request is its principal's name, the client id its header's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from odradek.metadata.image import ClusterImage
from odradek.security.quotas.client_quotas import (
    CONSUMER_BYTE_RATE,
    CONTROLLER_MUTATION_RATE,
    PRODUCER_BYTE_RATE,
    REQUEST_PERCENTAGE,
    ClientQuotaManager,
    ControllerMutationQuotaManager,
)

if TYPE_CHECKING:
    from odradek.broker.context import RequestContext
    from odradek.broker.metrics import BrokerMetrics

MAX_REQUEST_THROTTLE_MS = 1000  # Kafka bounds request-time throttles by one quota window


class BrokerQuotas:
    def __init__(
        self,
        image: Callable[[], ClusterImage],
        now_ms: Callable[[], int],
        *,
        window_num: int = 11,
        window_size_s: int = 1,
        metrics: BrokerMetrics | None = None,
    ) -> None:
        self._image = image
        self._now_ms = now_ms
        self._metrics = metrics
        window_ms = window_size_s * 1000
        self.produce_manager = ClientQuotaManager(samples=window_num, window_ms=window_ms)
        self.fetch_manager = ClientQuotaManager(samples=window_num, window_ms=window_ms)
        self.request_manager = ClientQuotaManager(
            samples=window_num, window_ms=window_ms, max_throttle_ms=MAX_REQUEST_THROTTLE_MS
        )
        self.mutation_manager = ControllerMutationQuotaManager(samples=window_num, window_ms=window_ms)
        self._source: object = None

    def _refresh(self) -> None:
        """(Asked on every request: a look at the image, nothing more while its quotas stay.)"""
        quotas = self._image().security.client_quotas
        if quotas is self._source:
            return
        self._source = quotas
        security = self._image().security
        self.produce_manager.update(security.quotas_for_key(PRODUCER_BYTE_RATE))
        self.fetch_manager.update(security.quotas_for_key(CONSUMER_BYTE_RATE))
        self.request_manager.update(security.quotas_for_key(REQUEST_PERCENTAGE))
        self.mutation_manager.update(security.quotas_for_key(CONTROLLER_MUTATION_RATE))

    @staticmethod
    def _who(ctx: RequestContext) -> tuple[str, str]:
        return ctx.principal.name, ctx.client_id or ""

    def _throttle(self, ctx: RequestContext, quota: str, throttle_ms: int) -> int:
        if throttle_ms > 0:
            if ctx.session is not None:
                ctx.session.throttle_ms = max(ctx.session.throttle_ms, throttle_ms)
            if self._metrics is not None:
                self._metrics.throttle_ms.labels(quota).inc(throttle_ms)
        return throttle_ms

    def record_produce(self, ctx: RequestContext, nbytes: int) -> int:
        self._refresh()
        if not self.produce_manager.enabled:
            return 0
        return self._throttle(
            ctx, PRODUCER_BYTE_RATE, self.produce_manager.record(*self._who(ctx), nbytes, self._now_ms())
        )

    def fetch_enabled(self, ctx: RequestContext) -> bool:
        self._refresh()
        return self.fetch_manager.enabled

    def fetch_max_bytes(self, ctx: RequestContext) -> float | None:
        self._refresh()
        return self.fetch_manager.max_value_in_window(*self._who(ctx))

    def record_fetch(self, ctx: RequestContext, nbytes: int) -> int:
        """Charges a fetch response; a positive answer means: send it empty, throttled (its bytes
        were given back)."""
        self._refresh()
        if not self.fetch_manager.enabled:
            return 0
        user, client = self._who(ctx)
        now = self._now_ms()
        throttle = self.fetch_manager.record(user, client, nbytes, now)
        if throttle > 0 and nbytes > 0:
            self.fetch_manager.unrecord(user, client, nbytes, now)
        return self._throttle(ctx, CONSUMER_BYTE_RATE, throttle)

    def record_request_time(self, ctx: RequestContext, seconds: float) -> int:
        if self._image().security.client_quotas is not self._source:  # `_refresh` (every request)
            self._refresh()
        if not self.request_manager.quotas:  # (`enabled` without the property call: every request)
            return 0
        percent_seconds = seconds * 100.0
        throttle = self.request_manager.record(*self._who(ctx), percent_seconds, self._now_ms())
        return self._throttle(ctx, REQUEST_PERCENTAGE, throttle)

    def try_mutation(self, ctx: RequestContext, partitions: int, *, strict: bool) -> bool:
        self._refresh()
        return self.mutation_manager.try_record(*self._who(ctx), partitions, self._now_ms(), strict=strict)

    def mutation_throttle_ms(self, ctx: RequestContext) -> int:
        self._refresh()
        throttle = self.mutation_manager.throttle_time_ms(*self._who(ctx), self._now_ms())
        return self._throttle(ctx, CONTROLLER_MUTATION_RATE, throttle)
