"""Record batch compression codecs (attribute bits 0-2), via the `cramjam` library.

* 1 gzip: RFC 1952 gzip stream.
* 2 snappy: Kafka's Java client writes xerial framing (magic ``\\x82SNAPPY\\x00``, two int32 versions,
  then blocks of int32 length + raw snappy); librdkafka may write plain raw snappy. Both are read;
  xerial framing is written, which every client reads.
* 3 lz4: the LZ4 frame format (KIP-57).
* 4 zstd: a zstd frame.

The broker never decompresses on the Produce/Fetch path; compaction and tools do, so `cramjam`
is imported by the first call that needs it (a broker that never meets a compressed batch to
rewrite does without its few MB).
"""

from __future__ import annotations

import struct

from odradek.protocol.primitives import Buffer, ProtocolError

NONE = 0
GZIP = 1
SNAPPY = 2
LZ4 = 3
ZSTD = 4

NAMES = {NONE: "none", GZIP: "gzip", SNAPPY: "snappy", LZ4: "lz4", ZSTD: "zstd"}
BY_NAME = {v: k for k, v in NAMES.items()}

_XERIAL_MAGIC = b"\x82SNAPPY\x00"
_XERIAL_HEADER = struct.Struct(">8sii")
_XERIAL_BLOCK = 32 * 1024
_I32 = struct.Struct(">i")


class UnsupportedCompressionError(ProtocolError):
    """Attribute bits name no codec Kafka knows."""


def _xerial_decompress(data: bytes) -> bytes:
    import cramjam

    out = bytearray()
    pos = _XERIAL_HEADER.size
    while pos < len(data):
        if pos + 4 > len(data):
            raise ProtocolError("truncated xerial snappy block")
        (n,) = _I32.unpack_from(data, pos)
        pos += 4
        if n < 0 or pos + n > len(data):
            raise ProtocolError("bad xerial snappy block length")
        out += bytes(cramjam.snappy.decompress_raw(data[pos : pos + n]))
        pos += n
    return bytes(out)


def _xerial_compress(data: bytes) -> bytes:
    import cramjam

    out = bytearray(_XERIAL_HEADER.pack(_XERIAL_MAGIC, 1, 1))
    for start in range(0, len(data), _XERIAL_BLOCK):
        block = bytes(cramjam.snappy.compress_raw(data[start : start + _XERIAL_BLOCK]))
        out += _I32.pack(len(block))
        out += block
    return bytes(out)


def decompress(codec: int, data: Buffer) -> bytes:
    import cramjam

    raw = bytes(data)
    try:
        if codec == GZIP:
            return bytes(cramjam.gzip.decompress(raw))
        if codec == SNAPPY:
            if raw.startswith(_XERIAL_MAGIC):
                return _xerial_decompress(raw)
            return bytes(cramjam.snappy.decompress_raw(raw))
        if codec == LZ4:
            return bytes(cramjam.lz4.decompress(raw))
        if codec == ZSTD:
            return bytes(cramjam.zstd.decompress(raw))
    except cramjam.DecompressionError as exc:
        raise ProtocolError(f"cannot decompress {NAMES.get(codec)} data: {exc}") from exc
    if codec == NONE:
        return raw
    raise UnsupportedCompressionError(f"unknown compression codec {codec}")


def compress(codec: int, data: bytes) -> bytes:
    if codec == NONE:
        return data
    import cramjam

    if codec == GZIP:
        return bytes(cramjam.gzip.compress(data))
    if codec == SNAPPY:
        return _xerial_compress(data)
    if codec == LZ4:
        return bytes(cramjam.lz4.compress(data))
    if codec == ZSTD:
        return bytes(cramjam.zstd.compress(data))
    raise UnsupportedCompressionError(f"unknown compression codec {codec}")
