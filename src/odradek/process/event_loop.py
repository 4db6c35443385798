"""Which asyncio event loop an odradek process runs on (ARCHITECTURE D3: uvloop if it measures faster).

The broker and every HTTP service choose the same way.

``ODRADEK_EVENT_LOOP`` chooses: ``auto`` (the default) takes uvloop when it is installed and the
standard loop otherwise, ``uvloop`` insists on it, ``asyncio`` keeps the standard loop. The broker's
code is the same on both: uvloop only replaces the loop's own work per I/O event (polling, reading
into the protocol's buffer, writing), which it does in C instead of Python.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from collections.abc import Callable, Mapping
from typing import cast

ENV = "ODRADEK_EVENT_LOOP"
CHOICES = ("auto", "uvloop", "asyncio")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(environ: Mapping[str, str]) -> tuple[str, LoopFactory | None]:
    """The chosen loop's name and factory (None: asyncio's default); ValueError for a bad choice."""
    choice = environ.get(ENV, "auto").strip().lower() or "auto"
    if choice not in CHOICES:
        raise ValueError(f"{ENV}={choice!r}: expected one of {', '.join(CHOICES)}")
    if choice == "asyncio" or (choice == "auto" and importlib.util.find_spec("uvloop") is None):
        return "asyncio", None
    try:
        uvloop = importlib.import_module("uvloop")  # optional: imported only when chosen
    except ImportError as exc:
        raise ValueError(f"{ENV}=uvloop but uvloop is not installed") from exc
    return "uvloop", cast(LoopFactory, uvloop.new_event_loop)
