"""odradek: a Kafka-compatible event streaming platform."""

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`odradek.sql(...)` without an explicit import of the SQL package (loaded on first use)."""
    if name == "sql":
        import importlib

        return importlib.import_module("odradek.sql")
    raise AttributeError(f"module 'odradek' has no attribute {name!r}")
