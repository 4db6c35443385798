"""How the CLI fails: one line on stderr naming the Kafka error, and a non-zero exit code.

Commands raise `CliError`; `main` prints `odradek: error: <message>` and exits with its code.
Kafka errors read `NAME: description`, NAME being Kafka's error name (`TOPIC_ALREADY_EXISTS`) or,
for errors raised inside librdkafka, its local error name (`_TIMED_OUT`, `_ALL_BROKERS_DOWN`).
"""

from __future__ import annotations

from typing import Protocol


class KafkaErrorLike(Protocol):
    """The part of confluent_kafka.KafkaError the CLI uses (kept structural so this module stays light)."""

    def name(self) -> str: ...

    def str(self) -> str: ...


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def kafka_error_message(error: KafkaErrorLike, context: str = "") -> str:
    prefix = f"{context}: " if context else ""
    return f"{prefix}{error.name()}: {error.str()}"


def error_name(exc: BaseException) -> str | None:
    """Kafka's name of the error a confluent_kafka.KafkaException carries, if it carries one."""
    error = exc.args[0] if exc.args else None
    name = getattr(error, "name", None)
    return str(name()) if callable(name) else None


def cli_error(exc: BaseException, context: str = "") -> CliError:
    """A CliError for an exception raised by confluent-kafka (a KafkaException or anything else)."""
    error = exc.args[0] if exc.args else None
    if error is not None and callable(getattr(error, "name", None)) and callable(getattr(error, "str", None)):
        return CliError(kafka_error_message(error, context))
    prefix = f"{context}: " if context else ""
    return CliError(f"{prefix}{type(exc).__name__}: {exc}")
