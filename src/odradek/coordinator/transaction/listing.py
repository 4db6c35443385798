"""DescribeTransactions and ListTransactions (KIP-664 admin APIs), read-only over the shards.

Describe: per id, NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS from its shard, INVALID_REQUEST for
an empty id, TRANSACTIONAL_ID_NOT_FOUND for an unknown id or one being expired; else its producer id
and epoch, state name, timeout, start time and partitions grouped by topic (sorted).

List: COORDINATOR_LOAD_IN_PROGRESS while any shard loads. Filters combine with AND: state names
(unknown names are echoed back in `unknown_state_filters`), producer ids, v1 `DurationFilter` (only
transactions running longer than it: `now - start > duration`), v2 `TransactionalIdPattern` (a
regular expression the whole id must match; null or empty matches all, an invalid one is
INVALID_REQUEST). Ids being expired are never listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import groupby

from odradek.coordinator.transaction.shard import TransactionShard
from odradek.coordinator.transaction.states import TransactionState as S
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import describe_transactions as describe_msg
from odradek.protocol.messages import list_transactions as list_msg


def describe_transaction(shard: TransactionShard, transactional_id: str) -> describe_msg.TransactionState:
    out = describe_msg.TransactionState(transactional_id=transactional_id)
    error = ErrorCode.INVALID_REQUEST if not transactional_id else shard.status()
    md = shard.transactions.get(transactional_id)
    if error is None and (md is None or md.pending_state is S.DEAD):
        error = ErrorCode.TRANSACTIONAL_ID_NOT_FOUND
    if error is not None or md is None:
        out.error_code = int(error or ErrorCode.TRANSACTIONAL_ID_NOT_FOUND)
        return out
    out.producer_id = md.producer_id
    out.producer_epoch = md.producer_epoch
    out.transaction_state = md.state.state_name
    out.transaction_timeout_ms = md.txn_timeout_ms
    out.transaction_start_time_ms = md.txn_start_timestamp
    out.topics = [
        describe_msg.TopicData(topic, [tp.partition for tp in group])
        for topic, group in groupby(sorted(md.partitions), key=lambda tp: tp.topic)
    ]
    return out


def list_transactions(
    shards: Iterable[TransactionShard],
    now_ms: int,
    state_filters: Iterable[str] = (),
    producer_id_filters: Iterable[int] = (),
    duration_filter_ms: int = -1,
    transactional_id_pattern: str | None = None,
) -> list_msg.ListTransactionsResponse:
    shards = list(shards)
    response = list_msg.ListTransactionsResponse()
    if any(shard.loading for shard in shards):
        response.error_code = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
        return response
    pattern = None
    if transactional_id_pattern:
        try:
            pattern = re.compile(transactional_id_pattern)
        except re.error:
            response.error_code = ErrorCode.INVALID_REQUEST
            return response
    states = set()
    for name in state_filters:
        state = S.from_name(name)
        if state is None:
            response.unknown_state_filters.append(name)
        else:
            states.add(state)
    names = list(state_filters)
    producer_ids = set(producer_id_filters)
    for shard in shards:
        if not shard.loaded:
            continue
        for txn_id, md in shard.transactions.items():
            if (
                md.pending_state is S.DEAD
                or (producer_ids and md.producer_id not in producer_ids)
                or (names and md.state not in states)
                or (duration_filter_ms >= 0 and now_ms - md.txn_start_timestamp <= duration_filter_ms)
                or (pattern is not None and pattern.fullmatch(txn_id) is None)
            ):
                continue
            response.transaction_states.append(
                list_msg.TransactionState(txn_id, md.producer_id, md.state.state_name)
            )
    return response
