"""Exceptions of `odradek.streams` (Kafka Streams' names where one exists)."""

from __future__ import annotations


class StreamsException(Exception):
    """Base class of every error the library raises."""


class TopologyException(StreamsException):
    """The topology is invalid: unknown parent, duplicate name, topics not co-partitioned, ..."""


class SerializationError(StreamsException):
    """A serde could not turn an object into bytes or bytes into an object."""


class ProcessorStateException(StreamsException):
    """A state store cannot be opened, read or written (e.g. its directory is locked by another instance)."""


class TaskCorruptedException(StreamsException):
    """A task's local state cannot be trusted and must be restored from its changelog."""


class InvalidStateStoreException(StreamsException):
    """An interactive query hit a store that is not (or no longer) queryable on this instance."""


class MissingKeyError(StreamsException):
    """An operator that needs a key (grouping, joining, a table) got a record with a `None` key."""
