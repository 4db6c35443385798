"""The reliability checker of the fault tests: what producers were told against what consumers read.

Producers write unique values (`Write(producer, seq)`: producer name and a sequence number per
producer, counted per partition) and record every acknowledgement with the partition and offset
the broker gave. After the faults heal, consumers read every partition from its start and record
`(offset, value)`. `check(history)` then reports

* lost: acknowledged writes that no partition holds (an acknowledged write must survive);
* duplicates: writes read more than once (idempotence must keep retries out of the log);
* duplicates_after_timeout: duplicates the client caused, reported apart: writes read more than once
  whose producer had an earlier write to the same partition time out (`History.time_out`, a
  delivery that failed with librdkafka's _MSG_TIMED_OUT after `message.timeout.ms`). librdkafka
  then bumps its producer epoch and sends the writes it still holds again under new sequence
  numbers, some of which the broker may already have appended: no broker can tell those apart
  from new writes, Apache Kafka included (docs/cluster.md, "What idempotence guarantees");
* duplicates_after_epoch_bump: duplicates the client caused, reported apart too: writes read more
  than once that the client still held unacknowledged when it bumped its epoch after an
  OUT_OF_ORDER_SEQUENCE_NUMBER that followed a request the leader refused without appending it
  (`History.epoch_bumped`; librdkafka issue #4953, seen with Apache Kafka: librdkafka then
  renumbers every write it holds, of every partition, including one whose earlier attempt the
  old leader had appended before it died);
* conflicts: acknowledged writes whose offset holds another value, or an offset read with two
  different values (two replicas that disagree on committed data);
* reordered: a producer's writes to one partition read in another order than its sequence numbers
  (an idempotent producer keeps its order per partition); only the first copy of a write counts
  (a later copy is a duplicate, reported as one);
* unexpected: values read that nobody wrote (a torn or corrupt batch served as data);
* unacknowledged_present: writes never acknowledged but read (legal: the answer was lost).

Pure: no clients, no sockets; the fault tests and their unit tests feed it histories.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

SEPARATOR = "/"


@dataclass(frozen=True, order=True)
class Write:
    producer: str
    seq: int

    def encode(self) -> bytes:
        return f"{self.producer}{SEPARATOR}{self.seq}".encode()

    @staticmethod
    def decode(value: bytes | None) -> Write | None:
        """The write a value carries, or None for something nobody wrote."""
        if value is None:
            return None
        producer, sep, seq = value.decode(errors="replace").rpartition(SEPARATOR)
        if not sep or not seq.isdigit():
            return None
        return Write(producer, int(seq))


@dataclass
class History:
    """Everything one run saw. Partitions are ints (one topic per run)."""

    attempted: set[Write] = field(default_factory=set)
    acked: dict[Write, tuple[int, int]] = field(default_factory=dict)  # -> (partition, offset)
    reads: dict[int, list[tuple[int, bytes | None]]] = field(default_factory=lambda: defaultdict(list))
    timed_out: set[Write] = field(default_factory=set)
    first_timeout: dict[tuple[str, int], int] = field(default_factory=dict)
    """(producer, partition) -> the lowest seq of a write whose delivery timed out there."""
    resent_after_bump: set[Write] = field(default_factory=set)
    """Writes the client held unacknowledged when it bumped its epoch for a reason a broker gave
    legally (`epoch_bumped`): they may be in the log under the old epoch and again under the new."""
    epoch_bumps: list[str] = field(default_factory=list)
    """Why the client bumped its epoch, one entry per bump (the client's own words)."""

    def attempt(self, write: Write) -> None:
        self.attempted.add(write)

    def ack(self, write: Write, partition: int, offset: int) -> None:
        self.attempted.add(write)
        self.acked[write] = (partition, offset)

    def read(self, partition: int, offset: int, value: bytes | None) -> None:
        self.reads[partition].append((offset, value))

    def time_out(self, write: Write, partition: int) -> None:
        """The client gave up on `write` (message.timeout.ms): it may or may not be in the log."""
        self.attempted.add(write)
        self.timed_out.add(write)
        key = (write.producer, partition)
        self.first_timeout[key] = min(write.seq, self.first_timeout.get(key, write.seq))

    def epoch_bumped(self, unacknowledged: set[Write], reason: str, *, excused: bool) -> None:
        """The client bumped its producer epoch while it held `unacknowledged`; with `excused`, the
        bump followed only answers Kafka gives too (see `check`), so their copies are its doing."""
        self.epoch_bumps.append(("" if excused else "NOT EXCUSED: ") + reason)
        if excused:
            self.resent_after_bump |= unacknowledged

    def after_timeout(self, write: Write, partition: int) -> bool:
        """Was `write` produced after one of its producer's writes to `partition` timed out?"""
        first = self.first_timeout.get((write.producer, partition))
        return first is not None and write.seq > first


@dataclass
class Report:
    acknowledged: int
    read: int
    lost: list[Write]
    duplicates: list[Write]
    conflicts: list[str]
    reordered: list[str]
    unexpected: list[str]
    unacknowledged_present: int
    duplicates_after_timeout: list[Write] = field(default_factory=list)
    timed_out: int = 0
    duplicates_after_epoch_bump: list[Write] = field(default_factory=list)
    epoch_bumps: int = 0

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicates or self.conflicts or self.reordered or self.unexpected)

    def summary(self) -> str:
        def head(items: list[object] | list[Write] | list[str]) -> str:
            shown = ", ".join(str(i) for i in items[:5])
            return f"{len(items)}" + (f" ({shown}{', ...' if len(items) > 5 else ''})" if items else "")

        return (
            f"acknowledged {self.acknowledged}, read {self.read}, "
            f"lost {head(list(self.lost))}, duplicates {head(list(self.duplicates))}, "
            f"conflicts {head(list(self.conflicts))}, reordered {head(list(self.reordered))}, "
            f"unexpected {head(list(self.unexpected))}, "
            f"unacknowledged but present {self.unacknowledged_present}, timed out {self.timed_out}, "
            f"duplicates after a client timeout {head(list(self.duplicates_after_timeout))}, "
            f"client epoch bumps {self.epoch_bumps}, "
            f"duplicates after a client epoch bump {head(list(self.duplicates_after_epoch_bump))}"
        )


def check(history: History) -> Report:
    found: dict[Write, list[tuple[int, int]]] = defaultdict(list)  # write -> [(partition, offset)]
    at_offset: dict[tuple[int, int], bytes | None] = {}
    conflicts: list[str] = []
    unexpected: list[str] = []
    reordered: list[str] = []
    total = 0
    for partition, records in sorted(history.reads.items()):
        last_seq: dict[str, tuple[int, int]] = {}  # producer -> (seq, offset) last read
        for offset, value in records:
            total += 1
            seen = at_offset.setdefault((partition, offset), value)
            if seen != value:
                conflicts.append(f"p{partition}@{offset}: read {seen!r} and {value!r}")
                continue
            write = Write.decode(value)
            if write is None or write not in history.attempted:
                unexpected.append(f"p{partition}@{offset}: {value!r}")
                continue
            if (partition, offset) in found[write]:
                continue  # the same record read twice (two reads of a partition): not a duplicate
            found[write].append((partition, offset))
            if len(found[write]) > 1:
                continue  # a later copy: a duplicate, not a reordering
            before = last_seq.get(write.producer)
            if before is not None and before[0] > write.seq:
                where = f"p{partition}: {write.producer} seq {write.seq}@{offset}"
                reordered.append(f"{where} after seq {before[0]}@{before[1]}")
            last_seq[write.producer] = (write.seq, offset)
    lost = sorted(w for w in history.acked if w not in found)
    copied = sorted(w for w, places in found.items() if len(places) > 1)
    excused = [w for w in copied if all(history.after_timeout(w, p) for p, _ in found[w])]
    bumped = [w for w in copied if w in history.resent_after_bump and w not in set(excused)]
    duplicates = [w for w in copied if w not in set(excused) and w not in set(bumped)]
    for write, (partition, offset) in sorted(history.acked.items()):
        places = found.get(write)
        if not places or (partition, offset) in places or offset < 0:
            continue
        holder = at_offset.get((partition, offset))
        if (partition, offset) in at_offset:
            conflicts.append(f"{write} acknowledged at p{partition}@{offset}, which holds {holder!r}")
        else:
            conflicts.append(f"{write} acknowledged at p{partition}@{offset}, read at {places}")
    unacked = Counter(w not in history.acked for w in found)[True]
    return Report(
        acknowledged=len(history.acked),
        read=total,
        lost=lost,
        duplicates=duplicates,
        conflicts=conflicts,
        reordered=reordered,
        unexpected=unexpected,
        unacknowledged_present=unacked,
        duplicates_after_timeout=excused,
        timed_out=len(history.timed_out),
        duplicates_after_epoch_bump=bumped,
        epoch_bumps=len(history.epoch_bumps),
    )
