"""Partition logs on disk in Apache Kafka's layout: segments, indexes, recovery, retention, compaction
(see README.md)."""

from odradek.storage.errors import OffsetOutOfRangeError, StorageError
from odradek.storage.flusher import LogFlusher
from odradek.storage.log_cleaner import CleanerConfig, LogCleaner
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager
from odradek.storage.partition_log import AppendInfo, PartitionLog, ReadResult

__all__ = [
    "AppendInfo",
    "CleanerConfig",
    "LogCleaner",
    "LogConfig",
    "LogFlusher",
    "LogManager",
    "OffsetOutOfRangeError",
    "PartitionLog",
    "ReadResult",
    "StorageError",
]
