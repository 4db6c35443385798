"""Running compiled queries on `odradek.streams`' KafkaStreams.

Persistent queries: one KafkaStreams application per query, application id
`_confluent-ksql-<service id>query_<query id>` (ksqlDB's), exactly-once v2 by default, its state in
`<state dir>/<application id>`. Terminating a query closes it, removes its local state and deletes
its internal topics (repartition and changelog topics), as ksqlDB does.

Push queries: a transient KafkaStreams application per request (`..._transient_<id>`) whose result
stream ends in a `foreach` that hands rows to the HTTP response through a thread-safe queue; closing
the response (or reaching LIMIT) closes the application and deletes its internal topics.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from odradek.sql.compiler.serdes import register_schemas
from odradek.sql.compiler.topology import CompiledQuery, QueryCompiler
from odradek.sql.engine.engine import PersistentQueryPlan
from odradek.sql.plan.planner import PlannedQuery
from odradek.sql.server.cluster import Cluster
from odradek.streams import KafkaStreams
from odradek.streams.windows import Windowed

log = logging.getLogger(__name__)


@dataclass
class RunningQuery:
    query_id: str
    plan: PersistentQueryPlan
    compiled: CompiledQuery
    streams: KafkaStreams
    application_id: str
    error: BaseException | None = None


def streams_config(
    application_id: str,
    bootstrap: str,
    state_dir: Path,
    properties: dict[str, Any],
    guarantee: str,
    client: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        **(client or {}),  # security settings: KafkaStreams gives them to every client
        "application.id": application_id,
        "bootstrap.servers": bootstrap,
        "state.dir": str(state_dir),
        "processing.guarantee": properties.get("processing.guarantee", guarantee),
        "consumer.auto.offset.reset": properties.get(
            "auto.offset.reset", properties.get("ksql.streams.auto.offset.reset", "latest")
        ),
        "processing.exception.handler": "log_and_continue"
        if properties.get("ksql.fail.on.processing.error", "false") != "true"
        else "log_and_fail",
        "deserialization.exception.handler": "log_and_continue"
        if properties.get("ksql.fail.on.deserialization.error", "false") != "true"
        else "log_and_fail",
        "commit.interval.ms": int(
            properties.get("commit.interval.ms", 100 if guarantee == "exactly_once_v2" else 2000)
        ),
        "poll.ms": 50,
    }
    for key, value in properties.items():
        if key.startswith(("ksql.streams.", "streams.")):
            config[key.split("streams.", 1)[1]] = value
    return config


class QueryRuntime:
    def __init__(self, cluster: Cluster, service_id: str, state_dir: Path, config: dict[str, str]) -> None:
        self.cluster = cluster
        self.service_id = service_id
        self.state_dir = state_dir
        self.config = config
        self.queries: dict[str, RunningQuery] = {}
        self._lock = threading.Lock()

    def application_id(self, query_id: str) -> str:
        return f"_confluent-ksql-{self.service_id}query_{query_id}"

    # -- persistent queries --------------------------------------------------------------------------------

    def start(self, plan: PersistentQueryPlan) -> RunningQuery:
        registry = self.cluster.registry
        compiled = QueryCompiler(plan.query_id, registry).compile_persistent(plan.planned, plan.sink)
        if not plan.insert:
            try:  # the sink's schemas exist once the statement succeeds, as in ksqlDB
                register_schemas(plan.sink, registry)
            except Exception:
                log.warning("could not register the schemas of %s", plan.sink.name, exc_info=True)
        app_id = self.application_id(plan.query_id)
        props = {**self.config, **plan.properties}
        streams = KafkaStreams(
            compiled.topology,
            streams_config(
                app_id,
                self.cluster.bootstrap,
                self.state_dir,
                props,
                self.config.get("processing.guarantee", "exactly_once_v2"),
                self.cluster.client,
            ),
        )
        running = RunningQuery(plan.query_id, plan, compiled, streams, app_id)

        def failed(exc: BaseException) -> None:
            running.error = exc
            log.error("persistent query %s failed: %s", plan.query_id, exc)

        streams.set_uncaught_exception_handler(failed)
        with self._lock:
            self.queries[plan.query_id] = running
        streams.start()
        return running

    def stop(self, query_id: str, cleanup: bool) -> None:
        with self._lock:
            running = self.queries.pop(query_id, None)
        if running is None:
            return
        running.streams.close()
        if cleanup:
            running.streams.cleanup()
            try:
                self.cluster.delete_topics_with_prefix(running.application_id + "-")
            except Exception:
                log.warning("could not delete the internal topics of %s", query_id, exc_info=True)

    def close(self) -> None:
        for query_id in list(self.queries):
            self.stop(query_id, cleanup=False)

    def store(self, query_id: str) -> Any:
        running = self.queries.get(query_id)
        if running is None or running.compiled.store is None:
            return None
        return running.streams.store(running.compiled.store)

    # -- push queries ---------------------------------------------------------------------------------------

    def push(self, planned: PlannedQuery, properties: dict[str, Any]) -> PushQuery:
        query_id = f"transient_{planned.sources[0].name}_{uuid.uuid4().int % 10**19}"
        app_id = f"_confluent-ksql-{self.service_id}transient_{query_id}"
        state_dir = self.state_dir / "transient"
        props = {**self.config, **properties}
        config = streams_config(
            app_id, self.cluster.bootstrap, state_dir, props, "at_least_once", self.cluster.client
        )
        push = PushQuery(query_id, planned, config, self.cluster)
        push.compiled = QueryCompiler(query_id, self.cluster.registry).compile_transient(
            planned, push.deliver
        )
        return push


class PushQuery:
    """A running push query; `rows` yields each result row (a list in SELECT order), then None."""

    def __init__(
        self, query_id: str, planned: PlannedQuery, config: dict[str, Any], cluster: Cluster
    ) -> None:
        self.query_id = query_id
        self.planned = planned
        self.config = config
        self.cluster = cluster
        self.compiled: CompiledQuery | None = None
        self.rows: queue.Queue[list[Any] | BaseException | None] = queue.Queue(10_000)
        self.streams: KafkaStreams | None = None
        self.closed = threading.Event()
        self.order = planned.select_order
        self.key_names = [c.name for c in planned.schema.key]

    def deliver(self, key: Any, value: Any) -> None:
        if value is None or self.closed.is_set():
            return
        row = dict(value)
        k = key.key if isinstance(key, Windowed) else key
        if k is not None:
            row.update(zip(self.key_names, k, strict=False))
        if isinstance(key, Windowed):
            row.setdefault("WINDOWSTART", key.window.start)
            row.setdefault("WINDOWEND", key.window.end)
        try:
            self.rows.put([row.get(n) for n in self.order], timeout=10)
        except queue.Full:
            log.warning("push query %s: the client is too slow, dropping a row", self.query_id)

    def start(self) -> None:
        assert self.compiled is not None
        self.streams = KafkaStreams(self.compiled.topology, self.config)
        self.streams.set_uncaught_exception_handler(self.rows.put)
        self.streams.start()

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        self.rows.put(None)
        streams = self.streams
        if streams is not None:
            streams.close()
            streams.cleanup()
            app_id = self.config["application.id"]
            if self.compiled is not None and self.compiled.topology.internal_topics:
                try:
                    self.cluster.delete_topics_with_prefix(app_id + "-")
                except Exception:
                    log.warning("could not delete the internal topics of %s", self.query_id, exc_info=True)
            shutil.rmtree(Path(self.config["state.dir"]) / app_id, ignore_errors=True)
