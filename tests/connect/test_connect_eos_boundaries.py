"""Exactly-once source transaction boundaries (KIP-618) on an in-process distributed worker:
`interval` and `connector` commit whole transactions; what a read_committed consumer sees is each
task's sequence without duplicates or gaps, and the committed offsets match it."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence

import pytest
from connect_helpers import read_all, read_topic, tasks_stopped, wait_for

from odradek.connect.api.records import SourceRecord
from odradek.connect.connectors.verifiable import VerifiableSourceConnector, VerifiableSourceTask
from odradek.connect.runtime.config_records import TargetState
from odradek.connect.runtime.herder import HerderOffsets


class EveryTenSource(VerifiableSourceConnector):
    """Asks for a commit after every tenth record (transaction.boundary=connector)."""

    def task_class(self) -> type:
        return EveryTenTask


class EveryTenTask(VerifiableSourceTask):
    def poll(self) -> Sequence[SourceRecord] | None:
        records = super().poll()
        context = self.context.transaction_context()
        assert context is not None
        for record in records or []:
            if record.source_offset and record.source_offset["seqno"] % 10 == 9:
                context.commit_transaction(record)
        return records

    def start(self, props: Mapping[str, str]) -> None:
        super().start(props)


@pytest.mark.parametrize(
    ("boundary", "connector_class"),
    [
        ("interval", "org.apache.kafka.connect.tools.VerifiableSourceConnector"),
        ("connector", f"{__name__}.EveryTenSource"),
    ],
)
def test_transaction_boundaries(
    distributed, bootstrap: str, topic_name: str, boundary: str, connector_class: str
) -> None:
    herder = distributed(
        **{
            "exactly.once.source.support": "enabled",
            "key.converter": "org.apache.kafka.connect.converters.IntegerConverter",
        }
    )
    herder.put_connector_config(
        "eos",
        {
            "connector.class": connector_class,
            "topic": topic_name,
            "tasks.max": "2",
            "throughput": "5000",
            "batch.size": "7",  # full batches: a connector's boundary falls inside one
            "transaction.boundary": boundary,
            "transaction.boundary.interval.ms": "300",
        },
        allow_replace=False,
    )
    committed = {"isolation.level": "read_committed"}
    wait_for(
        lambda: len(read_topic(bootstrap, topic_name, 200, timeout=2, **committed)) >= 200,
        timeout=60,
        what="committed records",
    )
    herder.set_target_state("eos", TargetState.STOPPED)
    wait_for(lambda: tasks_stopped(herder, "eos"), what="stopped")
    seqnos: dict[int, list[int]] = defaultdict(list)
    for message in read_all(bootstrap, topic_name, **committed):
        record = json.loads(message.value())
        seqnos[record["task"]].append(record["seqno"])
    assert set(seqnos) == {0, 1}
    for numbers in seqnos.values():
        assert numbers == list(range(len(numbers)))  # in order, no duplicate, no gap
        if boundary == "connector":
            assert len(numbers) % 10 == 0  # only whole ten-record transactions were committed
    offsets = HerderOffsets(herder).get("eos")["offsets"]
    assert {o["partition"]["id"]: o["offset"]["seqno"] for o in offsets} == {
        t: len(n) - 1 for t, n in seqnos.items()
    }
