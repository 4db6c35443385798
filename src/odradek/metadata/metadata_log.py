"""The on-disk format of the local metadata log (pure encode/decode; `local_store` does the I/O).

The file is ASCII text with one committed batch of records per line:

    <crc> <payload>\\n

* `payload` is compact JSON: `{"v":1,"records":[<record>,...]}`, each record as in `records`
  (`record_to_json`); JSON escapes newlines and non-ASCII, so a payload is one ASCII line.
* `crc` is the CRC32C of the payload bytes as 8 lowercase hex digits.

A batch is the unit of atomicity: the records of one controller operation are one line, so a crash
leaves either all of them or none. Appends are followed by fsync. After a crash the last line may be
torn (cut short, or garbage where the file was extended but not written): a line without its
newline, or whose CRC does not match, is dropped together with everything after it, as long as
nothing valid follows. A bad line followed by a valid one is not a torn write but corruption, and
decoding fails. Compaction rewrites the file as a single batch holding the image's records.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from odradek.metadata.records import MetadataRecord, RecordDecodeError, record_from_json, record_to_json
from odradek.protocol.checksum import crc32c

FORMAT_VERSION = 1


class MetadataLogCorruptError(ValueError):
    """The metadata log is damaged somewhere other than its last line."""


@dataclass(frozen=True, slots=True)
class DecodedLog:
    """The records of a metadata log file, by batch, and how much of the file is valid."""

    batches: list[list[MetadataRecord]]
    valid_length: int
    """Bytes of the file that hold valid batches; anything after is a torn tail to truncate."""


def encode_batch(records: Sequence[MetadataRecord]) -> bytes:
    payload = json.dumps(
        {"v": FORMAT_VERSION, "records": [record_to_json(r) for r in records]}, separators=(",", ":")
    ).encode("ascii")
    return b"%08x %s\n" % (crc32c(payload), payload)


def _decode_line(line: bytes) -> list[MetadataRecord] | None:
    """The records of one complete line (newline excluded), or None if the line is damaged."""
    crc_hex, space, payload = line.partition(b" ")
    if not space or len(crc_hex) != 8:
        return None
    try:
        crc = int(crc_hex, 16)
    except ValueError:
        return None
    if crc32c(payload) != crc:
        return None
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        return None
    if body.get("v") != FORMAT_VERSION:
        raise RecordDecodeError(f"metadata log format version {body.get('v')} is not supported")
    return [record_from_json(r) for r in body["records"]]


def decode_log(data: bytes) -> DecodedLog:
    batches: list[list[MetadataRecord]] = []
    position = 0
    valid_length = 0
    damaged_at: int | None = None
    while position < len(data):
        end = data.find(b"\n", position)
        if end == -1:
            break  # no newline: the last write was cut short
        records = _decode_line(data[position:end])
        if records is None:
            if damaged_at is None:
                damaged_at = position
        elif damaged_at is not None:
            raise MetadataLogCorruptError(
                f"damaged batch at byte {damaged_at} is followed by a valid one at byte {position}"
            )
        else:
            batches.append(records)
            valid_length = end + 1
        position = end + 1
    return DecodedLog(batches, valid_length)
