"""The follower's side of an incremental fetch session (KIP-227), as plain code: Kafka's
FetchSessionHandler for a replica fetcher.

A follower fetches the same partitions from its leader round after round, and most of them
(`__consumer_offsets` alone is 50 partitions) have nothing new. In a session the leader remembers
each partition's fetch position; the follower's first fetch is a full one (``session_id=0``,
``session_epoch=0``: "open a session") naming every partition, and each later fetch names only the
partitions whose position changed (its fetch offset, the leader epoch it follows, ...) plus the ones
it stopped fetching (``forgotten_topics_data``). The leader still reads every partition of the
session and answers only the ones with something new (`broker/fetch_sessions.py`).

`FollowerFetchSession.build` says what the next request must carry; `on_response` takes the
leader's answer (a new session id, the next epoch, or an error: FETCH_SESSION_ID_NOT_FOUND after
the leader evicted the session, INVALID_FETCH_SESSION_EPOCH, anything else) and `reset` forgets the
session after a lost connection. After any error the next fetch is a full one again, which opens a
new session (replacing the old one on the leader when it still has it).
"""

from __future__ import annotations

from dataclasses import dataclass

from odradek.model.errors import ErrorCode

INITIAL_EPOCH = 0
INT32_MAX = 0x7FFFFFFF

PartitionKey = tuple[str, int]
"""(topic name, partition index)."""


@dataclass(frozen=True, slots=True)
class FetchPosition:
    """What a fetch says about one partition: the leader keeps this in the session."""

    fetch_offset: int
    current_leader_epoch: int
    last_fetched_epoch: int
    log_start_offset: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class SessionRequest:
    """The session fields of the next Fetch and which partitions it names."""

    session_id: int
    session_epoch: int
    send: list[PartitionKey]
    """The partitions the request names (all of them in a full fetch, the changed ones otherwise)."""
    forgotten: list[PartitionKey]
    """Partitions the session holds that this round does not fetch (incremental fetches only)."""

    @property
    def full(self) -> bool:
        return self.session_epoch == INITIAL_EPOCH


class FollowerFetchSession:
    """What the leader's session holds for this follower, and the next request's session fields."""

    def __init__(self) -> None:
        self.session_id = 0
        """0: no session (the next fetch is a full one that asks for a new session)."""
        self.epoch = INITIAL_EPOCH
        self.positions: dict[PartitionKey, FetchPosition | None] = {}
        """What the leader's session holds (as of the last answered request); None: not known
        (the partition failed there), so it is named again or forgotten, never left out."""
        self._pending: dict[PartitionKey, FetchPosition | None] | None = None

    def build(self, wanted: dict[PartitionKey, FetchPosition]) -> SessionRequest:
        """The next fetch for the partitions in `wanted` (every partition this round fetches)."""
        self._pending = dict[PartitionKey, FetchPosition | None](wanted)
        if self.session_id == 0 or self.epoch == INITIAL_EPOCH:
            return SessionRequest(self.session_id, INITIAL_EPOCH, list(wanted), [])
        held = self.positions
        send = [key for key, position in wanted.items() if held.get(key) != position]
        forgotten = [key for key in held if key not in wanted]
        return SessionRequest(self.session_id, self.epoch, send, forgotten)

    def on_response(self, error: int, session_id: int) -> bool:
        """The leader answered the request `build` made; False: it refused the session (or the
        whole fetch), and the next fetch is a full one."""
        pending, self._pending = self._pending, None
        if error != ErrorCode.NO_ERROR or pending is None:
            if error == ErrorCode.FETCH_SESSION_ID_NOT_FOUND:
                self.session_id = 0  # gone: ask for a new one
            self.epoch = INITIAL_EPOCH  # a full fetch next, replacing the session if the leader has it
            self.positions = {}
            return False
        if session_id == 0:  # the leader keeps no session for us (none free, or sessions disabled)
            self.session_id, self.epoch, self.positions = 0, INITIAL_EPOCH, {}
            return True
        if self.epoch == INITIAL_EPOCH:
            self.session_id = session_id  # a new session, holding exactly what the full fetch named
        elif session_id != self.session_id:  # not the session we fetched in: start over
            self.epoch, self.positions = INITIAL_EPOCH, {}
            return False
        self.epoch = 1 if self.epoch >= INT32_MAX else self.epoch + 1
        self.positions = pending
        return True

    def failed(self, key: PartitionKey) -> None:
        """The leader answered an error for this partition: its session may not hold it (a topic
        id it does not know yet is left out of the session), so the next fetch that wants it
        names it again, and one that does not forgets it."""
        if key in self.positions:
            self.positions[key] = None

    def reset(self) -> None:
        """The connection broke (a request may or may not have reached the leader): start over
        with a full fetch that replaces the session."""
        self._pending = None
        self.epoch = INITIAL_EPOCH
        self.positions = {}
