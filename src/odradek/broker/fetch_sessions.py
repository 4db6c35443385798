"""Incremental fetch sessions (KIP-227), pure.

A client that sends ``session_id=0, session_epoch=0`` asks for a session: the broker remembers
the partitions of this full fetch and returns a session id. Later fetches with that id and the next
epoch list only partitions whose fetch position changed (plus removals in ``forgotten_topics``),
and the response carries only partitions with something new to say: records, an error, or a
changed high watermark / last stable offset / log start offset. ``session_epoch=-1`` closes a
session (a sessionless full fetch); an unknown id gets FETCH_SESSION_ID_NOT_FOUND, a wrong epoch
INVALID_FETCH_SESSION_EPOCH. Sessions are evicted least-recently-used past ``max_sessions``
(Kafka's ``max.incremental.fetch.session.cache.slots``).

Epochs: 0 = create, -1 = final (no session), otherwise the next expected value, wrapping from
Int32.MAX to 1.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from dataclasses import dataclass, field

from odradek.model.errors import ErrorCode

INITIAL_EPOCH = 0
FINAL_EPOCH = -1
INT32_MAX = 0x7FFFFFFF

PartitionKey = tuple[str, int]
"""(topic name, partition index)."""


@dataclass(slots=True)
class SessionPartition:
    """A partition of an incremental fetch session (KIP-227) and what its client was last told."""

    fetch_offset: int
    max_bytes: int
    current_leader_epoch: int = -1
    last_fetched_epoch: int = -1
    # what the client was last told, to decide whether a partition changed
    high_watermark: int = -1
    last_stable_offset: int = -1
    log_start_offset: int = -1


@dataclass(slots=True)
class FetchSession:
    """An incremental fetch session (KIP-227): its id, epoch and partitions."""

    session_id: int
    epoch: int
    partitions: dict[PartitionKey, SessionPartition] = field(default_factory=dict)

    def next_epoch(self) -> int:
        return 1 if self.epoch >= INT32_MAX else self.epoch + 1


@dataclass(slots=True)
class SessionContext:
    """What one Fetch request resolved to."""

    error: ErrorCode = ErrorCode.NO_ERROR
    session: FetchSession | None = None
    """The session this fetch belongs to (None: sessionless full fetch)."""
    incremental: bool = False
    response_session_id: int = 0


class FetchSessionCache:
    def __init__(self, max_sessions: int = 1000, rng: random.Random | None = None) -> None:
        self.max_sessions = max_sessions
        self.rng = rng or random.Random()
        self.sessions: OrderedDict[int, FetchSession] = OrderedDict()

    def begin(
        self,
        session_id: int,
        epoch: int,
        requested: dict[PartitionKey, SessionPartition],
        forgotten: list[PartitionKey],
    ) -> SessionContext:
        """Resolve a request to a session and update the session's partitions."""
        if session_id == 0:
            if epoch == FINAL_EPOCH:
                return SessionContext()
            if epoch != INITIAL_EPOCH:
                return SessionContext(ErrorCode.INVALID_FETCH_SESSION_EPOCH)
            return self._create(requested)
        if epoch == FINAL_EPOCH:
            self.sessions.pop(session_id, None)
            return SessionContext()
        if epoch == INITIAL_EPOCH:
            self.sessions.pop(session_id, None)
            return self._create(requested)
        session = self.sessions.get(session_id)
        if session is None:
            return SessionContext(ErrorCode.FETCH_SESSION_ID_NOT_FOUND)
        if epoch != session.next_epoch():
            return SessionContext(ErrorCode.INVALID_FETCH_SESSION_EPOCH)
        session.epoch = epoch
        self.sessions.move_to_end(session_id)
        for key in forgotten:
            session.partitions.pop(key, None)
        for key, update in requested.items():
            cached = session.partitions.get(key)
            if cached is None:
                session.partitions[key] = update
            else:
                cached.fetch_offset = update.fetch_offset
                cached.max_bytes = update.max_bytes
                cached.current_leader_epoch = update.current_leader_epoch
                cached.last_fetched_epoch = update.last_fetched_epoch
        return SessionContext(session=session, incremental=True, response_session_id=session_id)

    def _create(self, requested: dict[PartitionKey, SessionPartition]) -> SessionContext:
        if self.max_sessions <= 0:
            return SessionContext()
        while len(self.sessions) >= self.max_sessions:
            self.sessions.popitem(last=False)
        session_id = self.rng.randint(1, INT32_MAX)
        while session_id in self.sessions:
            session_id = self.rng.randint(1, INT32_MAX)
        session = FetchSession(session_id, INITIAL_EPOCH, dict(requested))
        self.sessions[session_id] = session
        return SessionContext(session=session, response_session_id=session_id)

    def remove(self, session_id: int) -> None:
        self.sessions.pop(session_id, None)


def changed(
    cached: SessionPartition, has_records: bool, error: int, high_watermark: int, lso: int, log_start: int
) -> bool:
    """Whether an incremental response must include this partition; records what was sent."""
    include = (
        has_records
        or error != 0
        or cached.high_watermark != high_watermark
        or cached.last_stable_offset != lso
        or cached.log_start_offset != log_start
    )
    if include:
        cached.high_watermark = high_watermark
        cached.last_stable_offset = lso
        cached.log_start_offset = log_start
    return include
