"""A durable producer id block allocator for a single node without a metadata store.

`<data dir>/producer-id-block` holds the last allocated block as JSON, the shape of Kafka's
ZooKeeper znode `/latest_producer_id_block`::

    {"version": 1, "broker": 0, "block_start": "4000", "block_end": "4999"}

`allocate` reads it, writes the next block (write to `.tmp`, fsync, rename, fsync the directory) and
only then returns it, so an id is never handed out twice across restarts; ids of a block not used
up before a restart are skipped. The file work runs in a worker thread. In a cluster (or with the
metadata store) the `ProducerIdsRecord` watermark of the metadata layer plays this role instead.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from odradek.coordinator.transaction.producer_ids import BLOCK_SIZE, ProducerIdBlock

FILE_NAME = "producer-id-block"


class FileProducerIdBlockStore:
    def __init__(self, directory: Path, broker_id: int = 0, block_size: int = BLOCK_SIZE) -> None:
        self.path = directory / FILE_NAME
        self.broker_id = broker_id
        self.block_size = block_size
        self._lock = asyncio.Lock()

    async def allocate(self) -> ProducerIdBlock:
        async with self._lock:
            return await asyncio.to_thread(self._allocate)

    def _allocate(self) -> ProducerIdBlock:
        first = 0
        if self.path.exists():
            last = json.loads(self.path.read_text())
            first = int(last["block_end"]) + 1
        block = ProducerIdBlock(first, self.block_size)
        data = {
            "version": 1,
            "broker": self.broker_id,
            "block_start": str(first),
            "block_end": str(block.last_id),
        }
        tmp = self.path.with_name(FILE_NAME + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, json.dumps(data).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return block
