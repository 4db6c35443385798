"""Three distributed workers (real processes) share an exactly-once source; one is killed -9
mid-stream: every task is running again on the survivors, and the topic holds each task's
sequence with no duplicate and no gap (read_committed)."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from connect_helpers import read_all, read_topic, wait_for

from odradek.testing.connect_worker import ConnectWorkerProcess

TASKS = 6
WORKER = {
    "exactly.once.source.support": "enabled",
    "odradek.task.slots": "24",
    "scheduled.rebalance.max.delay.ms": "6000",
    "offset.flush.interval.ms": "500",
    "offset.storage.partitions": "5",
    "status.storage.partitions": "2",
    "key.converter": "org.apache.kafka.connect.converters.IntegerConverter",
    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
}


@pytest.fixture
def workers(bootstrap: str) -> Iterator[list[ConnectWorkerProcess]]:
    group = f"cluster-{uuid.uuid4().hex[:8]}"
    overrides = {
        **WORKER,
        "config.storage.topic": f"{group}-configs",
        "offset.storage.topic": f"{group}-offsets",
        "status.storage.topic": f"{group}-status",
    }
    workers = [ConnectWorkerProcess(bootstrap, group, overrides) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:  # start together: each waits on its own REST API
        starts = [pool.submit(worker.start) for worker in workers]
    try:
        started = [start.result() for start in starts]
    except Exception:
        for worker in workers:
            worker.kill()
        raise
    yield started
    for worker in started:
        worker.kill()


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def status(url: str, name: str) -> dict:
    answer = httpx.get(f"{url}/connectors/{name}/status", timeout=10)
    return answer.json() if answer.status_code == 200 else {}


def all_running(url: str, name: str) -> dict | None:
    body = status(url, name)
    tasks = body.get("tasks", [])
    if len(tasks) == TASKS and all(t["state"] == "RUNNING" for t in tasks):
        return body
    return None


def test_worker_killed_mid_stream_eos_no_duplicate_no_gap(
    workers: list[ConnectWorkerProcess], bootstrap: str, topic_name: str
) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic_name, 3, 1)])[topic_name].result(10)
    a, b, _ = workers
    for worker in workers:
        wait_for(lambda w=worker: httpx.get(w.url + "/health", timeout=5).status_code == 200, what="healthy")
    config = {
        "connector.class": "org.apache.kafka.connect.tools.VerifiableSourceConnector",
        "topic": topic_name,
        "tasks.max": str(TASKS),
        "throughput": "300",
        "transaction.boundary": "poll",
    }

    # created through a worker that may not lead: forwarded to the leader
    def create() -> bool:
        answer = httpx.post(f"{b.url}/connectors", json={"name": "seq", "config": config}, timeout=30)
        assert answer.status_code in (201, 409), answer.text  # 409 while the group forms: retried
        return (
            answer.status_code == 201 or httpx.get(f"{b.url}/connectors/seq", timeout=10).status_code == 200
        )

    wait_for(create, what="connector created")
    body = wait_for(lambda: all_running(a.url, "seq"), what="all tasks running")
    owners = {t["worker_id"] for t in body["tasks"]} | {body["connector"]["worker_id"]}
    assert len(owners) >= 2, owners  # the work is spread
    victim = next(w for w in workers if w.worker_id in {t["worker_id"] for t in body["tasks"]})
    survivors = [w for w in workers if w is not victim]
    wait_for(
        lambda: (
            len(read_topic(bootstrap, topic_name, 300, timeout=5, **{"isolation.level": "read_committed"}))
            >= 300
        ),
        what="records flowing",
    )
    assert victim.proc is not None
    orphans = descendants(victim.proc.pid)
    assert orphans, "the victim runs its tasks in processes of their own"
    victim.kill()
    # its task processes (and their fork server) see the worker gone and exit by themselves
    wait_for(
        lambda: not [p for p in orphans if alive(p)], timeout=15, what="the victim's task processes exit"
    )

    # the victim's tasks move to the survivors once its session times out: nothing unassigned
    def moved() -> dict | None:
        body = all_running(survivors[0].url, "seq")
        if body and all(t["worker_id"] != victim.worker_id for t in body["tasks"]):
            return body
        return None

    body = wait_for(moved, timeout=60, what="tasks reassigned to the survivors")
    assert {t["worker_id"] for t in body["tasks"]} <= {w.worker_id for w in survivors}
    before = {t: 0 for t in range(TASKS)}
    wait_for(
        lambda: (
            len(read_all(bootstrap, topic_name, **{"isolation.level": "read_committed"})) > 300 + TASKS * 300
        ),
        timeout=60,
        what="progress after the kill",
    )
    assert httpx.put(f"{survivors[0].url}/connectors/seq/stop", timeout=30).status_code == 202
    wait_for(
        lambda: httpx.get(f"{survivors[0].url}/connectors/seq", timeout=10).json()["tasks"] == [],
        what="stopped",
    )
    # "stopped" is the connector's state; a task winding down may still be committing its last
    # transaction (records and offsets together), so read both until they agree: the offsets the
    # connector stored must end up naming the last record written, and would never agree if an
    # aborted transaction's offsets were visible or a committed one's records were lost
    seen: list[tuple[dict[int, list[int]], dict[int, int]]] = []

    def settled() -> bool:
        messages = read_all(bootstrap, topic_name, **{"isolation.level": "read_committed"})
        seqnos: dict[int, list[int]] = defaultdict(list)
        for message in messages:
            record = json.loads(message.value())
            seqnos[record["task"]].append(record["seqno"])
        offsets = httpx.get(f"{survivors[0].url}/connectors/seq/offsets", timeout=10).json()["offsets"]
        stored = {o["partition"]["id"]: o["offset"]["seqno"] for o in offsets}
        seen.append((seqnos, stored))
        return stored == {task: len(numbers) - 1 for task, numbers in seqnos.items()}

    try:
        wait_for(settled, timeout=30, interval=1)
    except AssertionError:
        seqnos, stored = seen[-1]
        last = {task: max(numbers) for task, numbers in seqnos.items()}
        raise AssertionError(f"the stored offsets {stored} never named the last records {last}") from None
    seqnos, stored = seen[-1]
    assert set(seqnos) == set(before)
    for task, numbers in seqnos.items():
        assert sorted(numbers) == list(range(len(numbers))), f"task {task}: duplicates or gaps"
        assert len(numbers) == len(set(numbers))
