"""What `odradek partitions reassign` reads and prints (pure): kafka-reassign-partitions.sh's JSON
and its messages.

The reassignment file is Kafka's::

    {"version": 1, "partitions": [{"topic": "orders", "partition": 0, "replicas": [2, 3],
                                   "log_dirs": ["any", "any"]}]}

(`log_dirs` is optional and must be "any": moving a replica between log directories of one broker is
not served). `--throttle` sets, as Kafka's tool does, `leader.replication.throttled.rate` and
`follower.replication.throttled.rate` on every broker taking part, and on each moving topic
`leader.replication.throttled.replicas` (the partitions' current replicas, which send) and
`follower.replication.throttled.replicas` (the replicas being added, which fetch); `--verify`
removes them once every reassignment of the file is done.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from odradek.cli.errors import CliError

LEADER_RATE = "leader.replication.throttled.rate"
FOLLOWER_RATE = "follower.replication.throttled.rate"
LEADER_REPLICAS = "leader.replication.throttled.replicas"
FOLLOWER_REPLICAS = "follower.replication.throttled.replicas"


@dataclass(frozen=True, slots=True)
class Move:
    topic: str
    partition: int
    replicas: tuple[int, ...]


def parse_plan(text: str) -> list[Move]:
    """The moves of a reassignment JSON file; CliError naming what is wrong."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"the reassignment file is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("partitions"), list):
        raise CliError('the reassignment file must be {"version": 1, "partitions": [...]}')
    if doc.get("version", 1) != 1:
        raise CliError(f"unsupported reassignment file version {doc.get('version')!r} (1 is)")
    moves: list[Move] = []
    seen: set[tuple[str, int]] = set()
    for entry in doc["partitions"]:
        if not isinstance(entry, dict):
            raise CliError(f"each partition must be an object, not {entry!r}")
        topic, partition, replicas = entry.get("topic"), entry.get("partition"), entry.get("replicas")
        if not isinstance(topic, str) or not isinstance(partition, int) or not isinstance(replicas, list):
            raise CliError(f"each partition needs topic, partition and replicas: {json.dumps(entry)}")
        if not replicas or not all(isinstance(r, int) for r in replicas):
            raise CliError(f"{topic}-{partition}: replicas must be a non-empty list of broker ids")
        if len(set(replicas)) != len(replicas):
            raise CliError(f"{topic}-{partition}: a broker is listed twice in {replicas}")
        dirs = entry.get("log_dirs")
        if dirs is not None and (not isinstance(dirs, list) or any(d != "any" for d in dirs)):
            raise CliError(f'{topic}-{partition}: only "any" log directories are supported')
        if (topic, partition) in seen:
            raise CliError(f"{topic}-{partition} is listed twice")
        seen.add((topic, partition))
        moves.append(Move(topic, partition, tuple(replicas)))
    if not moves:
        raise CliError("the reassignment file lists no partitions")
    return moves


def current_plan(current: Mapping[tuple[str, int], Sequence[int]]) -> str:
    """The rollback file Kafka's tool prints before it starts."""
    partitions = [
        {"topic": t, "partition": p, "replicas": list(r), "log_dirs": ["any"] * len(r)}
        for (t, p), r in sorted(current.items())
    ]
    return json.dumps({"version": 1, "partitions": partitions})


def throttled_replicas(
    moves: Iterable[Move], current: Mapping[tuple[str, int], Sequence[int]]
) -> dict[str, dict[str, str]]:
    """Per moving topic: the two `*.replication.throttled.replicas` values."""
    leaders: dict[str, list[str]] = {}
    followers: dict[str, list[str]] = {}
    for move in moves:
        existing = current.get((move.topic, move.partition), ())
        leaders.setdefault(move.topic, []).extend(f"{move.partition}:{b}" for b in existing)
        adding = [b for b in move.replicas if b not in existing]
        followers.setdefault(move.topic, []).extend(f"{move.partition}:{b}" for b in adding)
    return {
        topic: {
            LEADER_REPLICAS: ",".join(leaders[topic]),
            FOLLOWER_REPLICAS: ",".join(followers.get(topic, [])),
        }
        for topic in leaders
    }


def brokers_taking_part(moves: Iterable[Move], current: Mapping[tuple[str, int], Sequence[int]]) -> list[int]:
    found: set[int] = set()
    for move in moves:
        found.update(move.replicas)
        found.update(current.get((move.topic, move.partition), ()))
    return sorted(found)


def render_list(ongoing: Sequence[tuple[str, int, Sequence[int], Sequence[int], Sequence[int]]]) -> str:
    if not ongoing:
        return "No partition reassignment is in progress.\n"
    lines = ["Current partition reassignments:"]
    for topic, partition, replicas, adding, removing in ongoing:
        lines.append(
            f"{topic}-{partition}: replicas: {_ids(replicas)}. "
            f"adding: {_ids(adding)}. removing: {_ids(removing)}."
        )
    return "\n".join(lines) + "\n"


def render_verify(states: Sequence[tuple[Move, str]]) -> str:
    """`states`: per move, "complete", "in progress" or "failed" (the replicas are not the target)."""
    lines = ["Status of partition reassignment:"]
    for move, status in states:
        if status == "complete":
            lines.append(f"Reassignment of partition {move.topic}-{move.partition} is complete.")
        elif status == "in progress":
            lines.append(f"Reassignment of partition {move.topic}-{move.partition} is still in progress.")
        else:
            lines.append(
                f"There is no active reassignment of partition {move.topic}-{move.partition}, "
                f"but replica set is {status} rather than {_ids(move.replicas)}."
            )
    return "\n".join(lines) + "\n"


def _ids(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids)
