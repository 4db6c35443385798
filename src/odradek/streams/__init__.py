"""odradek.streams: a Kafka Streams-style stream-processing library for Python.

A Kafka client library (confluent-kafka underneath): the DSL builds a pure `Topology`, which the
`TopologyTestDriver` runs in-process and `KafkaStreams` runs against any Kafka cluster.
"""

from typing import TYPE_CHECKING, Any

from odradek.streams.config import StreamsConfig
from odradek.streams.dsl.builder import StreamsBuilder
from odradek.streams.dsl.grouped import (
    CogroupedKStream,
    KGroupedStream,
    KGroupedTable,
    SessionWindowedKStream,
    SlidingWindowedKStream,
    TimeWindowedKStream,
)
from odradek.streams.dsl.kstream import BranchedKStream, KStream
from odradek.streams.dsl.ktable import GlobalKTable, KTable
from odradek.streams.dsl.options import EmitStrategy, Materialized, Repartitioned
from odradek.streams.errors import (
    InvalidStateStoreException,
    MissingKeyError,
    ProcessorStateException,
    SerializationError,
    StreamsException,
    TopologyException,
)
from odradek.streams.handlers import (
    DeadLetterRecord,
    ErrorHandlerContext,
    HandlerAction,
    HandlerResult,
)
from odradek.streams.operators.suppress import Suppressed
from odradek.streams.processor import Processor, ProcessorContext, PunctuationType
from odradek.streams.record import Change, Record, RecordMetadata
from odradek.streams.serdes import Serde, Serdes
from odradek.streams.state import Stores, StoreSpec, ValueAndTimestamp, VersionedRecord
from odradek.streams.topology import Topology
from odradek.streams.windows import JoinWindows, SessionWindows, SlidingWindows, TimeWindows, Window, Windowed

if TYPE_CHECKING:
    from odradek.streams.runtime.kafka_streams import KafkaStreams
    from odradek.streams.testing import TopologyTestDriver


def __getattr__(name: str) -> Any:
    """`KafkaStreams` (confluent-kafka) and `TopologyTestDriver` load on first use."""
    if name == "KafkaStreams":
        from odradek.streams.runtime.kafka_streams import KafkaStreams

        return KafkaStreams
    if name == "TopologyTestDriver":
        from odradek.streams.testing import TopologyTestDriver

        return TopologyTestDriver
    raise AttributeError(f"module 'odradek.streams' has no attribute {name!r}")


__all__ = [
    "BranchedKStream",
    "Change",
    "CogroupedKStream",
    "DeadLetterRecord",
    "EmitStrategy",
    "ErrorHandlerContext",
    "GlobalKTable",
    "HandlerAction",
    "HandlerResult",
    "InvalidStateStoreException",
    "JoinWindows",
    "KGroupedStream",
    "KGroupedTable",
    "KStream",
    "KTable",
    "KafkaStreams",
    "Materialized",
    "MissingKeyError",
    "Processor",
    "ProcessorContext",
    "ProcessorStateException",
    "PunctuationType",
    "Record",
    "RecordMetadata",
    "Repartitioned",
    "Serde",
    "Serdes",
    "SerializationError",
    "SessionWindowedKStream",
    "SessionWindows",
    "SlidingWindowedKStream",
    "SlidingWindows",
    "StoreSpec",
    "Stores",
    "StreamsBuilder",
    "StreamsConfig",
    "StreamsException",
    "Suppressed",
    "TimeWindowedKStream",
    "TimeWindows",
    "Topology",
    "TopologyException",
    "TopologyTestDriver",
    "ValueAndTimestamp",
    "VersionedRecord",
    "Window",
    "Windowed",
]
