"""Kafka principals: ``TYPE:NAME`` (``User:alice``), the identity ACLs and quotas are keyed by.

A connection's principal comes from its authentication: the SASL authorization id (``User:`` +
the name), the TLS client certificate's distinguished name after `ssl.principal.mapping.rules`, or
``User:ANONYMOUS`` on PLAINTEXT listeners and TLS listeners without client authentication.
``User:*`` in an ACL matches every user principal.
"""

from __future__ import annotations

from dataclasses import dataclass

USER_TYPE = "User"


@dataclass(frozen=True, slots=True)
class KafkaPrincipal:
    """An authenticated identity, e.g. User:alice (User:ANONYMOUS without authentication)."""

    principal_type: str
    name: str

    def __str__(self) -> str:
        return f"{self.principal_type}:{self.name}"

    @classmethod
    def user(cls, name: str) -> KafkaPrincipal:
        return cls(USER_TYPE, name)

    @classmethod
    def parse(cls, text: str) -> KafkaPrincipal:
        """``TYPE:NAME`` as Kafka's SecurityUtils.parseKafkaPrincipal: split at the first colon."""
        principal_type, sep, name = text.partition(":")
        if not sep or not principal_type:
            raise ValueError(f"Could not parse principal from `{text}` (no colon is found).")
        return cls(principal_type, name)


ANONYMOUS = KafkaPrincipal.user("ANONYMOUS")
WILDCARD_PRINCIPAL = KafkaPrincipal.user("*")
