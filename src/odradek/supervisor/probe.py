"""Does the broker answer Metadata? The supervisor's test before it starts any service.

One Metadata v1 request for no topics (``topics=[]``) over a fresh connection; the broker answers
when it serves, and the answer names at least one broker. Encoded with the project's codec, so the
probe speaks exactly the Kafka protocol every client does.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

from odradek.protocol import codec, framing
from odradek.protocol import primitives as p
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages.index import REQUESTS, RESPONSES
from odradek.protocol.messages.metadata import MetadataRequest

METADATA_VERSION = 1
_SIZE = struct.Struct(">i")
_MAX_RESPONSE = 1 << 20


def metadata_request(correlation_id: int) -> bytes:
    schema = REQUESTS[ApiKey.METADATA]
    header = framing.RequestHeader(ApiKey.METADATA, METADATA_VERSION, correlation_id, "odradek-supervisor")
    body = framing.request_header_bytes(header, False) + codec.encode_bytes(
        schema, METADATA_VERSION, MetadataRequest(topics=[])
    )
    return _SIZE.pack(len(body)) + body


def brokers_in(frame: bytes, correlation_id: int) -> int:
    """Number of brokers in a Metadata v1 response frame; ProtocolError if it is not one."""
    got, pos = p.read_int32(frame, 0)
    if got != correlation_id:
        raise p.ProtocolError(f"correlation id {got}, expected {correlation_id}")
    response, _ = codec.decode(RESPONSES[ApiKey.METADATA], METADATA_VERSION, frame, pos)
    return len(response.brokers)


async def answers_metadata(bootstrap: str, within_s: float) -> bool:
    host, _, port = bootstrap.rpartition(":")
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(within_s):
            reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
            writer.write(metadata_request(1))
            (size,) = _SIZE.unpack(await reader.readexactly(4))
            if not 0 < size <= _MAX_RESPONSE:
                return False
            return brokers_in(await reader.readexactly(size), 1) > 0
    except (OSError, TimeoutError, asyncio.IncompleteReadError, p.ProtocolError, ValueError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def wait_for_metadata(bootstrap: str, deadline_s: float, interval_s: float = 0.1) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while loop.time() < end:
        if await answers_metadata(bootstrap, min(2.0, max(end - loop.time(), 0.01))):
            return True
        await asyncio.sleep(interval_s)
    return False
