"""`request_percentage` (the time a client's requests take on the event loop), as the dispatcher
charges it after every request: a quota set while the broker runs applies to the next request."""

from __future__ import annotations

from typing import Any, cast

from odradek.broker.context import RequestContext
from odradek.broker.quotas import BrokerQuotas
from odradek.metadata.controller.client_quotas import QuotaAlteration, alter_client_quotas
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.security.quotas.client_quotas import entity


def with_request_percentage(percent: float) -> ClusterImage:
    result = alter_client_quotas(
        ClusterImage.EMPTY,
        [QuotaAlteration(entity(client_id=None), (("request_percentage", percent),))],
        validate_only=False,
    )
    return replay(ClusterImage.EMPTY, result.records)


def test_a_request_quota_set_while_serving_throttles_the_next_request() -> None:
    image = [ClusterImage.EMPTY]
    quotas = BrokerQuotas(lambda: image[0], lambda: 1_000)
    ctx = RequestContext(8, 9, 1, "consumer", "/127.0.0.1", 1, cast(Any, None))
    assert quotas.record_request_time(ctx, 2.0) == 0  # no quota: nothing charged
    assert quotas.record_request_time(ctx, 2.0) == 0
    image[0] = with_request_percentage(1.0)
    assert quotas.record_request_time(ctx, 2.0) > 0  # 2 s of one thread is far above 1%
    image[0] = ClusterImage.EMPTY
    assert quotas.record_request_time(ctx, 2.0) == 0  # removed again: nothing charged
