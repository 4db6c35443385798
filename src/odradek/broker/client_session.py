"""One connection's identity: its listener, the principal it authenticated as, its SASL session,
and what the connection must do next because of security (close after a failed login, stay muted
while a quota throttles it).

The connection (`connection.py`) owns a `ClientSession`; the dispatcher checks each request against
it (`check_request`) and gives it to handlers as ``ctx.session``; the SASL handlers drive its
`SaslSession`. The principal is ``User:ANONYMOUS`` on PLAINTEXT, the mapped certificate subject on
SSL with client authentication, and ``User:<authorization id>`` once SASL completes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from odradek.security.principal import ANONYMOUS, KafkaPrincipal

if TYPE_CHECKING:
    from odradek.broker.listener_security import ListenerSecurity
    from odradek.security.sasl.session import SaslSession


@dataclass(slots=True)
class ClientSession:
    """Who is on a connection: its listener, security protocol, client address and principal."""

    listener: str
    protocol: str
    client_host: str
    connection_id: int
    principal: KafkaPrincipal = ANONYMOUS
    sasl: SaslSession | None = None
    tls_subject: str | None = None
    failed_authentication: bool = False
    """Set by SaslAuthenticate on failure: the connection answers (after the failure delay) and closes."""
    newly_authenticated: bool = False
    """Set when a login completed: the connection raises its frame size limit."""
    throttle_ms: int = 0
    """Set by the quota checks of a request: the connection stays muted this long after answering."""
    client_software: tuple[str, str] = field(default=("", ""))

    @classmethod
    def for_listener(
        cls,
        security: ListenerSecurity | None,
        client_host: str,
        connection_id: int,
        *,
        max_reauth_ms: int = 0,
    ) -> ClientSession:
        if security is None:
            return cls("PLAINTEXT", "PLAINTEXT", client_host, connection_id)
        sasl = None
        if security.uses_sasl:
            from odradek.security.sasl.session import SaslSession

            sasl = SaslSession(security.mechanisms, max_reauth_ms=max_reauth_ms)
        return cls(security.name, security.protocol, client_host, connection_id, sasl=sasl)

    @property
    def authenticated(self) -> bool:
        return self.sasl is None or self.sasl.authenticated
