"""API key -> message schema, importing a generated message module the first time it is asked for.

The broker serves about sixty APIs and a process needs a handful of them at start: importing every
generated module (hundreds of dataclasses) would cost a start a noticeable part of its time and
memory, so `messages/index.py` maps keys to module names and this mapping imports on demand.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from odradek.protocol.schema import MessageSchema

PACKAGE = "odradek.protocol.messages"


class SchemaIndex(Mapping[int, MessageSchema]):
    """The ``REQUEST`` or ``RESPONSE`` schema of each API key's module (``attribute``)."""

    __slots__ = ("_attribute", "_loaded", "_modules")

    def __init__(self, modules: Mapping[int, str], attribute: str) -> None:
        self._modules = dict(modules)
        self._attribute = attribute
        self._loaded: dict[int, MessageSchema] = {}

    def __getitem__(self, key: int) -> MessageSchema:
        schema = self._loaded.get(key)
        if schema is None:
            module = importlib.import_module(f"{PACKAGE}.{self._modules[key]}")
            schema = self._loaded[key] = getattr(module, self._attribute)
        return schema

    def __iter__(self) -> Iterator[int]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules
