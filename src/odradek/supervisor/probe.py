"""Does the broker answer Metadata? The supervisor's test before it starts any service.

One Metadata v1 request for no topics (``topics=[]``) over a fresh connection; the broker answers
when it serves, and the answer names at least one broker. Encoded with the project's codec, so the
probe speaks exactly the Kafka protocol every client does. With client settings (`odradek dev
--secure`) the connection is TLS (``ssl.ca.location``) and logs in with SASL/PLAIN first
(SaslHandshake v1, SaslAuthenticate v1).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
from collections.abc import Mapping

from odradek.protocol import codec, framing
from odradek.protocol import primitives as p
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages.index import REQUESTS, RESPONSES
from odradek.protocol.messages.metadata import MetadataRequest
from odradek.protocol.messages.sasl_authenticate import SaslAuthenticateRequest
from odradek.protocol.messages.sasl_handshake import SaslHandshakeRequest

METADATA_VERSION = 1
_SIZE = struct.Struct(">i")
_MAX_RESPONSE = 1 << 20


def request_frame(api_key: ApiKey, version: int, correlation_id: int, request: object) -> bytes:
    schema = REQUESTS[api_key]
    header = framing.RequestHeader(api_key, version, correlation_id, "odradek-supervisor")
    body = framing.request_header_bytes(header, schema.is_flexible(version)) + codec.encode_bytes(
        schema, version, request
    )
    return _SIZE.pack(len(body)) + body


def metadata_request(correlation_id: int) -> bytes:
    return request_frame(ApiKey.METADATA, METADATA_VERSION, correlation_id, MetadataRequest(topics=[]))


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = _SIZE.unpack(await reader.readexactly(4))
    if not 0 < size <= _MAX_RESPONSE:
        raise p.ProtocolError(f"response size {size}")
    return await reader.readexactly(size)


async def _login(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, settings: Mapping[str, str]
) -> bool:
    """SASL/PLAIN with the settings' username and password (what `odradek dev --secure` uses)."""
    writer.write(request_frame(ApiKey.SASL_HANDSHAKE, 1, 100, SaslHandshakeRequest("PLAIN")))
    frame = await _read_frame(reader)
    handshake, _ = codec.decode(RESPONSES[ApiKey.SASL_HANDSHAKE], 1, frame, 4)
    if handshake.error_code:
        return False
    token = f"\0{settings.get('sasl.username', '')}\0{settings.get('sasl.password', '')}".encode()
    writer.write(request_frame(ApiKey.SASL_AUTHENTICATE, 1, 101, SaslAuthenticateRequest(token)))
    frame = await _read_frame(reader)
    answer, _ = codec.decode(RESPONSES[ApiKey.SASL_AUTHENTICATE], 1, frame, 4)
    return int(answer.error_code) == 0


def brokers_in(frame: bytes, correlation_id: int) -> int:
    """Number of brokers in a Metadata v1 response frame; ProtocolError if it is not one."""
    got, pos = p.read_int32(frame, 0)
    if got != correlation_id:
        raise p.ProtocolError(f"correlation id {got}, expected {correlation_id}")
    response, _ = codec.decode(RESPONSES[ApiKey.METADATA], METADATA_VERSION, frame, pos)
    return len(response.brokers)


async def answers_metadata(
    bootstrap: str, within_s: float, client_settings: Mapping[str, str] | None = None
) -> bool:
    host, _, port = bootstrap.rpartition(":")
    settings = client_settings or {}
    protocol = settings.get("security.protocol", "PLAINTEXT").upper()
    context = None
    if protocol.endswith("SSL"):
        context = ssl.create_default_context(cafile=settings.get("ssl.ca.location"))
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(within_s):
            reader, writer = await asyncio.open_connection(
                host.strip("[]"),
                int(port),
                ssl=context,
                server_hostname=host.strip("[]") if context else None,
            )
            if protocol.startswith("SASL") and not await _login(reader, writer, settings):
                return False
            writer.write(metadata_request(1))
            (size,) = _SIZE.unpack(await reader.readexactly(4))
            if not 0 < size <= _MAX_RESPONSE:
                return False
            return brokers_in(await reader.readexactly(size), 1) > 0
    except (OSError, TimeoutError, asyncio.IncompleteReadError, p.ProtocolError, ValueError, ssl.SSLError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def wait_for_metadata(
    bootstrap: str,
    deadline_s: float,
    interval_s: float = 0.1,
    *,
    client_settings: Mapping[str, str] | None = None,
) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while loop.time() < end:
        if await answers_metadata(bootstrap, min(2.0, max(end - loop.time(), 0.01)), client_settings):
            return True
        await asyncio.sleep(interval_s)
    return False
