"""Everything a handler may know about the request it serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from odradek.security.principal import ANONYMOUS, KafkaPrincipal

if TYPE_CHECKING:
    from odradek.broker.client_session import ClientSession
    from odradek.broker.ports import BrokerPorts


@dataclass(slots=True)
class RequestContext:
    """What a handler knows about the request it serves beyond its body: header, client, session."""

    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    client_host: str
    connection_id: int
    ports: BrokerPorts
    """What the handler may use of the broker (`ports.py`)."""
    principal: KafkaPrincipal = ANONYMOUS
    """Who sent the request: set from the connection's authentication (`client_session.py`)."""
    session: ClientSession | None = None
    """The connection's security session (None for requests made without a connection, in tests)."""
    listener: str = "PLAINTEXT"
