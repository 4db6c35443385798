"""A broker's own connection to another broker (inter-broker requests: a follower's Fetch).

One request at a time on one TCP connection, encoded and decoded with the project's codec. It speaks
PLAINTEXT only today (`security.inter.broker.protocol` other than PLAINTEXT is not supported yet).
Every call has a timeout (`replica.socket.timeout.ms`); any error closes the connection and raises
`BrokerConnectionError`, and the caller connects again after its backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import struct
from typing import Any

from odradek.protocol import codec, framing
from odradek.protocol import primitives as p
from odradek.protocol.messages.index import REQUESTS, RESPONSES

_SIZE = struct.Struct(">i")


class BrokerConnectionError(Exception):
    """The other broker could not be reached, or the connection broke mid-call."""


def encode_request(api_key: int, version: int, request: Any, correlation_id: int, client_id: str) -> bytes:
    schema = REQUESTS[api_key]
    header = framing.RequestHeader(api_key, version, correlation_id, client_id)
    body = framing.request_header_bytes(header, schema.is_flexible(version)) + codec.encode_bytes(
        schema, version, request
    )
    return _SIZE.pack(len(body)) + body


def decode_response(api_key: int, version: int, frame: bytes) -> tuple[int, Any]:
    schema = RESPONSES[api_key]
    correlation_id, pos = p.read_int32(frame, 0)
    if api_key != framing.API_VERSIONS_KEY and schema.is_flexible(version):
        pos = p.skip_tagged_fields(frame, pos)
    response, _ = codec.decode(schema, version, frame, pos)
    return correlation_id, response


class BrokerConnection:
    def __init__(self, host: str, port: int, client_id: str, timeout_s: float) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.timeout_s = timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._correlation = itertools.count(1)

    @property
    def connected(self) -> bool:
        return self._writer is not None

    async def call(self, api_key: int, version: int, request: Any) -> Any:
        try:
            return await asyncio.wait_for(self._call(api_key, version, request), self.timeout_s)
        except (OSError, EOFError, TimeoutError, asyncio.IncompleteReadError, p.ProtocolError) as exc:
            await self.close()
            raise BrokerConnectionError(f"{self.host}:{self.port}: {exc!r}") from exc

    async def _call(self, api_key: int, version: int, request: Any) -> Any:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._reader, self._writer
        assert reader is not None
        cid = next(self._correlation)
        writer.write(encode_request(api_key, version, request, cid, self.client_id))
        await writer.drain()
        (size,) = _SIZE.unpack(await reader.readexactly(4))
        got, response = decode_response(api_key, version, await reader.readexactly(size))
        if got != cid:
            raise p.ProtocolError(f"correlation id {got}, expected {cid}")
        return response

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
