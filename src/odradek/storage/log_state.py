"""`clean-shutdown-log-state`: what a clean shutdown knows about every log of a log directory.

Kafka's clean start still opens every segment and walks the tail of every active segment to find
where each log ends; with 20,000 partitions that is 20,000 directory listings and several files
read per partition. odradek writes, at clean shutdown and next to `.kafka_cleanshutdown`, one file
holding everything a clean start needs, so that it reads one file per log directory and no
partition directory at all:

    <crc32c of the payload, 8 hex digits> <payload>\\n

with the payload a JSON object (compact, ASCII), the logs grouped by topic::

    {"version": 1,
     "topics": {"<topic>": [topic_id,
                            {"<partition>": [log_start_offset, log_end_offset, high_watermark,
                                             [[base_offset, size, has_txnindex], ...],
                                             [[epoch, start_offset], ...],
                                             producers]}]}}

`topic_id` is Kafka's base64 form or null; `producers` is the number of producers in the snapshot
at the log end offset (0: no producers, no snapshot needed; -1: unknown, replay as after a crash).
The high watermark is the one `replication-offset-checkpoint` holds too.

The file is trusted only together with the clean-shutdown marker and only for the partitions it
names: it is written (atomically, fsynced) just before the marker, and removed right after the
marker at the next start, so a crash never leaves it beside a marker it does not match. A missing,
damaged or foreign (another version) file is ignored: the start then reads the directories as
Kafka does. Everything in it is also in Kafka's own files (segment files, `partition.metadata`,
`leader-epoch-checkpoint`, producer snapshots), which stay authoritative after any unclean stop.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from odradek.model.topic_partition import TopicPartition
from odradek.protocol.checksum import crc32c
from odradek.storage.atomic_file import write_atomically
from odradek.storage.checkpoints import topic_id_from_str, topic_id_to_str

_log = logging.getLogger(__name__)
LOG_STATE_FILE = "clean-shutdown-log-state"
VERSION = 1


class LogState(NamedTuple):
    topic_id: uuid.UUID | None
    log_start_offset: int
    log_end_offset: int
    high_watermark: int
    segments: Sequence[Sequence[int]]  # [base offset, size, 1 if a .txnindex may exist]
    epochs: Sequence[Sequence[int]]  # [epoch, start offset]
    producers: int


def encode_log_states(states: Mapping[TopicPartition, LogState]) -> bytes:
    topics: dict[str, list[Any]] = {}
    for tp, s in sorted(states.items()):
        topic = topics.get(tp.topic)
        if topic is None:
            topic = topics[tp.topic] = [None if s.topic_id is None else topic_id_to_str(s.topic_id), {}]
        topic[1][str(tp.partition)] = [
            s.log_start_offset,
            s.log_end_offset,
            s.high_watermark,
            [[base, size, int(bool(txn))] for base, size, txn in s.segments],
            [[epoch, start] for epoch, start in s.epochs],
            s.producers,
        ]
    payload = json.dumps({"version": VERSION, "topics": topics}, separators=(",", ":")).encode("ascii")
    return b"%08x %s\n" % (crc32c(payload), payload)


def decode_log_states(data: bytes) -> dict[TopicPartition, LogState]:
    """Raises ValueError (or KeyError/TypeError) when the file is damaged or of another version.
    The CRC vouches for the content, so the lists are taken as they are."""
    crc_hex, _, payload = data.rstrip(b"\n").partition(b" ")
    if len(crc_hex) != 8 or int(crc_hex, 16) != crc32c(payload):
        raise ValueError("CRC mismatch")
    body = json.loads(payload)
    if body.get("version") != VERSION:
        raise ValueError(f"version {body.get('version')}")
    states: dict[TopicPartition, LogState] = {}
    for topic, (topic_id_text, partitions) in body["topics"].items():
        topic_id = None if topic_id_text is None else topic_id_from_str(topic_id_text)
        for partition, (log_start, log_end, hw, segments, epochs, producers) in partitions.items():
            states[TopicPartition(topic, int(partition))] = LogState(
                topic_id, log_start, log_end, hw, segments, epochs, producers
            )
    return states


def read_log_states(path: Path) -> dict[TopicPartition, LogState]:
    """The states in `path`, or none if it is missing or unusable (logged)."""
    try:
        return decode_log_states(path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _log.warning("ignoring %s: %s", path, exc)
        return {}


def write_log_states(path: Path, states: Mapping[TopicPartition, LogState]) -> None:
    write_atomically(path, encode_log_states(states))
