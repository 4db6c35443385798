"""What a compatibility check finds: each incompatibility with its rule, where, and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Incompatibility:
    rule: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} at {self.path or '/'}: {self.message}"
