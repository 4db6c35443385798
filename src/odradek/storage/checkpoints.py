"""Small text files Kafka keeps beside the logs, and how they are replaced atomically.

Offset checkpoints (`recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`,
`replication-offset-checkpoint`; one of each per log directory)::

    0                      version
    2                      number of entries
    orders 0 1234          topic, partition, offset (one space between fields)
    orders 1 99

`partition.metadata` (one per partition directory)::

    version: 0
    topic_id: 3oGQ9HPyRyKCvB4Yka5fZg     the topic id, base64url without padding (Kafka's Uuid.toString)

`.kafka_cleanshutdown` (one per log directory, written on clean close)::

    {"version":0,"brokerEpoch":-1}

Every file is replaced atomically (`atomic_file.write_atomically`), so a crash leaves either the old
or the new content. A missing or malformed checkpoint reads as empty: recovery then starts from the
oldest segment, which is slow but safe.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Mapping
from pathlib import Path

from odradek.model.topic_partition import TopicPartition
from odradek.storage.atomic_file import read_file, write_atomically

_log = logging.getLogger(__name__)
CHECKPOINT_VERSION = 0


def encode_offsets(offsets: Mapping[TopicPartition, int]) -> bytes:
    lines = [str(CHECKPOINT_VERSION), str(len(offsets))]
    lines += [f"{tp.topic} {tp.partition} {offset}" for tp, offset in sorted(offsets.items())]
    return ("\n".join(lines) + "\n").encode()


def decode_offsets(text: str) -> dict[TopicPartition, int]:
    """Parse an offset checkpoint; raises ValueError when it is malformed."""
    lines = text.splitlines()
    if len(lines) < 2 or int(lines[0]) != CHECKPOINT_VERSION:
        raise ValueError("bad checkpoint header")
    count = int(lines[1])
    entries = [line for line in lines[2:] if line]
    if len(entries) != count:
        raise ValueError(f"checkpoint says {count} entries, holds {len(entries)}")
    offsets: dict[TopicPartition, int] = {}
    for line in entries:
        topic, partition, offset = line.split(" ")
        offsets[TopicPartition(topic, int(partition))] = int(offset)
    return offsets


def write_offsets(path: Path, offsets: Mapping[TopicPartition, int]) -> None:
    write_atomically(path, encode_offsets(offsets))


def read_offsets(path: Path) -> dict[TopicPartition, int]:
    try:
        return decode_offsets(read_file(path).decode())
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError) as exc:
        _log.warning("ignoring malformed checkpoint %s: %s", path, exc)
        return {}


def topic_id_to_str(topic_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(topic_id.bytes).rstrip(b"=").decode()


def topic_id_from_str(text: str) -> uuid.UUID:
    return uuid.UUID(bytes=base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def write_partition_metadata(path: Path, topic_id: uuid.UUID, sync: bool = True) -> None:
    write_atomically(path, f"version: 0\ntopic_id: {topic_id_to_str(topic_id)}".encode(), sync)


def read_partition_metadata(path: str | Path) -> uuid.UUID | None:
    """The topic id, or None when the file is missing or malformed."""
    try:
        fields = dict(line.split(": ", 1) for line in read_file(path).decode().splitlines() if line)
        if fields.get("version") != "0":
            raise ValueError("unknown partition.metadata version")
        return topic_id_from_str(fields["topic_id"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        _log.warning("ignoring malformed %s: %s", path, exc)
        return None


def write_clean_shutdown(path: Path, broker_epoch: int = -1) -> None:
    write_atomically(
        path, json.dumps({"version": 0, "brokerEpoch": broker_epoch}, separators=(",", ":")).encode()
    )
