"""The connectors that ship with odradek (found by class name, Kafka's Java name or simple name)."""

from __future__ import annotations

from odradek.connect.connectors.filestream import FileStreamSinkConnector, FileStreamSourceConnector
from odradek.connect.connectors.fluentd import FluentdForwardSourceConnector
from odradek.connect.connectors.http_sink import HttpSinkConnector
from odradek.connect.connectors.jdbc_sink import JdbcSinkConnector
from odradek.connect.connectors.replicator import ReplicatorSourceConnector
from odradek.connect.connectors.verifiable import VerifiableSourceConnector

CONNECTORS: list[type] = [
    FileStreamSourceConnector,
    FileStreamSinkConnector,
    ReplicatorSourceConnector,
    FluentdForwardSourceConnector,
    HttpSinkConnector,
    JdbcSinkConnector,
    VerifiableSourceConnector,
]
