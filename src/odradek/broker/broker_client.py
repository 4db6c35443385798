"""A broker's own connection to another broker (inter-broker requests: a follower's Fetch).

One request at a time on one TCP connection, encoded and decoded with the project's codec. Answers
are received by an `asyncio.BufferedProtocol` straight into one buffer per frame (`FrameReader`,
sized from the frame's length prefix: another broker is trusted with large frames), and decoded
from it in place: a follower's fetched batches stay views of the bytes the socket wrote, with no
copy between the kernel and the log's write. On
(re)connecting it does what the inter-broker listener asks (`inter_broker.py` builds the
settings): TLS, then SaslHandshake v1 and SaslAuthenticate v2 until the login completes. A session
with a lifetime (KIP-368, the other side's ``connections.max.reauth.ms``) is replaced by a new
connection before it expires. Every call has a timeout (`replica.socket.timeout.ms`) covering the
connection set-up too; any error closes the connection and raises `BrokerConnectionError` (a
refused login: `BrokerAuthenticationError`), and the caller connects again after its backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import struct
import time
from typing import TYPE_CHECKING, Any, cast

from odradek.broker.frame_reader import FrameError, FrameReader
from odradek.protocol import codec, framing
from odradek.protocol import primitives as p
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages.index import REQUESTS, RESPONSES
from odradek.security.sasl.login import next_message
from odradek.security.sasl.mechanism import SaslAuthenticationError

if TYPE_CHECKING:
    from odradek.security.sasl.login import ClientSecurity

_SIZE = struct.Struct(">i")
SASL_HANDSHAKE_VERSION = 1
SASL_AUTHENTICATE_VERSION = 2
REAUTH_MARGIN = 0.9
"""A session with a lifetime is replaced after this fraction of it."""
MAX_RESPONSE_SIZE = (1 << 31) - 1
"""Another broker's answers are not limited (as Kafka's clients); a negative size is refused."""
TRUSTED_FRAME_SIZE = 64 << 20
"""An answer up to this size gets its whole buffer at once (larger ones grow as they arrive)."""


class BrokerConnectionError(Exception):
    """The other broker could not be reached, or the connection broke mid-call."""


class BrokerAuthenticationError(BrokerConnectionError):
    """The other broker refused this broker's login (wrong credentials, mechanism not enabled)."""


def encode_request(api_key: int, version: int, request: Any, correlation_id: int, client_id: str) -> bytes:
    schema = REQUESTS[api_key]
    header = framing.RequestHeader(api_key, version, correlation_id, client_id)
    body = framing.request_header_bytes(header, schema.is_flexible(version)) + codec.encode_bytes(
        schema, version, request
    )
    return _SIZE.pack(len(body)) + body


def decode_response(api_key: int, version: int, frame: bytes | bytearray) -> tuple[int, Any]:
    schema = RESPONSES[api_key]
    correlation_id, pos = p.read_int32(frame, 0)
    if api_key != framing.API_VERSIONS_KEY and schema.is_flexible(version):
        pos = p.skip_tagged_fields(frame, pos)
    response, _ = codec.decode(schema, version, frame, pos)
    return correlation_id, response


class _ResponseProtocol(asyncio.BufferedProtocol):
    """Receives size-prefixed answers into their own buffers and hands each to the waiting call."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reader = FrameReader(MAX_RESPONSE_SIZE, big_initial=TRUSTED_FRAME_SIZE, reuse=True)
        self.waiter: asyncio.Future[bytearray] | None = None
        self.error: BaseException | None = None
        self._can_write: asyncio.Future[None] | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.reader.get_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        try:
            frames = self.reader.buffer_updated(nbytes)
        except FrameError as exc:
            self._fail(p.ProtocolError(str(exc)))
            if self.transport is not None:
                self.transport.close()
            return
        for frame in frames:
            waiter, self.waiter = self.waiter, None
            if waiter is None or waiter.done():
                self._fail(p.ProtocolError("an answer nobody asked for"))
                if self.transport is not None:
                    self.transport.close()
                return
            waiter.set_result(frame)

    def eof_received(self) -> bool:
        self._fail(EOFError("the other broker closed the connection"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or EOFError("the connection was closed"))
        if not self.closed.done():
            self.closed.set_result(None)
        self.resume_writing()  # a call waiting to drain wakes up and sees the error

    def _fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(self.error)

    def pause_writing(self) -> None:
        if self._can_write is None:
            self._can_write = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        can_write, self._can_write = self._can_write, None
        if can_write is not None and not can_write.done():
            can_write.set_result(None)

    async def drain(self) -> None:
        if self._can_write is not None:
            await asyncio.shield(self._can_write)
        if self.error is not None:
            raise self.error

    def answer(self) -> asyncio.Future[bytearray]:
        """The next frame (raises what broke the connection)."""
        waiter = asyncio.get_running_loop().create_future()
        if self.error is not None:
            waiter.set_exception(self.error)
        else:
            self.waiter = waiter
        return waiter


class BrokerConnection:
    def __init__(
        self,
        host: str,
        port: int,
        client_id: str,
        timeout_s: float,
        security: ClientSecurity | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.timeout_s = timeout_s
        self.security = security
        self._protocol: _ResponseProtocol | None = None
        self._correlation = itertools.count(1)
        self._session_ends = float("inf")  # time.monotonic() after which the login must be renewed

    @property
    def connected(self) -> bool:
        return self._protocol is not None

    async def call(self, api_key: int, version: int, request: Any) -> Any:
        try:
            if asyncio.current_task() is None:  # a handler started without a task (`connection.py`)
                return await asyncio.wait_for(self._call(api_key, version, request), self.timeout_s)
            async with asyncio.timeout(self.timeout_s):  # no task per call (the fetchers' calls)
                return await self._call(api_key, version, request)
        except SaslAuthenticationError as exc:
            await self.close()
            raise BrokerAuthenticationError(f"{self.host}:{self.port}: {exc}") from exc
        except (OSError, EOFError, TimeoutError, asyncio.IncompleteReadError, p.ProtocolError) as exc:
            await self.close()
            raise BrokerConnectionError(f"{self.host}:{self.port}: {exc!r}") from exc

    async def _call(self, api_key: int, version: int, request: Any) -> Any:
        if self._protocol is not None and time.monotonic() >= self._session_ends:
            await self.close()  # the other side would close it on this request (KIP-368)
        if self._protocol is None:
            await self._connect()
        return await self._exchange(api_key, version, request)

    async def _connect(self) -> None:
        security = self.security
        context = None if security is None else security.ssl_context
        # with TLS, the host name is checked against the certificate when the context says so
        # (ssl.endpoint.identification.algorithm=https, Kafka's default)
        loop = asyncio.get_running_loop()
        _, self._protocol = await loop.create_connection(_ResponseProtocol, self.host, self.port, ssl=context)
        self._session_ends = float("inf")
        if security is not None and security.sasl_client is not None:
            await self._authenticate(security)

    async def _authenticate(self, security: ClientSecurity) -> None:
        from odradek.protocol.messages import sasl_authenticate, sasl_handshake

        assert security.sasl_client is not None and security.mechanism is not None
        handshake = await self._exchange(
            ApiKey.SASL_HANDSHAKE,
            SASL_HANDSHAKE_VERSION,
            sasl_handshake.SaslHandshakeRequest(security.mechanism),
        )
        if handshake.error_code:
            raise SaslAuthenticationError(
                f"SASL/{security.mechanism} is not enabled there (enabled: {', '.join(handshake.mechanisms)})"
            )
        client = security.sasl_client()
        message: bytes | None = client.initial_response()
        while message is not None:
            started = time.monotonic()
            response = await self._exchange(
                ApiKey.SASL_AUTHENTICATE,
                SASL_AUTHENTICATE_VERSION,
                sasl_authenticate.SaslAuthenticateRequest(message),
            )
            if response.session_lifetime_ms > 0:
                self._session_ends = started + response.session_lifetime_ms / 1000 * REAUTH_MARGIN
            # SCRAM's key derivation (thousands of HMAC rounds) stays off the event loop
            message = await asyncio.to_thread(
                next_message, client, response.error_code, response.error_message, response.auth_bytes
            )

    async def _exchange(self, api_key: int, version: int, request: Any) -> Any:
        protocol = self._protocol
        assert protocol is not None and protocol.transport is not None
        cid = next(self._correlation)
        answer = protocol.answer()
        protocol.transport.write(encode_request(api_key, version, request, cid, self.client_id))
        await protocol.drain()
        got, response = decode_response(api_key, version, await answer)
        if got != cid:
            raise p.ProtocolError(f"correlation id {got}, expected {cid}")
        return response

    async def close(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()
            with contextlib.suppress(OSError):
                await protocol.closed
