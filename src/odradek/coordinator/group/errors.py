"""Request validation failures inside the shard: raised while checking, turned into error responses."""

from __future__ import annotations

from odradek.model.errors import ErrorCode


class GroupError(Exception):
    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        super().__init__(message or code.name)
        self.code = code
        self.message = message
