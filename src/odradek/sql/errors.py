"""Errors of the SQL engine, each with the ksqlDB REST error code it is answered with.

ksqlDB answers a failed statement with `{"@type": "statement_error", "error_code": 40001,
"message": ..., "statementText": ...}`; the codes used here are ksqlDB's:

| code  | meaning                                                            |
|-------|--------------------------------------------------------------------|
| 40000 | bad request (malformed body, unknown endpoint parameters)          |
| 40001 | bad statement: syntax, unknown column/source/type, type mismatch   |
| 40002 | a push/pull query sent to `/ksql` (must go to `/query`)            |
| 40401 | not found (query id, source)                                       |
| 41700 | ASSERT TOPIC / ASSERT SCHEMA failed (HTTP 417)                     |
| 50000 | server error                                                       |
| 50002 | timed out waiting for the command topic to catch up                |
| 50004 | server not ready (the command topic is still replaying)            |

Positions are 1-based line and column of the offending token in the statement text.
"""

from __future__ import annotations

from dataclasses import dataclass

BAD_REQUEST = 40000
BAD_STATEMENT = 40001
QUERY_ENDPOINT = 40002
NOT_FOUND = 40401
ASSERTION_FAILED = 41700
SERVER_ERROR = 50000
COMMAND_QUEUE_CATCHUP_TIMEOUT = 50002
SERVER_NOT_READY = 50004


@dataclass(frozen=True)
class Position:
    line: int
    column: int

    def __str__(self) -> str:
        return f"line {self.line}:{self.column}"


class KsqlError(Exception):
    """Base class: a message for the user and the REST error code it maps to."""

    error_code = BAD_STATEMENT

    def __init__(self, message: str, *, position: Position | None = None, error_code: int | None = None):
        self.message = message
        self.position = position
        if error_code is not None:
            self.error_code = error_code
        super().__init__(f"{position}: {message}" if position else message)

    def with_position(self, position: Position) -> KsqlError:
        self.position = position
        self.args = (f"{position}: {self.message}",)
        return self


class KsqlSyntaxError(KsqlError):
    """The text does not parse. `expected` names what would have been accepted here."""

    def __init__(self, message: str, *, position: Position, expected: tuple[str, ...] = ()):
        self.expected = expected
        super().__init__(message, position=position)


class KsqlAnalysisError(KsqlError):
    """The statement parses but means nothing valid: unknown names, wrong types, bad clauses."""


class KsqlExecutionError(KsqlError):
    """The statement is valid but cannot be carried out now (topic missing, source in use, ...)."""


class KsqlNotFoundError(KsqlError):
    error_code = NOT_FOUND


class KsqlFunctionError(KsqlError):
    """A function was called wrongly at run time (raised inside a UDF)."""
