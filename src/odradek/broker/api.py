"""What a handler module declares: the API it serves, the versions, and the function to call.

Handlers are plain functions ``handle(ctx, request) -> response`` (or a coroutine returning the
response, for requests that wait: long-polling Fetch, Produce waiting for fsync, coordinator
writes). Returning None sends no response (Produce with acks=0). The dispatcher owns framing,
headers, version checks and encoding; the table of `ApiSpec`s is also what ApiVersions advertises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from odradek.protocol.api_keys import ApiKey
from odradek.protocol.primitives import Buffer
from odradek.protocol.schema import Chunk, MessageSchema

if TYPE_CHECKING:
    from odradek.broker.context import RequestContext

Chunks = list[Chunk]
"""A response's pieces, sent back to back: buffers, and log file regions (`FileRegion`)."""
Handler = Callable[["RequestContext", Any], Any | Awaitable[Any]]
Decoder = Callable[[Buffer, int, int], Any]
"""(frame, body_offset, version) -> request object; for hand-written hot paths."""
Encoder = Callable[[Any, int], Chunks]
"""(response, version) -> body chunks; for hand-written hot paths."""


@dataclass(frozen=True, slots=True)
class ApiSpec:
    """One API the broker serves: its versions, request/response schemas and handler."""

    key: ApiKey
    min_version: int
    max_version: int
    request: MessageSchema
    response: MessageSchema
    handler: Handler
    decode: Decoder | None = None
    encode: Encoder | None = None
    notes: str = field(default="", compare=False)
    """One line for the README's API table (what is and isn't supported)."""

    def __post_init__(self) -> None:
        lo, hi = self.request.valid or (0, -1)
        if not lo <= self.min_version <= self.max_version <= hi:
            raise ValueError(
                f"{self.key.name}: versions {self.min_version}-{self.max_version} outside {lo}-{hi}"
            )


@dataclass(frozen=True, slots=True)
class ApiEntry:
    """An API the broker serves, before its handler module (``handlers.<module>``) is imported."""

    key: ApiKey
    min_version: int
    max_version: int
    module: str
