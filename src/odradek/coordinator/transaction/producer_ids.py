"""Producer id allocation: ids come from blocks of 1000 that are made durable before any id is used.

The generator is pure: it hands out the ids of its current block and says when it wants the next
block (`wants_block`, once 90% of the current one is used, so the next one is usually ready). The
shell obtains blocks from a durable allocator (`ProducerIdBlockStore`): the metadata store's
`ProducerIdsRecord` watermark (Kafka's KRaft design) or, for a single node without it, the small
file in `producer_id_store.py`. A block is persisted before it is handed out, so ids never repeat
after a restart; the unused rest of a block is simply skipped.

When no id is available (the first block is still being fetched), InitProducerId answers
COORDINATOR_LOAD_IN_PROGRESS, a retriable error, as Kafka's RPCProducerIdManager does.
"""

from __future__ import annotations

from dataclasses import dataclass

BLOCK_SIZE = 1000
PREFETCH_RATIO = 0.9


@dataclass(frozen=True, slots=True)
class ProducerIdBlock:
    first_id: int
    size: int = BLOCK_SIZE

    @property
    def last_id(self) -> int:
        return self.first_id + self.size - 1


class ProducerIdGenerator:
    def __init__(self) -> None:
        self._current: ProducerIdBlock | None = None
        self._next_id = 0
        self._prefetched: ProducerIdBlock | None = None
        self._requested = False

    def next_id(self) -> int | None:
        if self._current is None or self._next_id > self._current.last_id:
            self._current, self._prefetched = self._prefetched, None
            if self._current is None:
                return None
            self._next_id = self._current.first_id
        pid = self._next_id
        self._next_id += 1
        return pid

    def wants_block(self) -> bool:
        """True once when a new block should be fetched; call `add_block` with it."""
        if self._requested or self._prefetched is not None:
            return False
        current = self._current
        if current is None or self._next_id - current.first_id >= PREFETCH_RATIO * current.size:
            self._requested = True
            return True
        return False

    def add_block(self, block: ProducerIdBlock) -> None:
        self._requested = False
        if self._current is not None and block.first_id <= self._current.last_id:
            raise ValueError(f"producer id block {block} overlaps {self._current}")
        self._prefetched = block

    def block_failed(self) -> None:
        """The requested block could not be allocated: ask again later."""
        self._requested = False
