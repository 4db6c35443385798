"""Request/response framing and headers.

Every message on the wire is ``int32 size`` followed by ``size`` bytes. A request starts with a
header:

* v1 (non-flexible request versions): api_key int16, api_version int16, correlation_id int32,
  client_id nullable string (int16 length).
* v2 (flexible request versions): the same, then tagged fields. The client id keeps its int16
  length even here, so any broker can read the header of any ApiVersions request.

A response starts with the correlation id (header v0), followed by tagged fields in header v1
(flexible response versions). ApiVersions responses always use header v0 (KIP-511), so a client
can parse them whatever version it sent.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from odradek.protocol import primitives as p
from odradek.protocol.primitives import Buffer, ProtocolError
from odradek.protocol.schema import MessageSchema

API_VERSIONS_KEY = 18
_HEAD = struct.Struct(">hhi")


@dataclass(slots=True)
class RequestHeader:
    """A request's header: API key and version, correlation id, client id."""

    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None


def peek_header(buf: Buffer) -> tuple[int, int, int]:
    """api_key, api_version, correlation_id — readable from any request, even an unknown one."""
    if len(buf) < _HEAD.size:
        raise ProtocolError("request shorter than its header")
    key, version, correlation_id = _HEAD.unpack_from(buf, 0)
    return key, version, correlation_id


def read_request_header(buf: Buffer, flexible: bool) -> tuple[RequestHeader, int]:
    """Parse the header; returns it and the offset where the body starts."""
    key, version, correlation_id = peek_header(buf)
    client_id, pos = p.read_string(buf, _HEAD.size)
    if flexible:
        pos = p.skip_tagged_fields(buf, pos)
    return RequestHeader(key, version, correlation_id, client_id), pos


_CLIENT_ID_LENGTH = struct.Struct(">h")


def read_client_id(buf: Buffer, flexible: bool) -> tuple[str | None, int]:
    """The header's client id and the offset where the body starts (`read_request_header` without
    building the header: the dispatcher has read the rest with `peek_header`)."""
    pos = _HEAD.size
    if len(buf) < pos + 2:
        raise ProtocolError(f"need 2 bytes at {pos}, buffer has {len(buf)}")
    (n,) = _CLIENT_ID_LENGTH.unpack_from(buf, pos)
    pos += 2
    if n < 0:
        if n != -1:
            raise ProtocolError(f"invalid string length {n}")
        client_id = None
    else:
        end = pos + n
        if end > len(buf):
            raise ProtocolError(f"need {n} bytes at {pos}, buffer has {len(buf)}")
        try:
            client_id = str(buf[pos:end], "utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("invalid UTF-8 in string") from exc
        pos = end
    if flexible:
        if pos < len(buf) and buf[pos] == 0:  # no tagged fields: the usual case
            pos += 1
        else:
            pos = p.skip_tagged_fields(buf, pos)
    return client_id, pos


def response_header(correlation_id: int, schema: MessageSchema, version: int) -> bytes:
    """The response header bytes, without the size prefix."""
    if schema.api_key != API_VERSIONS_KEY and schema.is_flexible(version):
        return p.INT32.pack(correlation_id) + b"\x00"
    return p.INT32.pack(correlation_id)


def request_header_bytes(header: RequestHeader, flexible: bool) -> bytes:
    """Encode a request header (clients and tests)."""
    out = bytearray(_HEAD.pack(header.api_key, header.api_version, header.correlation_id))
    p.write_string(out, header.client_id)
    if flexible:
        out.append(0)
    return bytes(out)
