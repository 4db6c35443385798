"""The forward protocol's handshake (server side): HELO contents, PING checks (shared key, user
and password, hostname, malformed), PONG's proof of the key."""

from __future__ import annotations

import hashlib

import pytest

from odradek.connect.connectors.fluentd_handshake import (
    INVALID_PING,
    SAME_HOSTNAME,
    SHARED_KEY_MISMATCH,
    USER_MISMATCH,
    Handshake,
    Security,
    parse_users,
)


def sha(*parts: bytes | str) -> str:
    return hashlib.sha512(b"".join(p.encode() if isinstance(p, str) else p for p in parts)).hexdigest()


def ping(h: Handshake, key: str, user: str = "", password: str = "", host: str = "client") -> list[object]:
    auth = sha(h.auth_salt, user, password) if user else ""
    return ["PING", host, "salt", sha("salt", host, h.nonce, key), user, auth]


def test_shared_key() -> None:
    h = Handshake(Security("k", "server"), nonce=b"n" * 16)
    assert h.helo() == ["HELO", {"nonce": b"n" * 16, "auth": "", "keepalive": True}]
    assert h.pong(ping(h, "k")) == (["PONG", True, "", "server", sha("salt", "server", h.nonce, "k")], True)
    assert h.pong(ping(h, "other")) == (["PONG", False, SHARED_KEY_MISMATCH, "server", ""], False)
    assert h.pong(ping(h, "k", host="server"))[0][2] == SAME_HOSTNAME
    for bad in (None, ["PING"], ["HELO", 1, 2, 3, 4, 5], ["PING", 1, 2, 3, 4, 5], {"a": 1}):
        assert h.pong(bad)[0][:3] == ["PONG", False, INVALID_PING]


def test_user_auth() -> None:
    h = Handshake(Security("k", "server", parse_users("ada:pw, bob:x:y")))
    assert h.helo()[1]["auth"] == h.auth_salt and len(h.auth_salt) == 16
    assert h.pong(ping(h, "k", "ada", "pw"))[1] is True
    assert h.pong(ping(h, "k", "bob", "x:y"))[1] is True  # the password is everything after the first ':'
    assert h.pong(ping(h, "k", "ada", "wrong"))[0][2] == USER_MISMATCH
    assert h.pong(ping(h, "k", "eve", "pw"))[0][2] == USER_MISMATCH
    assert h.pong(ping(h, "k"))[0][2] == USER_MISMATCH  # no user given
    assert h.pong(ping(h, "bad", "ada", "pw"))[0][2] == SHARED_KEY_MISMATCH


def test_users_syntax() -> None:
    assert parse_users("") == {}
    with pytest.raises(ValueError):
        parse_users("ada")


def test_the_connector_refuses_user_auth_without_key_or_users() -> None:
    from odradek.connect.api.errors import ConnectException
    from odradek.connect.connectors.fluentd import FluentdForwardSourceConnector

    base = {"topic": "t", "security.user_auth": "true"}
    for props in (
        base,
        {**base, "security.shared_key": "k"},
        {**base, "security.shared_key": "k", "security.users": "x"},
    ):
        with pytest.raises(ConnectException):
            FluentdForwardSourceConnector().start(props)
    FluentdForwardSourceConnector().start({**base, "security.shared_key": "k", "security.users": "ada:pw"})
