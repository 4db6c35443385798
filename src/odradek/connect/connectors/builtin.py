"""The connectors that ship with odradek (also registered as `odradek.connectors` entry points)."""

from __future__ import annotations

CONNECTORS: list[type] = []
