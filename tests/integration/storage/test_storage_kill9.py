"""A real kill -9: a child process appends and prints each acknowledged offset; none may be lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import odradek
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import iter_headers, iter_records
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager

TP = TopicPartition("kill9", 0)
CONFIG = LogConfig(segment_bytes=64 * 1024, index_interval_bytes=1024)

CHILD = """
import sys, uuid
from pathlib import Path
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import build_batch, validate_batches
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager

config = LogConfig(segment_bytes=64 * 1024, index_interval_bytes=1024)
manager = LogManager([Path(sys.argv[1])])
manager.load(lambda topic: config, 0)
log = manager.create_partition(TopicPartition("kill9", 0), uuid.UUID(int=9), config, 0)
i = 0
while True:
    records = [(b"%d" % i, b"value-%d-%d" % (i, k) * (1 + i % 7), [], 1000 + i) for k in range(1 + i % 5)]
    buf = bytearray(build_batch(records))
    info = log.append(buf, validate_batches(buf), 0, 1000 + i)
    sys.stdout.write(f"{i} {info.first_offset} {info.last_offset}\\n")
    sys.stdout.flush()
    i += 1
"""


def test_every_acknowledged_append_survives_sigkill(tmp_path: Path) -> None:
    src = str(Path(odradek.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": src}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, env=env, text=True
    )
    assert child.stdout is not None
    lines = []
    deadline = time.monotonic() + 3.0
    while len(lines) < 2000 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        lines.append(line)
    child.send_signal(signal.SIGKILL)
    child.wait()
    lines += child.stdout.readlines()  # printed before death, so acknowledged too
    child.stdout.close()
    acked = [tuple(map(int, line.split())) for line in lines if line.endswith("\n")]
    assert child.returncode == -signal.SIGKILL
    assert len(acked) > 100, "the child barely started"

    manager = LogManager([tmp_path])
    report = manager.load(lambda topic: CONFIG, 0)
    assert report.recovered == [TP]
    log = manager.get(TP)
    assert log is not None
    data = b"".join(log.read(0, 1 << 40, log.log_end_offset).chunks)
    batches = {h.base_offset: (pos, h) for pos, h in iter_headers(data)}
    for i, first, last in acked:
        pos, header = batches[first]
        assert header.base_offset + header.last_offset_delta == last
        keys = {r.key for r in iter_records(data, pos, header)}
        assert keys == {b"%d" % i}
    # At most the one batch written but not yet printed follows the last acknowledgement.
    assert log.log_end_offset - (acked[-1][2] + 1) in range(6)
    assert len(log.segments) > 1
    manager.close()
