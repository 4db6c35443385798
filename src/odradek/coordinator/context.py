"""Who sent a request: what a shard needs from the request header and the connection."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    client_id: str
    client_host: str
    """As Kafka shows it in DescribeGroups: ``"/" + ip`` of the client's connection."""
    api_version: int
