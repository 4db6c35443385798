"""Standby replicas (`num.standby.replicas`): warm copies of other instances' task state.

Placement is a pure function every instance computes alike from the group description: for each
task, owned by instance X, the next `n` instances after X in sorted order hold a standby (never X
itself, never more copies than other instances). An instance is known by the `{application.id}.
{process}` prefix of its members' client ids.

The `StandbyManager` thread keeps this instance's standby tasks: it opens their stores in the task
directory (locked, as for an active task), follows their changelog partitions from the checkpoint,
applies the raw records to the stores and checkpoints every few seconds. When a stream thread takes
the task over as active, it asks the manager to release it first; the active task then restores
only the changelog tail after the standby's checkpoint.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from odradek.streams.runtime.checkpoint import read_checkpoint, write_checkpoint
from odradek.streams.runtime.restore import apply_changelog
from odradek.streams.runtime.tasks import TaskFactory
from odradek.streams.state.buffered import BufferedStore
from odradek.streams.state.factory import open_store

log = logging.getLogger("odradek.streams")


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


@dataclass
class StandbyTask:
    task_id: str
    stores: dict[tuple[str, int], BufferedStore]
    offsets: dict[tuple[str, int], int]
    task_dir: Any
    applied: int = 0
    checkpointed: dict[tuple[str, int], int] = field(default_factory=dict)


class StandbyManager:
    def __init__(
        self,
        factory: TaskFactory,
        consumer_config: dict[str, Any],
        instance: str,
        replicas: int,
        describe_owners: Callable[[], tuple[dict[str, str], list[str]]],
        active_task_ids: Callable[[], set[str]],
        client_tags: Callable[[], Mapping[str, Mapping[str, str]]] = dict,
        rack_aware_tags: Sequence[str] = (),
    ) -> None:
        self.factory = factory
        self.config = {
            **consumer_config,
            "group.id": f"{consumer_config['group.id']}-standby-unused",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
        self.instance = instance
        self.replicas = replicas
        self.describe_owners = describe_owners
        self.active_task_ids = active_task_ids
        self.client_tags = client_tags
        self.rack_aware_tags = list(rack_aware_tags)
        self.tasks: dict[str, StandbyTask] = {}
        self._lock = threading.Lock()
        self._release: set[str] = set()
        self._released = threading.Condition(self._lock)
        self._stop = False
        self._thread: threading.Thread | None = None
        self.replan_interval_s = 2.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"{self.instance}-standby", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join(30)

    def release(self, task_id: str, timeout_s: float = 30.0) -> None:
        """Called by a stream thread before it opens `task_id` as active: close the standby first."""
        with self._lock:
            if task_id not in self.tasks:
                return
            self._release.add(task_id)
            deadline = time.monotonic() + timeout_s
            while task_id in self.tasks and time.monotonic() < deadline:
                self._released.wait(0.1)

    def standby_ids(self) -> set[str]:
        with self._lock:
            return set(self.tasks)

    # -- the thread -----------------------------------------------------------------------------------

    def _run(self) -> None:
        consumer = Consumer(self.config)
        next_plan = 0.0
        try:
            while not self._stop:
                self._handle_releases(consumer)
                if time.monotonic() >= next_plan:
                    next_plan = time.monotonic() + self.replan_interval_s
                    try:
                        self._replan(consumer)
                    except Exception as exc:
                        log.warning("standby placement failed (will retry): %s", exc)
                if not self.tasks:
                    time.sleep(0.1)
                    continue
                self._apply(consumer)
        finally:
            with self._lock:
                for task_id in list(self.tasks):
                    self._close(consumer, task_id)
            consumer.close()

    def _apply(self, consumer: Consumer) -> None:
        messages: list[Any] = consumer.consume(5000, 0.1)
        batches: dict[tuple[str, int], list[Any]] = {}
        last: dict[tuple[str, int], int] = {}
        for msg in messages:
            err = msg.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("standby consumer: %s", err)
                continue
            tp = (msg.topic(), msg.partition())
            batches.setdefault(tp, []).append(msg)
            last[tp] = msg.offset() + 1
        with self._lock:
            for tp, batch in batches.items():
                for standby in self.tasks.values():
                    if tp in standby.stores:
                        apply_changelog(standby.stores[tp], batch)
                        standby.offsets[tp] = last[tp]
                        standby.applied += len(batch)
            for standby in self.tasks.values():
                persistent = {tp: o for tp, o in standby.offsets.items() if standby.stores[tp].persistent}
                if persistent and persistent != standby.checkpointed:
                    write_checkpoint(standby.task_dir, persistent)
                    standby.checkpointed = dict(persistent)

    def _handle_releases(self, consumer: Consumer) -> None:
        with self._lock:
            for task_id in list(self._release):
                if task_id in self.tasks:
                    self._close(consumer, task_id)
                self._release.discard(task_id)
            self._released.notify_all()

    def _replan(self, consumer: Consumer) -> None:
        owners, instances = self.describe_owners()
        plan = plan_standbys(owners, instances, self.replicas, self.client_tags(), self.rack_aware_tags)
        wanted = plan.get(self.instance, set())
        wanted -= self.active_task_ids()
        with self._lock:
            for task_id in set(self.tasks) - wanted:
                self._close(consumer, task_id)
        for task_id in sorted(wanted - set(self.tasks)):
            self._open(consumer, task_id)

    def _open(self, consumer: Consumer, task_id: str) -> None:
        sub_id, partition = (int(x) for x in task_id.split("_"))
        sub = self.factory.subtopologies[sub_id]
        logged = [s for s in sub.stores if self.factory.topology.stores[s].logging]
        if not logged:
            return
        try:
            task_dir = self.factory.state_directory.lock(task_id)
        except Exception:
            return  # an active task of this instance holds it
        checkpoint = read_checkpoint(task_dir)
        config = self.factory.config
        stores: dict[tuple[str, int], BufferedStore] = {}
        offsets: dict[tuple[str, int], int] = {}
        for name in logged:
            spec = self.factory.topology.stores[name]
            tp = (self.factory.changelog_topic(name), partition)
            if spec.persistent and tp not in checkpoint:
                self.factory.state_directory.wipe_store(task_id, name)
            stores[tp] = open_store(
                spec, task_dir, config.serde("default.key.serde"), config.serde("default.value.serde")
            )
            offsets[tp] = checkpoint.get(tp, 0) if spec.persistent else 0
        with self._lock:
            self.tasks[task_id] = StandbyTask(task_id, stores, offsets, task_dir)
        consumer.incremental_assign([TopicPartition(t, p, o) for (t, p), o in offsets.items()])
        log.info("standby task %s follows %s", task_id, sorted(offsets))

    def _close(self, consumer: Consumer, task_id: str) -> None:
        """With the lock held."""
        standby = self.tasks.pop(task_id)
        try:
            consumer.incremental_unassign([TopicPartition(*tp) for tp in standby.stores])
        except Exception as exc:
            log.debug("unassigning standby %s: %s", task_id, exc)
        persistent = {tp: o for tp, o in standby.offsets.items() if standby.stores[tp].persistent}
        if persistent:
            write_checkpoint(standby.task_dir, persistent)
        for store in standby.stores.values():
            store.close()
        self.factory.state_directory.unlock(task_id)
        log.info("standby task %s closed at %s", task_id, persistent)
