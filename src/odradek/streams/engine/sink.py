"""The processor behind every sink node: serialize, choose the partition, hand to the collector."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from odradek.streams.processor import Processor
from odradek.streams.record import Record
from odradek.streams.topology import SinkNode

if TYPE_CHECKING:
    from odradek.streams.engine.task import Task


class SinkProcessor(Processor):
    def __init__(self, node: SinkNode, task: Task) -> None:
        self.node = node
        self.task = task
        self.key_serde = task.resolve_serde(node.key_serde, True)
        self.value_serde = task.resolve_serde(node.value_serde, False)
        self.topic = task.physical_topic(node.topic) if node.topic is not None else None
        self.sent = 0

    def process(self, record: Record[Any, Any]) -> None:
        task = self.task
        if self.topic is None:
            assert self.node.topic_extractor is not None
            topic = task.physical_topic(
                self.node.topic_extractor(record.key, record.value, task.record_metadata)
            )
        else:
            topic = self.topic
        try:
            kb = self.key_serde.serialize(topic, record.key, record.headers)
            vb = self.value_serde.serialize(topic, record.value, record.headers)
        except Exception as exc:
            task.production_failed(self.node.name, record, exc)
            return
        partition = None
        if self.node.partitioner is not None:
            count = task.collector.partitions_for(topic)
            if count:
                partition = self.node.partitioner(topic, record.key, record.value, kb, count)
        task.collector.send(topic, kb, vb, record.timestamp, record.headers, partition)
        self.sent += 1
