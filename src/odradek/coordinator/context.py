"""Who sent a request: what a shard needs from the request header and the connection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    client_id: str
    client_host: str
    """As Kafka shows it in DescribeGroups: ``"/" + ip`` of the client's connection."""
    api_version: int
    may_describe_topic: Callable[[str], bool] | None = None
    """With an authorizer: whether the requester may DESCRIBE a topic (KIP-848 regex subscriptions
    match only those, KAFKA-18813). None: no authorizer, every topic."""
