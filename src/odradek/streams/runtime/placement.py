"""Where task copies go: pure placement rules every instance computes alike from the group.

- `plan_standbys` / `place_standbys`: standby replicas (`num.standby.replicas`) on the instances
  after a task's owner in sorted order, or, with `rack.aware.assignment.tags` (KIP-708), first on
  the instances whose client tags (zone, cluster, ...) differ most from the copies already placed.
- `plan_assignment`: KIP-441's high-availability assignment with warm-up replicas.
- `parse_client_id` / `format_client_id`: how instances find each other's `application.server`
  and client tags in the group description (both travel in the client id).

No I/O here (an import-linter contract keeps this module free of confluent-kafka).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


def plan_standbys(
    owners: Mapping[str, str],
    instances: list[str],
    replicas: int,
    client_tags: Mapping[str, Mapping[str, str]] | None = None,
    rack_aware_tags: Sequence[str] = (),
) -> dict[str, set[str]]:
    """instance -> the task ids it keeps a standby of. See `place_standbys`."""
    ordered = sorted(set(instances))
    plan: dict[str, set[str]] = {i: set() for i in ordered}
    for task, owner in sorted(owners.items()):
        if owner in plan:
            for instance in place_standbys(owner, ordered, replicas, client_tags, rack_aware_tags):
                plan[instance].add(task)
    return plan


def place_standbys(
    owner: str,
    ordered: list[str],
    replicas: int,
    client_tags: Mapping[str, Mapping[str, str]] | None = None,
    rack_aware_tags: Sequence[str] = (),
    prefer: str | None = None,
) -> list[str]:
    """The instances keeping standbys of one task owned by `owner` (never `owner`, never more than
    the other instances). Without rack-aware tags: the next `replicas` instances after the owner in
    sorted order. With `rack_aware_tags` (KIP-708's `rack.aware.assignment.tags`) each next standby
    goes where the most tags (zone, cluster, ...) differ from every copy placed so far, so the
    copies of a task spread over zones before two share one; ties go by ring order after the owner.
    `prefer` (an instance warming up to take the task over) is chosen first when it is eligible."""
    if replicas <= 0 or owner not in ordered:
        return []
    start = ordered.index(owner)
    ring = [ordered[(start + step) % len(ordered)] for step in range(1, len(ordered))]
    count = min(replicas, len(ring))
    tags = client_tags or {}
    used: dict[str, set[str]] = {k: {tags.get(owner, {}).get(k, "")} for k in rack_aware_tags}
    chosen: list[str] = []

    def take(instance: str) -> None:
        chosen.append(instance)
        for k in rack_aware_tags:
            used[k].add(tags.get(instance, {}).get(k, ""))

    if prefer is not None and prefer in ring:
        take(prefer)
    while len(chosen) < count:
        best = min(
            (i for i in ring if i not in chosen),
            key=lambda i: (
                -sum(tags.get(i, {}).get(k, "") not in used[k] for k in rack_aware_tags),
                ring.index(i),
            ),
        )
        take(best)
    return chosen


@dataclass(frozen=True)
class AssignmentPlan:
    """What KIP-441's high-availability assignment gives: the active owner of each task, standby
    replicas, and warm-up replicas (extra standbys on the instances tasks are meant to move to)."""

    active: dict[str, str]
    """task -> instance"""
    standbys: dict[str, set[str]]
    """instance -> tasks it keeps standby replicas of (the warm-ups not included)"""
    warmups: dict[str, set[str]]
    """instance -> tasks it warms up to take over once caught up"""
    target: dict[str, str]
    """task -> the instance a balanced assignment gives it (where it moves once caught up)"""


def plan_assignment(
    tasks: Iterable[str],
    instances: Iterable[str],
    current_owners: Mapping[str, str],
    lags: Mapping[str, Mapping[str, int]],
    replicas: int,
    *,
    stateless: Iterable[str] = (),
    acceptable_recovery_lag: int = 10_000,
    max_warmup_replicas: int = 2,
    client_tags: Mapping[str, Mapping[str, str]] | None = None,
    rack_aware_tags: Sequence[str] = (),
) -> AssignmentPlan:
    """KIP-441 warm-up: balance tasks over instances, but move a stateful task to an instance only
    when that instance's copy of its state is caught up (changelog lag <= `acceptable_recovery_lag`,
    `lags[instance][task]`; no entry: no state there). Until then the task stays with its current
    owner (or, if that left, the instance with the least lag) and the target instance gets a
    standby - the first of its standbys when it has any - or else a warm-up replica, at most
    `max_warmup_replicas` of those at once; the next plan, once the copy caught up, moves the task
    (Kafka Streams repeats the plan every `probing.rebalance.interval.ms`). Stateless tasks move at
    once. Pure and deterministic: every instance computes the same plan from the same inputs."""
    ordered = sorted(set(instances))
    all_tasks = sorted(set(tasks))
    free = set(stateless)
    plan_standbys_: dict[str, set[str]] = {i: set() for i in ordered}
    warmups: dict[str, set[str]] = {i: set() for i in ordered}
    if not ordered:
        return AssignmentPlan({}, plan_standbys_, warmups, {})

    def lag(instance: str, task: str) -> float:
        if task in free or current_owners.get(task) == instance:
            return 0
        found = lags.get(instance, {}).get(task)
        return float("inf") if found is None else found

    # a sticky balanced target: instance loads differ by at most one task
    base, extra = divmod(len(all_tasks), len(ordered))
    load = dict.fromkeys(ordered, 0)
    target: dict[str, str] = {}

    def fits(instance: str) -> bool:
        return load[instance] < base or (load[instance] == base and extra > 0)

    def give(task: str, instance: str) -> None:
        nonlocal extra
        if load[instance] == base:
            extra -= 1
        target[task] = instance
        load[instance] += 1

    for task in all_tasks:
        owner = current_owners.get(task)
        if owner in load and fits(owner):
            give(task, owner)
    for task in all_tasks:
        if task not in target:
            give(task, min((i for i in ordered if fits(i)), key=lambda i: (load[i], lag(i, task), i)))

    active: dict[str, str] = {}
    warming = 0
    for task in all_tasks:
        want = target[task]
        if lag(want, task) <= acceptable_recovery_lag:
            active[task] = want
        else:
            holder = min(ordered, key=lambda i: (lag(i, task), i))
            active[task] = holder if lag(holder, task) < float("inf") else want
        moving_to = want if active[task] != want else None
        placed = place_standbys(active[task], ordered, replicas, client_tags, rack_aware_tags, moving_to)
        for instance in placed:
            plan_standbys_[instance].add(task)
        if moving_to is not None and moving_to not in placed and warming < max_warmup_replicas:
            warmups[moving_to].add(task)
            warming += 1
    return AssignmentPlan(active, plan_standbys_, warmups, target)


def instance_of(client_id: str) -> str:
    """`app.proc@host:port#zone=a` -> `app.proc`."""
    return parse_client_id(client_id)[0]


def parse_client_id(client_id: str) -> tuple[str, str | None, dict[str, str]]:
    """An instance's client id -> (instance, `application.server` or None, client tags).

    Instances find each other in the group description: a member's client id is
    `{application.id}.{process}`, then `@{application.server}` when it serves queries, then
    `#{key}={value},...` with its client tags (`client.tag.*`, KIP-708)."""
    head, _, tail = client_id.partition("#")
    instance, at, host = head.partition("@")
    tags = dict(item.split("=", 1) for item in tail.split(",") if "=" in item) if tail else {}
    return instance, (host if at else None), tags


def format_client_id(instance: str, host: str | None, tags: Mapping[str, str]) -> str:
    """The inverse of `parse_client_id`."""
    out = instance + (f"@{host}" if host else "")
    if tags:
        out += "#" + ",".join(f"{k}={v}" for k, v in sorted(tags.items()))
    return out
