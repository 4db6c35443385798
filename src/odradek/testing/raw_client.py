"""A tiny blocking Kafka client speaking raw frames, for tests that must send what real clients won't.

Requests are encoded with the project's codec (`odradek.protocol.codec`) behind a request header
(`odradek.protocol.framing`); `send_raw`/`send_frame` put arbitrary bytes on the wire, so tests can
send oversized, negative, truncated or garbage frames and then check how the broker reacted.

Wire format: every request and response is ``int32 size`` + ``size`` bytes. Request header v1
(v2 adds tagged fields for flexible versions), response header v0 (correlation id) or v1
(correlation id + tagged fields for flexible versions except ApiVersions, KIP-511).

    client = RawClient.connect("127.0.0.1:9092")
    response = client.call(ApiKey.METADATA, 12, metadata.MetadataRequest(topics=None))
    client.send_frame(b"garbage")
    assert client.closed_by_peer()
"""

from __future__ import annotations

import itertools
import socket
import struct
from typing import Any

from odradek.protocol import codec, framing
from odradek.protocol import primitives as p
from odradek.protocol.messages.index import REQUESTS, RESPONSES

_SIZE = struct.Struct(">i")
DEFAULT_TIMEOUT_S = 10.0


class ConnectionClosed(Exception):
    """The peer closed the connection before a whole response arrived."""


def encode_request(
    api_key: int, version: int, request: Any, correlation_id: int, client_id: str | None = "raw-client"
) -> bytes:
    """Header + body of a request, without the size prefix."""
    schema = REQUESTS[api_key]
    header = framing.RequestHeader(api_key, version, correlation_id, client_id)
    head = framing.request_header_bytes(header, schema.is_flexible(version))
    return head + codec.encode_bytes(schema, version, request)


def decode_response(api_key: int, version: int, frame: bytes) -> tuple[int, Any]:
    """(correlation id, response object) from a response frame (without its size prefix)."""
    schema = RESPONSES[api_key]
    correlation_id, pos = p.read_int32(frame, 0)
    if api_key != framing.API_VERSIONS_KEY and schema.is_flexible(version):
        pos = p.skip_tagged_fields(frame, pos)
    response, end = codec.decode(schema, version, frame, pos)
    if end != len(frame):
        raise p.ProtocolError(f"{len(frame) - end} trailing bytes in response")
    return correlation_id, response


class RawClient:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._correlation = itertools.count(1)

    @classmethod
    def connect(cls, bootstrap: str, timeout: float = DEFAULT_TIMEOUT_S) -> RawClient:
        host, _, port = bootstrap.rpartition(":")
        sock = socket.create_connection((host, int(port)), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock)

    # --- raw bytes ---------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, body: bytes) -> None:
        self.sock.sendall(_SIZE.pack(len(body)) + body)

    def _recv_exactly(self, n: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < n:
            data = self.sock.recv(n - len(chunks))
            if not data:
                raise ConnectionClosed(f"connection closed after {len(chunks)} of {n} bytes")
            chunks += data
        return bytes(chunks)

    def recv_frame(self) -> bytes:
        (size,) = _SIZE.unpack(self._recv_exactly(4))
        return self._recv_exactly(size)

    def closed_by_peer(self, timeout: float = DEFAULT_TIMEOUT_S) -> bool:
        """True when the broker closes the connection (EOF or reset) within `timeout`, having sent
        nothing; False if it sends bytes or keeps the connection open."""
        previous = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
        finally:
            self.sock.settimeout(previous)

    # --- requests ----------------------------------------------------------------------------

    def send(self, api_key: int, version: int, request: Any, correlation_id: int | None = None) -> int:
        """Send one request; returns its correlation id."""
        cid = next(self._correlation) if correlation_id is None else correlation_id
        self.send_frame(encode_request(api_key, version, request, cid))
        return cid

    def receive(self, api_key: int, version: int) -> tuple[int, Any]:
        return decode_response(api_key, version, self.recv_frame())

    def call(self, api_key: int, version: int, request: Any) -> Any:
        """Send a request and return the decoded response (checking the correlation id)."""
        cid = self.send(api_key, version, request)
        got, response = self.receive(api_key, version)
        if got != cid:
            raise p.ProtocolError(f"correlation id {got}, expected {cid}")
        return response

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
