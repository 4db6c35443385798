"""Find the topology of an application module (for `odradek streams describe`).

`APP` is `package.module`, `package.module:name` or a path to a `.py` file (optionally `:name`).
Without `:name` the module is searched for `topology`, `builder`, `build_topology` or `build`.
The object found may be a `Topology`, a `StreamsBuilder`, or a function returning either.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from odradek.streams.dsl.builder import StreamsBuilder
from odradek.streams.errors import StreamsException
from odradek.streams.topology import Topology

CANDIDATES = ("topology", "builder", "build_topology", "build")

INTERNAL_SUFFIXES = (
    "-repartition",
    "-changelog",
    "-subscription-registration-topic",
    "-subscription-response-topic",
)


def load_module(spec: str) -> tuple[ModuleType, str | None]:
    target, _, attr = spec.partition(":")
    if target.endswith(".py") or "/" in target:
        path = Path(target)
        if not path.exists():
            raise StreamsException(f"no such file: {path}")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            raise StreamsException(f"cannot load {path}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[path.stem] = module
        module_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise StreamsException(f"cannot import {target}: {exc}") from exc
    return module, attr or None


def as_topology(obj: Any) -> Topology:
    if callable(obj) and not isinstance(obj, Topology | StreamsBuilder):
        obj = obj()
    if isinstance(obj, StreamsBuilder):
        return obj.build()
    if isinstance(obj, Topology):
        return obj
    raise StreamsException(f"expected a Topology or a StreamsBuilder, found {type(obj).__name__}")


def load_topology(spec: str) -> Topology:
    module, attr = load_module(spec)
    names = (attr,) if attr else CANDIDATES
    for name in names:
        if hasattr(module, name):
            return as_topology(getattr(module, name))
    raise StreamsException(f"{module.__name__} has none of {', '.join(names)}")


def is_internal_topic(application_id: str, topic: str) -> bool:
    """Repartition, changelog and foreign-key join topics of `application_id`."""
    return topic.startswith(f"{application_id}-") and topic.endswith(INTERNAL_SUFFIXES)
