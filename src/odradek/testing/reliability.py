"""The reliability checker of the fault tests: what producers were told against what consumers read.

Producers write unique values (`Write(producer, seq)`: producer name and a sequence number per
producer, counted per partition) and record every acknowledgement with the partition and offset
the broker gave. After the faults heal, consumers read every partition from its start and record
`(offset, value)`. `check(history)` then reports

* lost: acknowledged writes that no partition holds (an acknowledged write must survive);
* duplicates: writes read more than once (idempotence must keep retries out of the log);
* conflicts: acknowledged writes whose offset holds another value, or an offset read with two
  different values (two replicas that disagree on committed data);
* reordered: a producer's writes to one partition read in another order than its sequence numbers
  (an idempotent producer keeps its order per partition);
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

    def attempt(self, write: Write) -> None:
        self.attempted.add(write)

    def ack(self, write: Write, partition: int, offset: int) -> None:
        self.attempted.add(write)
        self.acked[write] = (partition, offset)

    def read(self, partition: int, offset: int, value: bytes | None) -> None:
        self.reads[partition].append((offset, value))


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
            f"unacknowledged but present {self.unacknowledged_present}"
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
            before = last_seq.get(write.producer)
            if before is not None and before[0] > write.seq:
                where = f"p{partition}: {write.producer} seq {write.seq}@{offset}"
                reordered.append(f"{where} after seq {before[0]}@{before[1]}")
            last_seq[write.producer] = (write.seq, offset)
    lost = sorted(w for w in history.acked if w not in found)
    duplicates = sorted(w for w, places in found.items() if len(places) > 1)
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
    )
