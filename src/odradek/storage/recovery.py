"""Loading a partition directory at startup, and recovering it after an unclean stop.

After a clean shutdown (the log directory held `.kafka_cleanshutdown`), nothing is scanned: each
segment's indexes get cheap checks (file length a multiple of the entry size, last entry inside the
log), and the log end offset is found by walking the headers after the active segment's last index
entry. Full index checks (ordering) happen lazily, on a segment's first lookup.

After an unclean stop (kill -9, power loss), every segment from the one holding the recovery point
onward is re-read: each batch must be whole, magic 2, CRC-valid, with offsets increasing; the
`.log` is cut at the first batch that is not, later segments are deleted, and both indexes of every
re-read segment are rebuilt. Batches below the recovery point were fsynced and are trusted. Whatever
the shutdown, an index that fails its checks is rebuilt from its `.log`, and leftovers of interrupted
operations (`*.deleted`, `*.tmp`, index files without a `.log`) are removed. Before anything else,
a swap of cleaned segments interrupted by a crash is finished or undone (`segment_swap.py`).

The leader epoch cache is read from `leader-epoch-checkpoint`, extended with the epochs of recovered
batches, then cut to [log start offset, log end offset]; when the file is missing or malformed it is
rebuilt from every batch header.

Producer state and `.txnindex` are rebuilt by `PartitionLog.load` once the segments are loaded
(newest snapshot at or below the log end offset, then a replay of the batch headers after it).
"""

from __future__ import annotations

import logging
import os
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from odradek.protocol.records import BatchHeader
from odradek.storage.file_cache import FileCache
from odradek.storage.index_file import CorruptIndexError
from odradek.storage.layout import (
    CLEANED_SUFFIX,
    DELETED_SUFFIX,
    INDEX_SUFFIX,
    LEADER_EPOCH_CHECKPOINT,
    LOG_SUFFIX,
    SEGMENT_SUFFIXES,
    SNAPSHOT_SUFFIX,
    SWAP_SUFFIX,
    TIME_INDEX_SUFFIX,
    TMP_SUFFIX,
    TXN_INDEX_SUFFIX,
    parse_segment_name,
)
from odradek.storage.leader_epoch_cache import LeaderEpochCache
from odradek.storage.log_config import LogConfig
from odradek.storage.segment import LogSegment
from odradek.storage.segment_swap import recover_swaps

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class LoadedLog:
    """A log loaded from disk: its segments, offsets, recovery point and leader epochs."""

    segments: list[LogSegment]
    log_start_offset: int
    log_end_offset: int
    recovery_point: int
    epoch_cache: LeaderEpochCache
    truncated_bytes: int = 0  # bytes cut from torn or corrupt tails, and in segments dropped after them
    snapshots: list[int] = field(default_factory=list)  # offsets of the producer snapshots found


@dataclass(slots=True)
class DirectoryListing:
    """One partition directory's files, from a single listing."""

    bases: list[int]  # `.log` files, ascending
    indexed: set[int]  # bases with both index files
    with_txn_index: set[int]
    snapshots: list[int]  # producer snapshots, ascending


def list_partition_dir(directory: Path) -> DirectoryListing:
    """Delete `*.deleted`, `*.tmp` and orphan segment files (after finishing or undoing an
    interrupted swap of cleaned segments), and describe what remains."""
    names = os.listdir(directory)
    if any(name.endswith((SWAP_SUFFIX, CLEANED_SUFFIX)) for name in names):
        recover_swaps(directory)
        names = os.listdir(directory)
    parsed = [(name, parse_segment_name(name)) for name in names]
    bases = {p[0] for _, p in parsed if p is not None and p[1] == LOG_SUFFIX}
    by_suffix: dict[str, set[int]] = {INDEX_SUFFIX: set(), TIME_INDEX_SUFFIX: set(), TXN_INDEX_SUFFIX: set()}
    snapshots = []
    for name, p in parsed:
        orphan = p is not None and p[1] in SEGMENT_SUFFIXES and p[0] not in bases
        if name.endswith((DELETED_SUFFIX, TMP_SUFFIX)) or orphan:
            (directory / name).unlink(missing_ok=True)
        elif p is not None and p[1] in by_suffix:
            by_suffix[p[1]].add(p[0])
        elif p is not None and p[1] == SNAPSHOT_SUFFIX:
            snapshots.append(p[0])
    return DirectoryListing(
        sorted(bases),
        by_suffix[INDEX_SUFFIX] & by_suffix[TIME_INDEX_SUFFIX],
        by_suffix[TXN_INDEX_SUFFIX],
        sorted(snapshots),
    )


def _epoch_assigner(cache: LeaderEpochCache) -> Callable[[BatchHeader], None]:
    def assign(header: BatchHeader) -> None:
        if header.partition_leader_epoch > cache.latest_epoch:
            cache.assign(header.partition_leader_epoch, header.base_offset, persist=False)

    return assign


def load_segments(
    directory: Path,
    config: LogConfig,
    files: FileCache,
    *,
    recovery_point: int,
    log_start_offset: int,
    clean: bool,
    now_ms: int,
) -> LoadedLog:
    listing = list_partition_dir(directory)
    bases = listing.bases
    epoch_cache, epochs_ok = LeaderEpochCache.load(directory / LEADER_EPOCH_CHECKPOINT)
    if not bases:
        segment = LogSegment.create(directory, max(log_start_offset, 0), config, now_ms, files)
        epoch_cache.persist()
        start = segment.base_offset
        return LoadedLog([segment], start, start, start, epoch_cache, snapshots=listing.snapshots)

    segments = [
        LogSegment.open(
            directory, base, config, now_ms, files, txn_index_exists=base in listing.with_txn_index
        )
        for base in bases
    ]
    loaded = LoadedLog(segments, 0, 0, 0, epoch_cache, snapshots=listing.snapshots)
    first_recovered = len(segments) if clean else max(0, bisect_right(bases, recovery_point) - 1)

    for i, segment in enumerate(segments[:first_recovered]):
        bound = bases[i + 1] if i + 1 < len(bases) else None
        try:
            if segment.base_offset not in listing.indexed:
                if segment.size == 0 or (
                    i == len(segments) - 1 and segment.size <= config.index_interval_bytes
                ):
                    segment.load_empty_indexes()  # a small active segment is closed without index files
                    continue
                raise CorruptIndexError("missing index file")
            segment.quick_check_indexes(bound)
        except CorruptIndexError as exc:
            _log.warning("rebuilding indexes of %s: %s", segment.log_path, exc)
            _recover(loaded, segment, None, persist=i < len(segments) - 1)

    on_batch = _epoch_assigner(epoch_cache) if epochs_ok else None
    recovered_end: int | None = None  # the log end offset, when the active segment was just recovered
    for i in range(first_recovered, len(segments)):
        last = i == len(segments) - 1
        # The active segment's rebuilt indexes stay in memory until it is sealed (index_file.py).
        cut, next_offset = _recover(loaded, segments[i], on_batch, persist=not last)
        if cut and not last:
            for doomed in segments[i + 1 :]:
                loaded.truncated_bytes += doomed.size
                for path in doomed.rename_to_deleted():
                    path.unlink()
            del segments[i + 1 :]
            recovered_end = next_offset
            break
        if last:
            recovered_end = next_offset

    active = segments[-1]
    if recovered_end is not None:
        log_end_offset = recovered_end
    else:
        active.load_indexes()  # the active segment's indexes are written to: check them now
        log_end_offset, end = active.scan_tail()
        if end != active.size:  # a torn tail despite the clean-shutdown marker: never append after it
            _recover(loaded, active, None, persist=False)
            log_end_offset = active.read_next_offset()
    if not epochs_ok:
        for segment in segments:
            for _, header in segment.headers():
                if header.partition_leader_epoch > epoch_cache.latest_epoch:
                    epoch_cache.assign(header.partition_leader_epoch, header.base_offset, persist=False)
    log_start = min(max(log_start_offset, segments[0].base_offset), log_end_offset)
    epoch_cache.truncate_from_end(log_end_offset)
    epoch_cache.truncate_from_start(log_start)
    if epoch_cache.unsaved or not epochs_ok:
        epoch_cache.persist()
    loaded.log_start_offset = log_start
    loaded.log_end_offset = log_end_offset
    loaded.recovery_point = log_end_offset if clean else min(recovery_point, log_end_offset)
    return loaded


def _recover(
    loaded: LoadedLog,
    segment: LogSegment,
    on_batch: Callable[[BatchHeader], None] | None,
    *,
    persist: bool,
) -> tuple[bool, int]:
    """Recover one segment: (whether its tail was cut, the offset after its last batch)."""
    size = segment.size
    truncated, next_offset = segment.recover(on_batch, persist=persist)
    if truncated:
        loaded.truncated_bytes += size - segment.size
        _log.warning("%s: cut %d bytes of torn or corrupt batches", segment.log_path, size - segment.size)
    return truncated, next_offset
