"""The connectors that ship with odradek (also registered as `odradek.connectors` entry points)."""

from __future__ import annotations

from odradek.connect.connectors.filestream import FileStreamSinkConnector, FileStreamSourceConnector

CONNECTORS: list[type] = [FileStreamSourceConnector, FileStreamSinkConnector]
