"""The processor behind every sink node: serialize, choose the partition, hand to the collector."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from odradek.streams.engine.context import FailedProcessingException
from odradek.streams.engine.fused import Fail, Stage
from odradek.streams.processor import Processor
from odradek.streams.record import Headers, Record
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

    def fused(self, name: str, children: Callable[[], Stage], fail: Fail) -> Stage | None:
        """`process` as a stage (a fixed topic only), with the serdes' one-argument fast paths."""
        if self.topic is None:
            return None
        task, topic, partitioner = self.task, self.topic, self.node.partitioner
        send = task.collector.send
        key_serialize, value_serialize = self.key_serde.serialize, self.value_serde.serialize
        key_raw = getattr(self.key_serde, "raw_bytes", False)
        key_encode = getattr(self.key_serde, "fast_encode", None)
        encode = getattr(self.value_serde, "fast_encode", None)

        def sink_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
            try:
                try:
                    if key_raw and (key is None or type(key) is bytes):
                        kb = key
                    elif key_encode is not None and key is not None:
                        try:
                            kb = key_encode(key)
                        except Exception:
                            kb = key_serialize(topic, key, headers)
                    else:
                        kb = key_serialize(topic, key, headers)
                    if encode is not None and value is not None:
                        try:
                            vb = encode(value)
                        except Exception:
                            vb = value_serialize(topic, value, headers)
                    else:
                        vb = value_serialize(topic, value, headers)
                except Exception as exc:
                    task.production_failed(name, Record(key, value, timestamp, headers), exc)
                    return
                partition = None
                if partitioner is not None:
                    count = task.collector.partitions_for(topic)
                    if count:
                        partition = partitioner(topic, key, value, kb, count)
                send(topic, kb, vb, timestamp, headers, partition)
                self.sent += 1
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, key, value, timestamp, headers, exc)

        if partitioner is None and not key_raw and key_encode is not None and encode is not None:
            # what a generated caller needs to do this stage's common case inline (a record whose
            # key and value the fast encoders take; on their exception it calls this stage)
            sink_stage.direct = (name, topic, key_encode, encode, send, self)  # type: ignore[attr-defined]
        return sink_stage
