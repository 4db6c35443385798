"""Where a client reaches a broker: on the listener its request came in on.

A broker registers one endpoint in the metadata (its first advertised listener); a client connected
to another listener (SASL_SSL next to an internal PLAINTEXT one) must be sent back to that same
listener, or it would reconnect with the wrong protocol. For this broker the request's listener
decides; other brokers' registrations carry their first endpoint until registrations carry one per
listener (the replicated cluster's part).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from odradek.broker.context import RequestContext
    from odradek.metadata.image import BrokerRegistration


def broker_endpoint(ctx: RequestContext, broker: BrokerRegistration) -> tuple[str, int]:
    if broker.broker_id == ctx.ports.node.node_id:
        return ctx.ports.node.advertised_endpoint(ctx.listener)
    return broker.host, broker.port
