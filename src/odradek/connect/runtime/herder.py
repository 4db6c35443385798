"""The herder: makes this worker run what the config log says it should, and serves the
operations behind the REST API (Kafka Connect's `Herder`, one class for both modes: the
differences — where configs, statuses and offsets live, and which units are ours — are the
injected stores and `Assignment`).

One herder thread reconciles every 250 ms, or at once when woken (a config change, a task
failure, a REST call): it starts the connectors and tasks it owns and should run, stops what it
no longer owns or was deleted/stopped/reconfigured, pauses and resumes, fails hung tasks, and
restarts failed units after their back-off (`restart_policy.py`). A connector's own worker
regenerates its task configs when the connector starts or asks to, and writes them to the config
log only when they changed (so unrelated connectors never restart).
"""

from __future__ import annotations

import functools
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from odradek.connect.api.connector import Connector, SinkConnector, SourceConnector
from odradek.connect.api.errors import (
    AlreadyExistsException,
    ConnectException,
    NotFoundException,
)
from odradek.connect.config.providers import ConfigTransformer
from odradek.connect.runtime.assignment import Assignment, connector_unit, task_unit
from odradek.connect.runtime.config_records import ConfigState, TargetState
from odradek.connect.runtime.config_store import ConfigStore
from odradek.connect.runtime.connector_config import validate_connector
from odradek.connect.runtime.connector_runner import ConnectorRunner
from odradek.connect.runtime.offset_store import OffsetStore
from odradek.connect.runtime.plugins import Plugins, class_name
from odradek.connect.runtime.restart_policy import RestartPolicy
from odradek.connect.runtime.sink_task_runner import SinkTaskRunner
from odradek.connect.runtime.source_task_runner import SourceTaskRunner
from odradek.connect.runtime.status_records import State, Status
from odradek.connect.runtime.status_store import StatusStore
from odradek.connect.runtime.task_process import ProcessTaskRunner
from odradek.connect.runtime.task_runner import ConnectorTaskId, TaskRunner
from odradek.connect.runtime.task_setup import TASK_CLASS, TaskSetup
from odradek.connect.runtime.worker_config import WorkerConfig

log = logging.getLogger("odradek.connect.herder")
TICK_S = 0.25
TaskHandle = TaskRunner | ProcessTaskRunner  # a task in a thread of this worker, or in its own process


class RebalanceInProgress(ConnectException):
    """The worker group is changing: REST writes answer 409, as Connect does."""


@dataclass
class UnitHealth:
    """Automatic-restart book-keeping of one connector or task on this worker."""

    attempts: int = 0
    next_restart: float | None = None  # monotonic seconds; None = not waiting
    gave_up: bool = False
    running_since: float | None = None
    trace: str | None = None


@dataclass
class HerderServices:
    worker: WorkerConfig
    plugins: Plugins
    config_store: ConfigStore
    status_store: StatusStore
    offset_store: OffsetStore
    assignment: Assignment
    worker_id: str
    group_id: str = ""
    offsets_topic: str | None = None
    # KIP-618: the store of a connector's own `offsets.storage.topic` (distributed workers only)
    topic_offset_store: Callable[[str], OffsetStore] | None = None
    kafka_cluster_id: Callable[[], str | None] = lambda: None
    extras: dict[str, Any] = field(default_factory=dict)


class Herder:
    def __init__(self, services: HerderServices, rng: random.Random | None = None) -> None:
        self.s = services
        self.worker = services.worker
        self.plugins = services.plugins
        self.configs = services.config_store
        self.statuses = services.status_store
        self.offsets = services.offset_store
        self._topic_offset_stores: dict[str, OffsetStore] = {}
        self.assignment = services.assignment
        self.worker_id = services.worker_id
        self.transformer = ConfigTransformer(self.worker.originals)
        self.rng = rng or random.Random()
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.connectors: dict[str, ConnectorRunner] = {}
        self.connector_targets: dict[str, TargetState] = {}
        self.tasks: dict[ConnectorTaskId, TaskHandle] = {}
        self.task_configs_running: dict[ConnectorTaskId, dict[str, str]] = {}
        self.health: dict[str, UnitHealth] = {}
        self._restarts_seen = 0
        self._topics_seen: set[tuple[str, str]] = set()
        self._task_events: queue.Queue[tuple[TaskHandle, State, str | None]] = queue.Queue()
        self.started = threading.Event()
        self.on_tick: list[Callable[[], None]] = []
        self.initial_connectors: list[dict[str, str]] = []  # standalone: from properties files
        self.configs.add_listener(self.wake)

    # -- life cycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self.offsets.start()
        self.statuses.start()
        self.configs.start()
        self._restarts_seen = len(self.configs.snapshot().pending_restarts)
        self.assignment.on_change = self._assignment_changed
        self.assignment.start()
        for config in self.initial_connectors:
            self.put_connector_config(config["name"], config, allow_replace=True)
        self._thread = threading.Thread(target=self._run, name="connect-herder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)
        with self._lock:
            self._stop_all()
        self.assignment.stop()
        self.configs.stop()
        self.statuses.stop()
        self.offsets.stop()
        for store in self._topic_offset_stores.values():
            store.stop()

    def wake(self) -> None:
        self._wake.set()

    def _assignment_changed(self) -> None:
        if self._stopping.is_set():
            return
        try:
            self.tick()
        except Exception:
            log.exception("reconciling after a rebalance failed")

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
                self.started.set()
            except Exception:
                log.exception("herder tick failed")
            self._wake.wait(TICK_S)
            self._wake.clear()

    # -- reconciliation --------------------------------------------------------------------------

    def tick(self) -> None:
        with self._lock:
            self._drain_task_events()
            snapshot = self.configs.snapshot()
            self._handle_restart_requests(snapshot)
            self._reconcile_connectors(snapshot)
            snapshot = self.configs.snapshot()
            self._reconcile_tasks(snapshot)
            self._watchdog()
            self._drain_task_events()
        for hook in self.on_tick:
            hook()

    def _policy(self, config: Mapping[str, str]) -> RestartPolicy:
        try:
            return RestartPolicy.from_config(config)
        except (TypeError, ValueError):
            return RestartPolicy()

    def _health(self, unit: str) -> UnitHealth:
        return self.health.setdefault(unit, UnitHealth())

    def _waiting(self, unit: str) -> bool:
        health = self.health.get(unit)
        if health is None:
            return False
        if health.gave_up:
            return True
        return health.next_restart is not None and time.monotonic() < health.next_restart

    def _failed(self, unit: str, config: Mapping[str, str], trace: str) -> UnitHealth:
        health = self._health(unit)
        policy = self._policy(config)
        if (
            health.running_since is not None
            and time.monotonic() - health.running_since > policy.healthy_after_ms() / 1000
        ):
            health.attempts = 0
        health.attempts += 1
        health.running_since = None
        health.trace = trace
        if policy.give_up(health.attempts):
            health.gave_up = True
            health.next_restart = None
        else:
            health.next_restart = time.monotonic() + policy.delay_ms(health.attempts, self.rng) / 1000
        return health

    def _status(self, state: State, health: UnitHealth | None = None, trace: str | None = None) -> Status:
        next_ms = None
        attempts = 0
        if health is not None and state is State.FAILED:
            attempts = health.attempts
            if health.next_restart is not None:
                next_ms = int((time.time() + max(0.0, health.next_restart - time.monotonic())) * 1000)
        return Status(state, self.worker_id, self.assignment.generation(), trace, attempts, next_ms)

    def _handle_restart_requests(self, snapshot: ConfigState) -> None:
        requests = snapshot.pending_restarts[self._restarts_seen :]
        self._restarts_seen = len(snapshot.pending_restarts)
        for request in requests:
            self._restart_local(request.connector, request.include_tasks, request.only_failed, snapshot)

    def _restart_local(
        self, name: str, include_tasks: bool, only_failed: bool, snapshot: ConfigState
    ) -> None:
        if name not in snapshot.connector_configs:
            return
        if self.assignment.owns(connector_unit(name)):
            status = self.statuses.connector(name)
            if not only_failed or (status is not None and status.state is State.FAILED):
                self._stop_connector(name, final_state=State.RESTARTING)
                self.health.pop(connector_unit(name), None)
        if include_tasks:
            for task in snapshot.tasks(name):
                task_id = ConnectorTaskId(name, task)
                if not self.assignment.owns(task_unit(name, task)):
                    continue
                status = self.statuses.task(name, task)
                if only_failed and (status is None or status.state is not State.FAILED):
                    continue
                self._stop_task(task_id, State.RESTARTING)
                self.health.pop(task_unit(name, task), None)

    def _reconcile_connectors(self, snapshot: ConfigState) -> None:
        for name in list(self.connectors):
            config = snapshot.connector_configs.get(name)
            target = snapshot.target_state(name)
            runner = self.connectors[name]
            if (
                config is None
                or not self.assignment.owns(connector_unit(name))
                or config != runner.config
                or (target is not TargetState.STARTED)
            ):
                self._stop_connector(name)
                if config is None:
                    self.statuses.put_connector(name, None)
                    for task in range(64):
                        if self.statuses.task(name, task) is None and task > 0:
                            break
                        self.statuses.put_task(name, task, None)
        for name, config in snapshot.connector_configs.items():
            if not self.assignment.owns(connector_unit(name)):
                continue
            target = snapshot.target_state(name)
            unit = connector_unit(name)
            if target is TargetState.STOPPED:
                if snapshot.task_counts.get(name, 0) > 0 or name in snapshot.inconsistent:
                    self.configs.put_task_configs(name, [])
                self._put_connector_status(name, State.STOPPED)
                continue
            if target is TargetState.PAUSED:
                self._put_connector_status(name, State.PAUSED)
                continue
            running = self.connectors.get(name)
            if running is None:
                if self._waiting(unit):
                    continue
                running = self._start_connector(name, config)
                if running is None:
                    continue
            runner = running
            if runner.failed_trace is not None:
                trace = runner.failed_trace
                self._stop_connector(name)
                health = self._failed(unit, config, trace)
                self.statuses.put_connector(name, self._status(State.FAILED, health, trace))
                continue
            if (
                runner.reconfigure_requested
                or name in snapshot.inconsistent
                or name not in snapshot.task_counts
            ):
                self._regenerate_task_configs(name, runner, snapshot)

    def _put_connector_status(self, name: str, state: State) -> None:
        current = self.statuses.connector(name)
        if current is None or current.state is not state or current.worker_id != self.worker_id:
            self.statuses.put_connector(name, self._status(state))

    def _start_connector(self, name: str, config: dict[str, str]) -> ConnectorRunner | None:
        unit = connector_unit(name)
        try:
            cls = self.plugins.connector_class(config.get("connector.class", ""))
            deadline = float(config.get("odradek.task.hung.timeout.ms", "300000")) / 1000
            runner = ConnectorRunner(
                name, cls(), config, self.transformer.transform(config), self.wake, deadline
            )
            runner.start()
        except Exception as exc:
            import traceback

            trace = "".join(traceback.format_exception(exc))
            log.error("Failed to start connector %s: %s", name, exc)
            health = self._failed(unit, config, trace)
            self.statuses.put_connector(name, self._status(State.FAILED, health, trace))
            return None
        self.connectors[name] = runner
        health = self._health(unit)
        health.running_since = time.monotonic()
        health.next_restart = None
        self.statuses.put_connector(name, self._status(State.RUNNING))
        return runner

    def _regenerate_task_configs(self, name: str, runner: ConnectorRunner, snapshot: ConfigState) -> None:
        runner.reconfigure_requested = False
        config = snapshot.connector_configs[name]
        max_tasks = int(config.get("tasks.max", "1") or 1)
        try:
            generated = runner.task_configs(max_tasks)
        except Exception as exc:
            runner.failed_trace = f"task_configs() failed: {exc!r}"
            self.wake()
            return
        enforce = str(config.get("tasks.max.enforce", "true")).lower() != "false"
        if len(generated) > max_tasks and enforce:
            runner.failed_trace = (
                f"The connector {name} has generated {len(generated)} tasks, which is greater "
                f"than {max_tasks}, the maximum number of tasks it is configured to create."
            )
            self.wake()
            return
        task_cls = runner.connector.task_class()
        task_class = f"{task_cls.__module__}.{task_cls.__qualname__}"
        configs = [{**c, TASK_CLASS: task_class} for c in generated]
        current = [snapshot.task_config(name, i) for i in snapshot.tasks(name)]
        if current == configs and name not in snapshot.inconsistent:
            return
        if self.worker.exactly_once_enabled and isinstance(runner.connector, SourceConnector):
            self._fence_zombies(name, snapshot.task_counts.get(name, 0))
        self.configs.put_task_configs(name, configs)

    def _fence_zombies(self, name: str, previous_tasks: int) -> None:
        """KIP-618: fence every transactional id of the previous task generation before new tasks start."""
        from confluent_kafka import KafkaException, Producer

        for task in range(previous_tasks):
            producer = Producer(
                {
                    **self.worker.client_config("producer"),
                    "transactional.id": self.transactional_id(name, task),
                }
            )
            try:
                producer.init_transactions(30)
            except KafkaException as exc:
                log.warning("fencing %s failed: %s", self.transactional_id(name, task), exc)
            finally:
                producer.flush(1)
        self.configs.put_fencing(name, previous_tasks)

    def transactional_id(self, connector: str, task: int) -> str:
        return f"{self.s.group_id}-{connector}-{task}"

    def _stop_connector(self, name: str, final_state: State | None = None) -> None:
        runner = self.connectors.pop(name, None)
        if runner is not None:
            runner.stop()
        if final_state is not None:
            self.statuses.put_connector(name, self._status(final_state))

    # -- tasks -----------------------------------------------------------------------------------

    def _reconcile_tasks(self, snapshot: ConfigState) -> None:
        for task_id in list(self.tasks):
            runner = self.tasks[task_id]
            config = snapshot.task_config(*task_id)
            target = snapshot.target_state(task_id.connector)
            if (
                config is None
                or task_id.connector not in snapshot.connector_configs
                or not self.assignment.owns(task_unit(*task_id))
                or target is TargetState.STOPPED
                or config != self.task_configs_running.get(task_id)
            ):
                self._stop_task(task_id)
                continue
            if not runner.alive:
                self._drain_task_events()  # its last words (FAILED) while it is still known
                self.tasks.pop(task_id, None)
                self.task_configs_running.pop(task_id, None)
                continue
            if target is TargetState.PAUSED and not runner.paused.is_set():
                runner.pause()
            elif target is TargetState.STARTED and runner.paused.is_set():
                runner.resume()
        for name, connector_config in snapshot.connector_configs.items():
            target = snapshot.target_state(name)
            if target is TargetState.STOPPED:
                continue
            for task in snapshot.tasks(name):
                task_id = ConnectorTaskId(name, task)
                unit = task_unit(name, task)
                if task_id in self.tasks or not self.assignment.owns(unit) or self._waiting(unit):
                    continue
                config = snapshot.task_config(name, task)
                if config is None:
                    continue
                self._start_task(task_id, connector_config, config, target is TargetState.PAUSED)

    def offset_store_for(self, connector_config: Mapping[str, str]) -> tuple[OffsetStore, str | None]:
        """The offset store and offsets topic of a connector: its own `offsets.storage.topic`
        (KIP-618; read first, the worker's topic as fallback and copy) or the worker's."""
        topic = (connector_config.get("offsets.storage.topic") or "").strip()
        factory = self.s.topic_offset_store
        if not topic or topic == self.s.offsets_topic:
            return self.offsets, self.s.offsets_topic
        if factory is None:
            log.info("offsets.storage.topic does not apply to a standalone worker: offsets go to its file")
            return self.offsets, self.s.offsets_topic
        from odradek.connect.runtime.connector_offsets import ConnectorOffsetStore

        with self._lock:
            store = self._topic_offset_stores.get(topic)
            if store is None:
                store = self._topic_offset_stores[topic] = factory(topic)
        return ConnectorOffsetStore(store, self.offsets), topic

    def _start_task(
        self,
        task_id: ConnectorTaskId,
        connector_config: dict[str, str],
        task_config: dict[str, str],
        paused: bool,
    ) -> None:
        unit = task_unit(*task_id)
        try:
            cls = self.plugins.connector_class(connector_config.get("connector.class", ""))
            offset_store, offsets_topic = (
                self.offset_store_for(connector_config)
                if issubclass(cls, SourceConnector)
                else (self.offsets, self.s.offsets_topic)
            )
            setup = TaskSetup(
                connector_config=self.transformer.transform(connector_config),
                task_config=self.transformer.transform(task_config),
                worker_props=self.worker.originals,
                plugins=self.plugins,
                offset_store=offset_store,
                producer_config=self.worker.client_config("producer"),
                consumer_config=self.worker.client_config("consumer"),
                admin_config=self.worker.client_config("admin"),
                offset_flush_interval_ms=self.worker.get_long("offset.flush.interval.ms"),
                offset_flush_timeout_ms=self.worker.get_long("offset.flush.timeout.ms"),
                exactly_once=self.worker.exactly_once_enabled and issubclass(cls, SourceConnector),
                transactional_id=self.transactional_id(*task_id),
                offsets_topic=offsets_topic,
                topic_creation_enabled=self.worker.get_bool("topic.creation.enable"),
                on_topic=functools.partial(self.note_topic, task_id.connector, task=task_id.task),
            )
            runner: TaskHandle
            kind = "sink" if issubclass(cls, SinkConnector) else "source"
            if self.worker.get_string("odradek.task.isolation") == "process":
                plugin_path = self.worker.get_list("plugin.path")
                runner = ProcessTaskRunner(task_id, kind, setup, plugin_path, self._task_state)
            elif kind == "sink":
                runner = SinkTaskRunner(task_id, setup, self._task_state)
            else:
                runner = SourceTaskRunner(task_id, setup, self._task_state)
        except Exception as exc:
            import traceback

            trace = "".join(traceback.format_exception(exc))
            health = self._failed(unit, connector_config, trace)
            self.statuses.put_task(task_id.connector, task_id.task, self._status(State.FAILED, health, trace))
            return
        self.tasks[task_id] = runner
        self.task_configs_running[task_id] = task_config
        health = self._health(unit)
        health.next_restart = None
        runner.start(paused=paused)

    def _task_state(self, runner: TaskHandle, state: State, trace: str | None) -> None:
        """Called from task threads (and the herder's): queued, applied by the herder thread, so a
        task never waits for the herder (which may be waiting for that task to stop)."""
        self._task_events.put((runner, state, trace))
        self.wake()

    def _drain_task_events(self) -> None:
        while True:
            try:
                runner, state, trace = self._task_events.get_nowait()
            except queue.Empty:
                return
            self._apply_task_state(runner, state, trace)

    def _apply_task_state(self, runner: TaskHandle, state: State, trace: str | None) -> None:
        task_id = runner.id
        with self._lock:
            if self.tasks.get(task_id) is not runner:
                return  # a runner that was stopped or replaced: its news is stale
            unit = task_unit(*task_id)
            health: UnitHealth | None = None
            if state is State.FAILED:
                config = self.configs.snapshot().connector_configs.get(task_id.connector, {})
                health = self._failed(unit, config, trace or "")
            elif state is State.RUNNING:
                health = self._health(unit)
                if health.running_since is None:
                    health.running_since = time.monotonic()
            if state is State.UNASSIGNED and self._stopping.is_set():
                return
            self.statuses.put_task(task_id.connector, task_id.task, self._status(state, health, trace))

    def _stop_task(self, task_id: ConnectorTaskId, final_state: State | None = None) -> None:
        runner = self.tasks.pop(task_id, None)
        self.task_configs_running.pop(task_id, None)
        if runner is None:
            if final_state is not None:
                self.statuses.put_task(task_id.connector, task_id.task, self._status(final_state))
            return
        runner.stop()
        grace = self.worker.get_long("task.shutdown.graceful.timeout.ms") / 1000
        if not runner.join(grace):
            log.warning("Task %s did not stop within %.1f s; killing it", task_id, grace)
            runner.cancel()
        if final_state is not None:
            self.statuses.put_task(task_id.connector, task_id.task, self._status(final_state))

    def _watchdog(self) -> None:
        snapshot = None
        for task_id, runner in list(self.tasks.items()):
            busy = runner.busy_for_ms()
            if busy is None:
                continue
            snapshot = snapshot or self.configs.snapshot()
            config = snapshot.connector_configs.get(task_id.connector, {})
            timeout_ms = float(config.get("odradek.task.hung.timeout.ms", "300000") or 300000)
            call, elapsed = busy
            if elapsed <= timeout_ms:
                continue
            trace = (
                f"odradek.connect.runtime.HungTaskException: task {task_id} hung in {call}() for {elapsed:.0f} ms "
                f"(odradek.task.hung.timeout.ms={timeout_ms:.0f})"
            )
            log.error("%s", trace)
            runner.cancel()
            self.tasks.pop(task_id, None)
            self.task_configs_running.pop(task_id, None)
            health = self._failed(task_unit(*task_id), config, trace)
            self.statuses.put_task(task_id.connector, task_id.task, self._status(State.FAILED, health, trace))

    def _stop_all(self) -> None:
        for task_id in list(self.tasks):
            runner = self.tasks[task_id]
            runner.stop()
        deadline = time.monotonic() + self.worker.get_long("task.shutdown.graceful.timeout.ms") / 1000
        for task_id in list(self.tasks):
            runner = self.tasks.pop(task_id)
            if not runner.join(max(0.0, deadline - time.monotonic())):
                runner.cancel()
        for name in list(self.connectors):
            self._stop_connector(name)

    # -- queries (REST) --------------------------------------------------------------------------

    def _config(self, name: str) -> dict[str, str]:
        config = self.configs.snapshot().connector_configs.get(name)
        if config is None:
            raise NotFoundException(f"Connector {name} not found")
        return config

    def connector_names(self) -> list[str]:
        return self.configs.snapshot().connectors()

    def connector_type(self, config: Mapping[str, str]) -> str:
        try:
            cls = self.plugins.connector_class(config.get("connector.class", ""))
        except ConnectException:
            return "unknown"
        return "sink" if issubclass(cls, SinkConnector) else "source"

    def connector_info(self, name: str) -> dict[str, Any]:
        snapshot = self.configs.snapshot()
        config = snapshot.connector_configs.get(name)
        if config is None:
            raise NotFoundException(f"Connector {name} not found")
        return {
            "name": name,
            "config": config,
            "tasks": [{"connector": name, "task": t} for t in snapshot.tasks(name)],
            "type": self.connector_type(config),
        }

    def connector_status(self, name: str) -> dict[str, Any]:
        snapshot = self.configs.snapshot()
        config = snapshot.connector_configs.get(name)
        if config is None:
            raise NotFoundException(f"No status found for connector {name}")
        status = self.statuses.connector(name)
        tasks = [self.task_status(name, t, snapshot) for t in snapshot.tasks(name)]
        return {
            "name": name,
            "connector": _status_json(status),
            "tasks": tasks,
            "type": self.connector_type(config),
        }

    def task_status(self, name: str, task: int, snapshot: ConfigState | None = None) -> dict[str, Any]:
        snapshot = snapshot or self.configs.snapshot()
        if name not in snapshot.connector_configs or task not in snapshot.tasks(name):
            raise NotFoundException(f"No status found for task {name}-{task}")
        return {"id": task, **_status_json(self.statuses.task(name, task))}

    def task_configs(self, name: str) -> list[dict[str, Any]]:
        snapshot = self.configs.snapshot()
        if name not in snapshot.connector_configs:
            raise NotFoundException(f"Connector {name} not found")
        return [
            {"id": {"connector": name, "task": t}, "config": snapshot.task_config(name, t) or {}}
            for t in snapshot.tasks(name)
        ]

    def active_topics(self, name: str) -> list[str]:
        self._config(name)
        return self.statuses.topics(name)

    # -- writes (REST) ---------------------------------------------------------------------------

    def validate(self, config: Mapping[str, str]) -> dict[str, Any]:
        return validate_connector(config, self.plugins)

    def _check_valid(self, config: Mapping[str, str]) -> None:
        result = self.validate(config)
        errors = [f"{c['value']['name']}: {e}" for c in result["configs"] for e in c["value"]["errors"]]
        if errors:
            raise _BadConfig(
                f"Connector configuration is invalid and contains the following {len(errors)} error(s):\n"
                + "\n".join(errors)
                + "\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
            )

    def put_connector_config(
        self,
        name: str,
        config: Mapping[str, str],
        allow_replace: bool,
        initial_state: TargetState | None = None,
    ) -> tuple[bool, dict[str, Any]]:
        if self.assignment.rebalancing():
            raise RebalanceInProgress(
                "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"
            )
        config = {**{str(k): str(v) for k, v in config.items()}, "name": name}
        exists = name in self.configs.snapshot().connector_configs
        if exists and not allow_replace:
            raise AlreadyExistsException(f"Connector {name} already exists")
        self._check_valid(config)
        self.configs.put_connector_config(
            name, config, None if exists else (initial_state or TargetState.STARTED)
        )
        self.wake()
        return not exists, self.connector_info(name)

    def patch_connector_config(self, name: str, patch: Mapping[str, str | None]) -> dict[str, Any]:
        current = self._config(name)
        merged = dict(current)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = str(value)
        if merged.get("name", name) != name:
            raise _BadConfig(
                "Connector name configuration ("
                + str(merged.get("name"))
                + ") doesn't match connector name in the URL ("
                + name
                + ")"
            )
        return self.put_connector_config(name, merged, allow_replace=True)[1]

    def delete_connector(self, name: str) -> None:
        self._config(name)
        self.configs.remove_connector(name)
        self.wake()

    def set_target_state(self, name: str, state: TargetState) -> None:
        self._config(name)
        self.configs.put_target_state(name, state)
        self.wake()

    def restart_connector(self, name: str, include_tasks: bool, only_failed: bool) -> dict[str, Any]:
        snapshot = self.configs.snapshot()
        if name not in snapshot.connector_configs:
            raise NotFoundException(f"Unknown connector: {name}")
        self.configs.put_restart_request(name, include_tasks, only_failed)
        self.wake()
        status = self.connector_status(name)
        if not only_failed or status["connector"]["state"] == "FAILED":
            status["connector"]["state"] = "RESTARTING"
        if include_tasks:
            for task in status["tasks"]:
                if not only_failed or task["state"] == "FAILED":
                    task["state"] = "RESTARTING"
        return status

    def restart_task(self, name: str, task: int) -> None:
        snapshot = self.configs.snapshot()
        if name not in snapshot.connector_configs or task not in snapshot.tasks(name):
            raise NotFoundException(f"Unknown task: {name}-{task}")
        if not self.assignment.owns(task_unit(name, task)):
            raise _NotOwner(f"Task {name}-{task} is not owned by this worker")
        with self._lock:
            self._stop_task(ConnectorTaskId(name, task), State.RESTARTING)
            self.health.pop(task_unit(name, task), None)
        self.wake()

    def reset_active_topics(self, name: str) -> None:
        snapshot = self.configs.snapshot()
        if name not in snapshot.connector_configs:
            raise NotFoundException(f"Connector {name} not found")
        for topic in self.statuses.topics(name):
            self.statuses.delete_topic(name, topic)
        self._topics_seen = {(c, t) for c, t in self._topics_seen if c != name}

    def note_topic(self, connector: str, topic: str, *, task: int) -> None:
        """A task used `topic` (called from task threads)."""
        if (connector, topic) in self._topics_seen:
            return
        self._topics_seen.add((connector, topic))
        if topic not in self.statuses.topics(connector):
            self.statuses.put_topic(connector, topic, task, int(time.time() * 1000))


class _BadConfig(ConnectException):
    """Invalid connector config: 400 with the per-field errors."""


class _NotOwner(ConnectException):
    """The unit runs on another worker: the REST layer forwards."""


def _status_json(status: Status | None) -> dict[str, Any]:
    if status is None:
        return {"state": State.UNASSIGNED.value, "worker_id": ""}
    body: dict[str, Any] = {"state": status.state.value, "worker_id": status.worker_id}
    if status.trace:
        body["trace"] = status.trace
    if status.state is State.FAILED and status.restart_attempts:
        body["odradek.restart.attempts"] = status.restart_attempts
        if status.next_restart_ms is not None:
            body["odradek.restart.next.ms"] = status.next_restart_ms
    return body


def connector_plugins(plugins: Plugins, connectors_only: bool = True) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for cls in plugins.connectors():
        out.append(
            {
                "class": class_name(cls),
                "type": "sink" if issubclass(cls, SinkConnector) else "source",
                "version": _version(cls),
            }
        )
    if not connectors_only:
        for kind, label in (
            ("transformation", "transformation"),
            ("predicate", "predicate"),
            ("converter", "converter"),
        ):
            for cls in plugins.plugins(kind):
                out.append({"class": class_name(cls), "type": label, "version": "odradek"})
    return out


def _version(cls: type[Connector]) -> str:
    try:
        return cls().version()
    except Exception:
        return "unknown"


class HerderOffsets:
    """KIP-875 offset management on a herder (kept apart from the reconciliation code)."""

    def __init__(self, herder: Herder) -> None:
        self.h = herder

    def _stopped_connector(self, name: str) -> tuple[Connector, dict[str, str]]:
        snapshot = self.h.configs.snapshot()
        config = snapshot.connector_configs.get(name)
        if config is None:
            raise NotFoundException(f"Connector {name} not found")
        from odradek.connect.runtime.offsets_admin import NOT_STOPPED, BadOffsets

        if snapshot.target_state(name) is not TargetState.STOPPED or snapshot.task_counts.get(name, 0) > 0:
            raise BadOffsets(NOT_STOPPED.replace("{name}", name))
        connector = self.h.plugins.connector_class(config["connector.class"])()
        return connector, self.h.transformer.transform(config)

    def get(self, name: str) -> dict[str, Any]:
        from odradek.connect.runtime.offsets_admin import read_offsets

        config = self.h._config(name)
        cls = self.h.plugins.connector_class(config["connector.class"])
        store = self._store(cls, config)
        store.read_to_end()
        return {"offsets": read_offsets(cls, name, store, self.h.worker.client_config("admin"))}

    def _store(self, cls: type[Connector], config: Mapping[str, str]) -> OffsetStore:
        if issubclass(cls, SourceConnector):
            return self.h.offset_store_for(self.h.transformer.transform(dict(config)))[0]
        return self.h.offsets

    def alter(self, name: str, body: Any) -> str:
        from odradek.connect.runtime.offsets_admin import BadOffsets, alter_offsets

        connector, config = self._stopped_connector(name)
        if not isinstance(body, dict):
            raise BadOffsets('The request body must be an object with "offsets"')
        store = self._store(type(connector), config)
        return alter_offsets(
            connector, config, name, body.get("offsets"), store, self.h.worker.client_config("admin")
        )

    def reset(self, name: str) -> str:
        from odradek.connect.runtime.offsets_admin import reset_offsets

        connector, config = self._stopped_connector(name)
        store = self._store(type(connector), config)
        return reset_offsets(connector, config, name, store, self.h.worker.client_config("admin"))
