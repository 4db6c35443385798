"""`KafkaStreams`: runs a topology against a Kafka cluster.

    streams = KafkaStreams(builder.build(), {
        "application.id": "word-count",
        "bootstrap.servers": "127.0.0.1:9092",
        "default.key.serde": "string", "default.value.serde": "string",
    })
    streams.start()
    ...
    streams.close()

`start()` creates the internal topics (checking co-partitioning against the real partition counts),
fills the global stores, and starts `num.stream.threads` stream threads; each is a member of the
consumer group `application.id`. Start more instances with the same `application.id` to scale out:
partitions (and so tasks and their state) move between them by cooperative rebalancing.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from odradek.streams.config import StreamsConfig
from odradek.streams.errors import InvalidStateStoreException, StreamsException, TopologyException
from odradek.streams.runtime.global_thread import GlobalStreamThread
from odradek.streams.runtime.internal_topics import ensure_internal_topics, plan_internal_topics
from odradek.streams.runtime.partitioner import partition_for
from odradek.streams.runtime.queries import LocalStoreView
from odradek.streams.runtime.standby import (
    StandbyManager,
    format_client_id,
    instance_of,
    parse_client_id,
)
from odradek.streams.runtime.state_directory import StateDirectory
from odradek.streams.runtime.stream_thread import StreamThread, now_ms
from odradek.streams.runtime.tasks import TaskFactory
from odradek.streams.serdes import Serde
from odradek.streams.topology import Topology

log = logging.getLogger("odradek.streams")


class State(enum.Enum):
    CREATED = "CREATED"
    REBALANCING = "REBALANCING"
    RUNNING = "RUNNING"
    PENDING_SHUTDOWN = "PENDING_SHUTDOWN"
    NOT_RUNNING = "NOT_RUNNING"
    ERROR = "ERROR"


@dataclass(frozen=True)
class KeyQueryMetadata:
    """Where a key lives: the instance (`application.server`) of the active task, and its partition."""

    active_host: str | None
    standby_hosts: tuple[str, ...]
    partition: int


class KafkaStreams:
    def __init__(self, topology: Topology, config: Mapping[str, Any] | StreamsConfig) -> None:
        self.config = config if isinstance(config, StreamsConfig) else StreamsConfig(config)
        if not self.config.get("bootstrap.servers"):
            raise StreamsException("KafkaStreams needs bootstrap.servers")
        self.topology = topology
        self.application_id = self.config.application_id
        self.process_id = uuid.uuid4().hex[:12]
        self.application_server: str | None = self.config["application.server"]
        self.iq_server: Any = None
        self.client_tags = {k: str(v) for k, v in self.config.client_overrides("client.tag.").items()}
        raw_tags = self.config["rack.aware.assignment.tags"]
        self.rack_aware_tags = [
            t.strip() for t in (raw_tags.split(",") if isinstance(raw_tags, str) else raw_tags) if t.strip()
        ]
        for key, value in self.client_tags.items():
            if any(c in f"{key}{value}" for c in "#,=@"):
                raise StreamsException(
                    f"client.tag.{key}={value!r}: tags cannot contain '#', ',', '=' or '@'"
                )
        for key in self.rack_aware_tags:
            if key not in self.client_tags:
                raise StreamsException(
                    f"rack.aware.assignment.tags names {key!r}, which is not a client tag (client.tag.{key})"
                )
        self._member_tags: dict[str, dict[str, str]] = {}
        self.client_id = format_client_id(f"{self.application_id}.{self.process_id}", None, self.client_tags)
        self.state = State.CREATED
        self.state_directory = StateDirectory(self.config["state.dir"], self.application_id)
        self.threads: list[StreamThread] = []
        self.global_thread: GlobalStreamThread | None = None
        self._listeners: list[Callable[[State, State], None]] = []
        self._uncaught: Callable[[BaseException], None] | None = None
        self._lock = threading.RLock()
        self._partition_counts: dict[str, int] = {}
        self.error: BaseException | None = None
        self.standby: StandbyManager | None = None
        self._admin_client: Any = None

    # -- naming ---------------------------------------------------------------------------------------

    def physical(self, name: str) -> str:
        return f"{self.application_id}-{name}" if name in self.topology.internal_topics else name

    def _admin(self) -> Any:
        from confluent_kafka.admin import AdminClient

        if self._admin_client is None:
            self._admin_client = AdminClient(
                {
                    "bootstrap.servers": self.config["bootstrap.servers"],
                    **self.config.client_overrides("admin."),
                }
            )
        return self._admin_client

    # -- state ----------------------------------------------------------------------------------------

    def set_state_listener(self, listener: Callable[[State, State], None]) -> None:
        self._listeners.append(listener)

    def set_uncaught_exception_handler(self, handler: Callable[[BaseException], None]) -> None:
        """Called once if a thread fails; the application then shuts down (state ERROR)."""
        self._uncaught = handler

    def _set_state(self, new: State) -> None:
        with self._lock:
            old, self.state = self.state, new
        if old is not new:
            log.info("streams %s: %s -> %s", self.application_id, old.value, new.value)
            for listener in self._listeners:
                listener(old, new)

    # -- start / close --------------------------------------------------------------------------------

    def start(self, timeout_s: float = 60.0) -> None:
        if self.state is not State.CREATED:
            raise StreamsException(f"start() is only allowed once (state {self.state.value})")
        self._set_state(State.REBALANCING)
        if self.application_server:
            from odradek.streams.iq.server import InteractiveQueryServer

            host, _, port = self.application_server.rpartition(":")
            self.iq_server = InteractiveQueryServer(self, host or "127.0.0.1", int(port))
            self.iq_server.start()
            self.application_server = self.iq_server.address
            # other instances find this one's address in the group description (client.id)
            self.client_id = format_client_id(
                f"{self.application_id}.{self.process_id}", self.application_server, self.client_tags
            )
        admin = self._admin()
        metadata = admin.list_topics(timeout=30).topics
        counts = {t: len(m.partitions) for t, m in metadata.items() if m.error is None}
        user_counts = {
            t: n
            for t, n in counts.items()
            if t not in {self.physical(i) for i in self.topology.internal_topics}
        }
        for pattern in self.topology.source_patterns():
            for name in sorted(self.topology.internal_topics):
                if pattern.fullmatch(self.physical(name)):
                    raise TopologyException(
                        f"pattern {pattern.pattern!r} matches the internal topic {self.physical(name)!r}"
                        " of this application; narrow the pattern"
                    )
        plan = plan_internal_topics(self.topology, self.physical, user_counts)
        ensure_internal_topics(admin, plan, int(self.config["replication.factor"]))
        self._partition_counts = {**counts, **{t.name: t.partitions for t in plan.values()}}
        global_stores = {}
        if self.topology.global_stores:
            self.global_thread = GlobalStreamThread(
                self.topology, self.config, self.state_directory, self.client_id, now_ms, self._global_failed
            )
            self.global_thread.start()
            if not self.global_thread.bootstrapped.wait(timeout_s):
                raise StreamsException("global stores did not catch up in time")
            if self.error is not None:
                raise StreamsException(f"global stores failed: {self.error}") from self.error
            global_stores = self.global_thread.stores
        factory = TaskFactory(
            self.topology, self.config, self.state_directory, self.physical, now_ms, global_stores
        )
        self.factory = factory
        replicas = int(self.config["num.standby.replicas"])
        if replicas > 0 and any(spec.logging for spec in self.topology.stores.values()):
            self.standby = StandbyManager(
                factory,
                {
                    "bootstrap.servers": self.config["bootstrap.servers"],
                    "group.id": self.application_id,
                    "client.id": f"{self.client_id}-standby",
                    "isolation.level": "read_committed" if self.config.exactly_once else "read_uncommitted",
                    **self.config.security_settings(),
                },
                instance_of(self.client_id),
                replicas,
                self._describe_owners,
                lambda: {t for thread in self.threads for t in list(thread.tasks)},
                lambda: self._member_tags,
                self.rack_aware_tags,
            )
            factory.before_open = self.standby.release
            self.standby.start()
        for i in range(int(self.config["num.stream.threads"])):
            thread = StreamThread(
                i,
                self.config,
                factory,
                self.client_id,
                f"{self.application_id}-{self.process_id}-{i}",
                self._partition_count,
                self._thread_failed,
                self._thread_rebalanced,
            )
            self.threads.append(thread)
            thread.start()
        self._set_state(State.RUNNING)

    def _partition_count(self, topic: str) -> int | None:
        return self._partition_counts.get(topic)

    def _thread_rebalanced(self, thread: StreamThread) -> None:
        pass

    def _thread_failed(self, thread: StreamThread, exc: BaseException) -> None:
        self._fail(exc)

    def _global_failed(self, exc: BaseException) -> None:
        self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            first = self.error is None
            self.error = self.error or exc
        if not first:
            return
        for thread in self.threads:
            thread.stop()
        self._set_state(State.ERROR)
        if self._uncaught is not None:
            self._uncaught(exc)

    def close(self, timeout_s: float = 30.0) -> bool:
        """Commit, close every task (checkpoints written) and leave the group; True if all stopped in time."""
        if self.state in (State.NOT_RUNNING, State.CREATED):
            self._set_state(State.NOT_RUNNING)
            return True
        failed = self.state is State.ERROR
        self._set_state(State.PENDING_SHUTDOWN)
        deadline = time.monotonic() + timeout_s
        for thread in self.threads:
            thread.stop()
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.standby is not None:
            self.standby.stop()
        if self.global_thread is not None:
            self.global_thread.stop()
        if self.iq_server is not None:
            self.iq_server.stop()
        stopped = not any(t.is_alive() for t in self.threads)
        self._admin_client = None
        self._set_state(State.ERROR if failed else State.NOT_RUNNING)
        return stopped

    def cleanup(self) -> None:
        """Delete this application's local state directory (only when not running)."""
        if self.state not in (State.CREATED, State.NOT_RUNNING, State.ERROR):
            raise StreamsException("cleanup() needs a stopped application")
        self.state_directory.clean()

    def wait_until_running(self, timeout_s: float = 60.0) -> None:
        """Until every thread has its assignment and no task is restoring."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.error is not None:
                raise StreamsException(f"application failed: {self.error}") from self.error
            ready = all(t.running.is_set() and t.rebalances > 0 for t in self.threads)
            restoring = any(
                a.state.value == "restoring" for t in self.threads for a in list(t.tasks.values())
            )
            if ready and not restoring:
                return
            time.sleep(0.05)
        raise StreamsException("the application did not get its assignment in time")

    # -- interactive queries (local) ------------------------------------------------------------------

    def store(self, name: str) -> LocalStoreView:
        """A read-only view over this instance's copies of store `name` (all its local tasks)."""
        if self.global_thread is not None and name in self.global_thread.stores:
            return LocalStoreView(name, lambda: [self.global_thread.stores[name]])  # type: ignore[union-attr]
        if name not in self.topology.stores:
            raise InvalidStateStoreException(f"no state store named {name!r} in this topology")

        def stores() -> list[Any]:
            if self.state is not State.RUNNING:
                raise InvalidStateStoreException(
                    f"store {name!r} is not queryable in state {self.state.value}"
                )
            return [store for thread in self.threads for _, store in thread.stores_named(name)]

        return LocalStoreView(name, stores, self.topology.stores[name].panes)

    def source_topic_of_store(self, name: str) -> str:
        for sub in self.topology.subtopologies():
            if name in sub.stores:
                if sub.source_topics:
                    return self.physical(sub.source_topics[0])
                for topic in sorted(self._partition_counts):  # a pattern source: a topic it matched
                    if self.factory.sub_for_topic(topic) is sub:
                        return topic
        raise InvalidStateStoreException(f"no state store named {name!r} in this topology")

    def metadata_for_key(self, store: str, key: Any, key_serde: Serde[Any] | None = None) -> KeyQueryMetadata:
        """The partition of `key` (Kafka's default partitioner) and the instance that has it active."""
        topic = self.source_topic_of_store(store)
        count = self._partition_counts.get(topic)
        if not count:
            raise InvalidStateStoreException(f"partition count of {topic} is unknown (not started?)")
        serde = key_serde or self.config.serde("default.key.serde")
        data = serde.serialize(topic, key)
        if data is None:
            raise InvalidStateStoreException("a None key has no partition")
        partition = partition_for(data, count)
        host = self._owner_host(topic, partition)
        return KeyQueryMetadata(host, self._standby_hosts(topic, partition), partition)

    def _standby_hosts(self, topic: str, partition: int) -> tuple[str, ...]:
        """Where the key's task has standby replicas (the placement every instance computes)."""
        replicas = int(self.config["num.standby.replicas"])
        if replicas <= 0 or not self.threads:
            return ()
        from odradek.streams.runtime.standby import plan_standbys

        try:
            owners, instances, hosts = self._describe_owners(with_hosts=True)
        except Exception:
            return ()
        task_id = self.factory.task_id_of(topic, partition)
        plan = plan_standbys(owners, instances, replicas, self._member_tags, self.rack_aware_tags)
        return tuple(sorted(h for i, tasks in plan.items() if task_id in tasks and (h := hosts.get(i))))

    def _owner_host(self, topic: str, partition: int) -> str | None:
        for thread in self.threads:
            if (topic, partition) in thread.by_partition:
                return self.application_server
        return self.group_hosts().get((topic, partition))

    def _describe_owners(self, with_hosts: bool = False) -> Any:
        """task id -> owning instance, and every instance (and instance -> `application.server`),
        from the group description."""
        future = self._admin().describe_consumer_groups([self.application_id], request_timeout=10)
        description = future[self.application_id].result()
        owners: dict[str, str] = {}
        instances = [instance_of(self.client_id)]
        hosts: dict[str, str] = {}
        tags: dict[str, dict[str, str]] = {instances[0]: dict(self.client_tags)}
        for member in description.members:
            instance, host, member_tags = parse_client_id(member.client_id or "")
            instances.append(instance)
            tags[instance] = member_tags
            if host:
                hosts[instance] = host
            for tp in member.assignment.topic_partitions if member.assignment else []:
                if self.factory.reads(tp.topic):
                    owners[self.factory.task_id_of(tp.topic, tp.partition)] = instance
        self._member_tags = tags
        return (owners, instances, hosts) if with_hosts else (owners, instances)

    def group_hosts(self) -> dict[tuple[str, int], str | None]:
        """Owner `application.server` of every assigned partition, from the group description."""
        admin = self._admin()
        future = admin.describe_consumer_groups([self.application_id], request_timeout=10)[
            self.application_id
        ]
        description = future.result()
        owners: dict[tuple[str, int], str | None] = {}
        for member in description.members:
            host = parse_client_id(member.client_id or "")[1]
            for tp in member.assignment.topic_partitions if member.assignment else []:
                owners[(tp.topic, tp.partition)] = host
        return owners

    # -- metrics --------------------------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        threads = []
        for t in self.threads:
            tasks = {}
            for a in list(t.tasks.values()):
                job = a.restore_job
                tasks[a.task_id] = {
                    "state": a.state.value,
                    "processed": a.task.processed,
                    "dropped_records": a.task.dropped_records_total(),
                    "nodes": a.task.node_counts(),
                    "restored": job.restored if job is not None else None,
                    "restore_total": job.total if job is not None else None,
                }
            threads.append(
                {
                    "name": t.name,
                    "processed": t.processed,
                    "process_latency_avg_s": t.process_seconds / t.processed if t.processed else 0.0,
                    "commits": t.commits,
                    "commit_latency_avg_s": t.commit_seconds / t.commits if t.commits else 0.0,
                    "rebalances": t.rebalances,
                    "lag": {f"{tp[0]}-{tp[1]}": lag for tp, lag in t.lag.items()},
                    "restored_records": t.restorer.total_restored if hasattr(t, "restorer") else 0,
                    "tasks": tasks,
                }
            )
        return {"application_id": self.application_id, "state": self.state.value, "threads": threads}
