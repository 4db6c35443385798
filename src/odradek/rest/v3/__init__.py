"""Confluent REST Proxy API v3 (``/v3/clusters/…``) plus odradek's consume API."""

from __future__ import annotations

from starlette.routing import BaseRoute

from odradek.http import HttpLimits
from odradek.rest.config import RestConfig


def routes(config: RestConfig) -> list[BaseRoute]:
    from odradek.rest.v3 import acls, brokers, clusters, configs, consume, groups, partitions, produce, topics

    stream = HttpLimits(
        max_body_bytes=None,
        request_timeout_s=None,
        body_idle_timeout_s=config.seconds("stream.idle.timeout.ms"),
    )
    return [
        *clusters.ROUTES,
        *configs.ROUTES,  # before topics and brokers: "/topics/-/configs" is not a topic
        *brokers.ROUTES,
        *produce.routes(stream),
        *consume.routes(stream),
        *partitions.ROUTES,
        *topics.ROUTES,
        *groups.ROUTES,
        *acls.ROUTES,
    ]
