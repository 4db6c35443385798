"""Storage throughput: append and read of 100 B / 1 KiB / 64 KiB batches on one partition log.

Not a test: prints figures to compare runs. Page-cache I/O only (no fsync), like the produce and
fetch paths. Usage: `PYTHONPATH=src python bench/storage_bench.py [--seconds 1.0] [--dir /tmp]`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import build_batch, read_header, validate_batches
from odradek.storage.log_config import LogConfig
from odradek.storage.partition_log import PartitionLog

NOW = 1_700_000_000_000
TP = TopicPartition("bench", 0)


def make_batch(size: int) -> bytes:
    """One uncompressed batch of about `size` bytes, in records of at most 1 KiB."""
    payload = max(1, size - 61)
    per_record = min(1024, payload)
    count = max(1, payload // (per_record + 8))
    value = b"x" * max(0, per_record - 8)
    return build_batch([(None, value, [], NOW + i) for i in range(count)])


def bench_size(root: Path, size: int, seconds: float) -> None:
    directory = root / f"bench-{size}"
    log = PartitionLog.create(directory, TP, uuid.uuid4(), LogConfig(segment_bytes=256 << 20), now_ms=NOW)
    raw = make_batch(size)
    batch_bytes = len(raw)

    # Append: what the broker does per produced batch (copy of the request slice, validate, append).
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            buf = bytearray(raw)
            log.append(buf, validate_batches(buf), 0, NOW)
        n += 100
    elapsed = time.perf_counter() - start
    log.high_watermark = log.log_end_offset
    append_line = f"append {n / elapsed:>10,.0f} batches/s {n * batch_bytes / elapsed / 1e6:>8,.0f} MB/s"

    # Sequential read: a consumer catching up with 1 MiB fetches.
    leo = log.log_end_offset
    read_bytes = reads = 0
    start = time.perf_counter()
    offset = 0
    while offset < leo:
        result = log.read(offset, 1 << 20, leo)
        read_bytes += result.size
        reads += 1
        last = result.chunks[-1]
        offset = read_header(last, len(last) - batch_bytes).next_offset  # every batch has the same size
    seq = time.perf_counter() - start
    seq_line = f"catch-up read {read_bytes / seq / 1e6:>8,.0f} MB/s ({reads} fetches)"

    # Tail read: a consumer at the end re-reading the last few batches.
    tail_from = max(0, leo - 4 * (leo // n))
    m = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds / 2:
        for _ in range(200):
            log.read(tail_from, 1 << 20, leo)
        m += 200
    tail = time.perf_counter() - start
    print(
        f"{size:>6} B batches ({batch_bytes} B on disk): {append_line} | {seq_line} | "
        f"tail read {m / tail:>9,.0f} fetches/s ({tail / m * 1e6:.1f} us each)"
    )
    log.close()
    shutil.rmtree(directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as root:
        for size in (100, 1024, 64 * 1024):
            bench_size(Path(root), size, args.seconds)


if __name__ == "__main__":
    main()
