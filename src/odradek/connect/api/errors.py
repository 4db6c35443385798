"""Connect's exception hierarchy, with Kafka's names (the error policy and the REST layer read them).

`RetriableException` means "try the same operation again" (the error policy retries it until
`errors.retry.timeout`); `DataException` a record the converter or transform cannot handle;
`ConnectException` everything else that fails a task or a request.
"""

from __future__ import annotations


class ConnectException(Exception):
    """Base of every Connect error (Kafka's `org.apache.kafka.connect.errors.ConnectException`)."""

    java_class = "org.apache.kafka.connect.errors.ConnectException"


class RetriableException(ConnectException):
    java_class = "org.apache.kafka.connect.errors.RetriableException"


class DataException(ConnectException):
    java_class = "org.apache.kafka.connect.errors.DataException"


class SchemaBuilderException(DataException):
    java_class = "org.apache.kafka.connect.errors.SchemaBuilderException"


class SchemaProjectorException(DataException):
    java_class = "org.apache.kafka.connect.errors.SchemaProjectorException"


class ConfigException(ConnectException):
    """A configuration value is missing or invalid (Kafka's `ConfigException`)."""

    java_class = "org.apache.kafka.common.config.ConfigException"

    def __init__(self, name: str, value: object = None, message: str | None = None) -> None:
        self.name = name
        self.value = value
        if message is None:
            super().__init__(name)
        else:
            super().__init__(f"Invalid value {value} for configuration {name}: {message}")


class NotFoundException(ConnectException):
    java_class = "org.apache.kafka.connect.errors.NotFoundException"


class AlreadyExistsException(ConnectException):
    java_class = "org.apache.kafka.connect.errors.AlreadyExistsException"


class IllegalWorkerStateException(ConnectException):
    java_class = "org.apache.kafka.connect.errors.IllegalWorkerStateException"


def exception_class_name(exc: BaseException) -> str:
    """The class name Connect reports (`__connect.errors.exception.class.name`, status traces)."""
    cls = type(exc)
    java = cls.__dict__.get("java_class")  # Kafka's own classes only, not their subclasses
    if isinstance(java, str):
        return java
    return f"{cls.__module__}.{cls.__qualname__}"
