"""What every controller operation returns: the records to append, and the response values.

The shell appends `records` as one atomic batch (`MetadataStore.apply`) and answers with `response`
only after that succeeded; a validate-only request returns the same response and no records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from odradek.metadata.records import MetadataRecord
from odradek.model.errors import ErrorCode

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ControllerResult(Generic[T]):
    """A controller operation's outcome: the records to apply and the response to answer."""

    records: tuple[MetadataRecord, ...]
    response: T


@dataclass(frozen=True, slots=True)
class ApiError:
    """An error code with its message; `message` is None when Kafka sends none."""

    code: ErrorCode
    message: str | None = None

    @property
    def is_error(self) -> bool:
        return self.code is not ErrorCode.NO_ERROR


NO_ERROR = ApiError(ErrorCode.NO_ERROR)

# Kafka's default message of errors raised without one (`Errors.message()`).
DEFAULT_MESSAGES = {
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION: "This server does not host this topic-partition.",
    ErrorCode.UNKNOWN_TOPIC_ID: "This server does not host this topic ID.",
    ErrorCode.TOPIC_DELETION_DISABLED: "Topic deletion is disabled.",
}


def default_error(code: ErrorCode) -> ApiError:
    return ApiError(code, DEFAULT_MESSAGES.get(code))


def invalid_request(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_REQUEST, message)


def invalid_config(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_CONFIG, message)


def scala_set(names: object) -> str:
    """How Kafka's Scala code prints a set of names in its messages: `Set(a, b)`."""
    assert isinstance(names, set | frozenset | list | tuple)
    return "Set(" + ", ".join(sorted(str(n) for n in names)) + ")"
