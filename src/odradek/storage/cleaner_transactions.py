"""The log cleaner's view of transactions: aborted data goes, markers stay (part of Kafka's
`CleanedTransactionMetadata`).

`aborted_transaction_filter(log, first_dirty, first_uncleanable)` is the cleaner's `transactions`
hook (`log_cleaner.py`). It reads the aborted transactions overlapping the cleanable range from the
segments' `.txnindex` files, then answers, batch by batch in log order, whether a batch's records
may be discarded: a transactional data batch of producer P is aborted data when an aborted
transaction of P has begun at or before it and its ABORT marker has not been passed yet. Aborted
records are then neither put in the offset map (they never shadow a committed value of their key)
nor kept. COMMIT/ABORT markers themselves are always kept (Kafka also removes markers whose
transaction has no data left, after a delete horizon: not done here).

The cleaner calls the hook from its worker thread; it only copies the segment list and each
index's entries (single list copies under the GIL), as the cleaner's own steps do with the log.
"""

from __future__ import annotations

from collections import deque

from odradek.protocol.records import BatchHeader
from odradek.storage.partition_log import PartitionLog
from odradek.storage.txn_index import AbortedTxn


class AbortedTransactionFilter:
    def __init__(self, aborted: list[AbortedTxn]) -> None:
        self._pending = deque(sorted(aborted, key=lambda a: a.first_offset))
        self._ongoing: dict[int, AbortedTxn] = {}  # producer id -> its aborted transaction under way

    def discard_records(self, header: BatchHeader) -> bool:
        pending = self._pending
        while pending and pending[0].first_offset <= header.last_offset:
            txn = pending.popleft()
            self._ongoing[txn.producer_id] = txn
        pid = header.producer_id
        ongoing = self._ongoing.get(pid)
        if ongoing is None:
            return False
        if header.is_control:
            if header.base_offset >= ongoing.last_offset:
                del self._ongoing[pid]  # its ABORT marker: the transaction is over
            return False
        return header.is_transactional


def aborted_transaction_filter(
    log: PartitionLog, first_dirty_offset: int, first_uncleanable_offset: int
) -> AbortedTransactionFilter:
    """The `transactions` hook: aborted transactions with data below the first uncleanable offset."""
    aborted = [
        entry
        for segment in log.segments
        for entry in segment.txn_index.entries
        if entry.first_offset < first_uncleanable_offset
    ]
    return AbortedTransactionFilter(aborted)
