"""HTTP Basic authentication whose credentials become each user's SASL credentials.

With ``authentication.method=BASIC`` every request (but ``/health``, ``/metrics`` and
``/openapi.json``) must carry ``Authorization: Basic``. The proxy does not keep a password list of
its own: the user name and password are the SASL credentials (``client.sasl.mechanism``: PLAIN or
SCRAM) of a set of Kafka clients made for that user alone, a whole `RestProxy` (producer, admin
client, consumers). So the broker authenticates the HTTP user and its ACLs apply to what the user
does through the proxy: Confluent's principal propagation, without a separate JAAS mapping file.

* First request of a user: a throw-away client authenticates against the broker (under a second,
  usually); the broker refusing the credentials is 401 ``{"error_code": 40101}`` with a
  ``WWW-Authenticate: Basic realm=...`` challenge, and the refusal is remembered briefly so a
  client hammering with a wrong password does not cost a Kafka connection per request.
* Later requests with the same user and password use the user's clients (the password is kept
  only as a SHA-256 digest in the cache key and in the clients' own config); another password for
  the same user is checked again.
* At most ``authentication.max.users`` users hold clients at once; a user idle for
  ``authentication.user.idle.ms`` with no consumer instance or lease open is closed, and when the
  table is full the least recently used such user makes room (otherwise 429).
* Denied operations come back from the broker as *_AUTHORIZATION_FAILED: 403 with 40301.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from odradek.http.errors import error_body
from odradek.rest import jsoncodec
from odradek.rest.config import ConfigError, RestConfig
from odradek.rest.service import RestProxy

log = logging.getLogger("odradek.rest.auth")

UNAUTHORIZED = 40101
TOO_MANY_USERS = 42902
OPEN_PATHS = frozenset({"/health", "/metrics", "/openapi.json"})
METHODS = ("NONE", "BASIC")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
REFUSAL_MEMORY_S = 5.0
VERIFY_TIMEOUT_S = 10.0


class Unauthorized(Exception):
    pass


class TooManyUsers(Exception):
    pass


def check_config(config: RestConfig) -> bool:
    """Whether Basic authentication is on; ConfigError when it is on but cannot work."""
    method = config.text("authentication.method").upper()
    if method not in METHODS:
        raise ConfigError(f"authentication.method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "NONE":
        return False
    protocol = config.client.get("security.protocol", "PLAINTEXT").upper()
    mechanism = config.client.get("sasl.mechanism", "").upper()
    if not protocol.startswith("SASL_") or mechanism not in SASL_MECHANISMS:
        raise ConfigError(
            "authentication.method=BASIC passes each user's credentials to the broker over SASL: set "
            "client.security.protocol=SASL_SSL (or SASL_PLAINTEXT) and client.sasl.mechanism to "
            f"{', '.join(SASL_MECHANISMS)}"
        )
    return True


def basic_credentials(header: str | None) -> tuple[str, str]:
    """User and password of an ``Authorization: Basic`` header; Unauthorized if there are none."""
    if not header:
        raise Unauthorized("Authentication required.")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        raise Unauthorized("Authentication must use the Basic scheme.")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("The Basic credentials are not valid base64 of user:password.") from None
    user, sep, password = decoded.partition(":")
    if not sep or not user:
        raise Unauthorized("The Basic credentials must be user:password.")
    return user, password


def verify(config: Mapping[str, Any], timeout_s: float = VERIFY_TIMEOUT_S) -> str | None:
    """Authenticate once with these client settings (blocking): None if the broker accepts them,
    else its message. Run on a worker thread."""
    failures: list[KafkaError] = []
    settings: dict[str, Any] = {**config, "error_cb": failures.append}
    admin = AdminClient(settings)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        admin.poll(0.05)
        refused = [f for f in failures if f.code() == KafkaError._AUTHENTICATION]
        if refused:
            return str(refused[0].str())
        with contextlib.suppress(KafkaException):
            admin.list_topics(timeout=0.25)
            return None
    return "the broker did not answer in time"


@dataclass(slots=True)
class UserClients:
    proxy: RestProxy
    last_used: float

    def busy(self) -> bool:
        return self.proxy.instances.count() > 0 or bool(self.proxy.leases.leases)


class BasicAuthentication:
    def __init__(self, config: RestConfig) -> None:
        self.config = config
        self.realm = config.text("authentication.realm")
        self.max_users = config.integer("authentication.max.users")
        self.idle_s = config.seconds("authentication.user.idle.ms")
        self.users: dict[tuple[str, str], UserClients] = {}
        self._refused: dict[tuple[str, str], tuple[float, str]] = {}
        self._pending: dict[tuple[str, str], asyncio.Future[UserClients]] = {}
        self.running = False

    async def proxy_for(self, user: str, password: str) -> RestProxy:
        key = (user, hashlib.sha256(password.encode()).hexdigest())
        clients = self.users.get(key)
        if clients is None:
            pending = self._pending.get(key)
            if pending is None:
                pending = asyncio.ensure_future(self._open(key, user, password))
                self._pending[key] = pending
                pending.add_done_callback(lambda _f: self._pending.pop(key, None))
            clients = await asyncio.shield(pending)
        clients.last_used = time.monotonic()
        return clients.proxy

    def client_settings(self, user: str, password: str) -> dict[str, str]:
        return {**self.config.client, "sasl.username": user, "sasl.password": password}

    async def _open(self, key: tuple[str, str], user: str, password: str) -> UserClients:
        refused = self._refused.get(key)
        if refused is not None and time.monotonic() - refused[0] < REFUSAL_MEMORY_S:
            raise Unauthorized(refused[1])
        config = dataclasses.replace(self.config, client=self.client_settings(user, password))
        proxy = RestProxy(config)
        problem = await asyncio.to_thread(verify, proxy.client_config())
        if problem is not None:
            self._refused[key] = (time.monotonic(), problem)
            raise Unauthorized(f"Kafka refused the credentials of {user}: {problem}")
        await self._make_room()
        await proxy.start()
        clients = UserClients(proxy, time.monotonic())
        self.users[key] = clients
        log.info("REST proxy user %s: own Kafka clients opened", user)
        return clients

    async def _make_room(self) -> None:
        if len(self.users) < self.max_users:
            return
        idle = sorted((c.last_used, k) for k, c in self.users.items() if not c.busy())
        if not idle:
            raise TooManyUsers()
        await self._close(idle[0][1])

    async def _close(self, key: tuple[str, str]) -> None:
        clients = self.users.pop(key, None)
        if clients is not None:
            await clients.proxy.stop()

    async def reap_forever(self) -> None:
        while True:
            await asyncio.sleep(max(min(self.idle_s / 4, 30.0), 0.05))
            now = time.monotonic()
            for key, clients in list(self.users.items()):
                if now - clients.last_used > self.idle_s and not clients.busy():
                    await self._close(key)
            self._refused = {k: v for k, v in self._refused.items() if now - v[0] < REFUSAL_MEMORY_S}

    async def close_all(self) -> None:
        for key in list(self.users):
            await self._close(key)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        """The app's lifespan under BASIC: no shared Kafka clients (they would have no
        credentials), only the users' own, closed when idle and at the end."""
        reaper = asyncio.create_task(self.reap_forever())
        self.running = True
        try:
            yield
        finally:
            self.running = False
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper
            await self.close_all()


class BasicAuthMiddleware:
    """Authenticates each HTTP request and hands the route its user's `RestProxy` in
    ``request.state.proxy`` (see `v3.common.ctx_of`, `v2.metadata.proxy_of`)."""

    def __init__(self, app: ASGIApp, auth: BasicAuthentication) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
        try:
            user, password = basic_credentials(header)
            proxy = await self.auth.proxy_for(user, password)
        except Unauthorized as exc:
            await self._refuse(send, 401, UNAUTHORIZED, str(exc), challenge=True)
            return
        except TooManyUsers:
            await self._refuse(send, 429, TOO_MANY_USERS, "Too many REST proxy users hold Kafka clients.")
            return
        scope.setdefault("state", {})["proxy"] = proxy
        scope["state"]["principal"] = f"User:{user}"
        await self.app(scope, receive, send)

    async def _refuse(
        self, send: Send, status: int, code: int, message: str, *, challenge: bool = False
    ) -> None:
        headers = [(b"content-type", b"application/json")]
        if challenge:
            headers.append((b"www-authenticate", f'Basic realm="{self.auth.realm}"'.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": jsoncodec.dumps(error_body(code, message))})
