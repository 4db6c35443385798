"""SCRAM credentials (RFC 5802 §3): what the broker keeps instead of a password.

    SaltedPassword = Hi(password, salt, iterations)       (PBKDF2-HMAC with the mechanism's hash)
    StoredKey      = H(HMAC(SaltedPassword, "Client Key"))
    ServerKey      = HMAC(SaltedPassword, "Server Key")

A credential is (salt, StoredKey, ServerKey, iterations). It lets the server check a client proof
and prove itself, and not log in as the user. AlterUserScramCredentials carries the salt and the
*salted* password (clients derive it), so the password never crosses the wire to the broker.

Kafka's textual form, used where credentials are written as text (ZooKeeper's
``/config/users/NAME``): ``salt=B64,stored_key=B64,server_key=B64,iterations=N``.

Iterations are bounded as Kafka bounds them: at least 4096 (RFC 7677's minimum), at most 16384
(AlterUserScramCredentials refuses more; it also bounds the CPU a login costs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import IntEnum

from odradek.security.sasl.mechanism import SCRAM_SHA_256, SCRAM_SHA_512

MIN_ITERATIONS = 4096
MAX_ITERATIONS = 16384


class ScramMechanismType(IntEnum):
    """The mechanism codes of Describe/AlterUserScramCredentials."""

    UNKNOWN = 0
    SCRAM_SHA_256 = 1
    SCRAM_SHA_512 = 2


@dataclass(frozen=True, slots=True)
class ScramMechanism:
    """A SCRAM mechanism (SCRAM-SHA-256 or SCRAM-SHA-512) and its hash."""

    name: str
    hash_name: str
    type_code: ScramMechanismType

    def hash(self, data: bytes) -> bytes:
        return hashlib.new(self.hash_name, data).digest()

    def hmac(self, key: bytes, data: bytes) -> bytes:
        return hmac.new(key, data, self.hash_name).digest()

    def salted_password(self, password: bytes, salt: bytes, iterations: int) -> bytes:
        return hashlib.pbkdf2_hmac(self.hash_name, password, salt, iterations)

    @property
    def digest_size(self) -> int:
        return hashlib.new(self.hash_name).digest_size


SCRAM_MECHANISMS = {
    SCRAM_SHA_256: ScramMechanism(SCRAM_SHA_256, "sha256", ScramMechanismType.SCRAM_SHA_256),
    SCRAM_SHA_512: ScramMechanism(SCRAM_SHA_512, "sha512", ScramMechanismType.SCRAM_SHA_512),
}
BY_TYPE = {m.type_code: m for m in SCRAM_MECHANISMS.values()}


@dataclass(frozen=True, slots=True)
class ScramCredential:
    """A user's SCRAM credential: salt, stored and server keys, iterations (never the password)."""

    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int

    @classmethod
    def from_salted_password(
        cls, mechanism: ScramMechanism, salt: bytes, salted_password: bytes, iterations: int
    ) -> ScramCredential:
        client_key = mechanism.hmac(salted_password, b"Client Key")
        return cls(
            salt,
            mechanism.hash(client_key),
            mechanism.hmac(salted_password, b"Server Key"),
            iterations,
        )

    @classmethod
    def from_password(
        cls, mechanism: ScramMechanism, password: str, salt: bytes, iterations: int = MIN_ITERATIONS
    ) -> ScramCredential:
        salted = mechanism.salted_password(password.encode(), salt, iterations)
        return cls.from_salted_password(mechanism, salt, salted, iterations)

    def to_text(self) -> str:
        b64 = base64.b64encode
        return (
            f"salt={b64(self.salt).decode()},stored_key={b64(self.stored_key).decode()},"
            f"server_key={b64(self.server_key).decode()},iterations={self.iterations}"
        )

    @classmethod
    def from_text(cls, text: str) -> ScramCredential:
        fields = dict(item.split("=", 1) for item in text.split(",") if "=" in item)
        try:
            return cls(
                base64.b64decode(fields["salt"], validate=True),
                base64.b64decode(fields["stored_key"], validate=True),
                base64.b64decode(fields["server_key"], validate=True),
                int(fields["iterations"]),
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"invalid SCRAM credential text: {exc}") from exc


def iterations_error(mechanism: ScramMechanism, iterations: int) -> str | None:
    """AlterUserScramCredentials' bounds (UNACCEPTABLE_CREDENTIAL), or None."""
    if iterations < MIN_ITERATIONS:
        return f"Too few iterations ({iterations}) for {mechanism.name}: the minimum is {MIN_ITERATIONS}"
    if iterations > MAX_ITERATIONS:
        return f"Too many iterations ({iterations}) for {mechanism.name}: the maximum is {MAX_ITERATIONS}"
    return None
