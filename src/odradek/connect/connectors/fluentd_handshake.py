"""The Forward Protocol v1 handshake (the server's side, pure): a server with a shared key opens
every connection with HELO, the client proves it knows the key (and, with user authentication, a
user's password) in PING, and the server answers PONG, proving it knows the key too:

    server -> HELO  ["HELO", {"nonce": bytes, "auth": salt bytes | "", "keepalive": bool}]
    client -> PING  ["PING", client hostname, shared_key_salt,
                     sha512_hex(shared_key_salt + client hostname + nonce + shared_key),
                     username | "", sha512_hex(auth salt + username + password) | ""]
    server -> PONG  ["PONG", ok, reason | "", server hostname,
                     sha512_hex(shared_key_salt + server hostname + nonce + shared_key) | ""]

A refused client gets `ok = false` with Fluentd's reason text and the connection is closed;
nothing it sent before or after is read as events.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SHARED_KEY_MISMATCH = "shared_key mismatch"
USER_MISMATCH = "username/password mismatch"
INVALID_PING = "invalid ping message"
SAME_HOSTNAME = "same hostname between input and output: invalid configuration"


def _sha512_hex(*parts: bytes | str) -> str:
    digest = hashlib.sha512()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
    return digest.hexdigest()


def parse_users(text: str) -> dict[str, str]:
    """`user:password,user2:password2` as {user: password}; ValueError on an entry without `:`."""
    users: dict[str, str] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        user, sep, password = entry.partition(":")
        if not sep or not user:
            raise ValueError("security.users entries are user:password")
        users[user] = password
    return users


@dataclass(frozen=True)
class Security:
    shared_key: str
    self_hostname: str
    users: Mapping[str, str] = field(default_factory=dict)  # user authentication when not empty


@dataclass
class Handshake:
    """One connection's handshake: `helo()` to send first, then `pong(ping)` answers the client."""

    security: Security
    keepalive: bool = True
    nonce: bytes = field(default_factory=lambda: os.urandom(16))
    auth_salt: bytes = field(default_factory=lambda: os.urandom(16))

    def helo(self) -> list[Any]:
        auth: bytes | str = self.auth_salt if self.security.users else ""
        return ["HELO", {"nonce": self.nonce, "auth": auth, "keepalive": self.keepalive}]

    def pong(self, ping: Any) -> tuple[list[Any], bool]:
        """The PONG answering `ping` and whether the client is accepted."""
        hostname = self.security.self_hostname
        if not (isinstance(ping, list | tuple) and len(ping) == 6 and ping[0] == "PING"):
            return ["PONG", False, INVALID_PING, hostname, ""], False
        _, client_hostname, salt, digest, username, password_digest = ping
        if not all(isinstance(v, str | bytes) for v in (client_hostname, salt, digest, username)):
            return ["PONG", False, INVALID_PING, hostname, ""], False
        if _text(client_hostname) == hostname:
            return ["PONG", False, SAME_HOSTNAME, hostname, ""], False
        expected = _sha512_hex(salt, client_hostname, self.nonce, self.security.shared_key)
        if not hmac.compare_digest(expected, _text(digest)):
            return ["PONG", False, SHARED_KEY_MISMATCH, hostname, ""], False
        if self.security.users:
            password = self.security.users.get(_text(username))
            given = _text(password_digest) if isinstance(password_digest, str | bytes) else ""
            wanted = _sha512_hex(self.auth_salt, _text(username), password or "")
            if password is None or not hmac.compare_digest(wanted, given):
                return ["PONG", False, USER_MISMATCH, hostname, ""], False
        proof = _sha512_hex(salt, hostname, self.nonce, self.security.shared_key)
        return ["PONG", True, "", hostname, proof], True


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
