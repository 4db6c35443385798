"""Storage errors, each carrying the Kafka error code the broker answers with."""

from __future__ import annotations

from odradek.model.errors import ErrorCode


class StorageError(Exception):
    """An I/O failure on a log: Kafka's KAFKA_STORAGE_ERROR (the partition goes offline)."""

    error_code = ErrorCode.KAFKA_STORAGE_ERROR


class OffsetOutOfRangeError(StorageError):
    """A fetch or a DeleteRecords offset outside [log_start_offset, log_end_offset]."""

    error_code = ErrorCode.OFFSET_OUT_OF_RANGE


class MessageTooLargeError(StorageError):
    """A record batch larger than the topic's `max.message.bytes`."""

    error_code = ErrorCode.MESSAGE_TOO_LARGE


class RecordListTooLargeError(StorageError):
    """One append larger than `segment.bytes`: it could never fit in a segment."""

    error_code = ErrorCode.RECORD_LIST_TOO_LARGE


class LogClosedError(StorageError):
    """The log was closed or deleted (partition deleted or broker shutting down)."""

    error_code = ErrorCode.NOT_LEADER_OR_FOLLOWER
