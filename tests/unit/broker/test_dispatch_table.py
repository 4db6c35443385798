"""The dispatch table (`handlers.ENTRIES`) advertises what each handler module serves, and the
dispatcher imports a handler module only when its API is first asked for."""

from __future__ import annotations

import dataclasses
import pkgutil
import subprocess
import sys

import pytest

from odradek.broker import handlers
from odradek.broker.api import ApiEntry
from odradek.broker.handlers import ENTRIES, all_specs, load_spec


def test_every_handler_module_is_in_the_table_with_its_own_versions() -> None:
    specs = all_specs()  # load_spec raises when a module's versions differ from its entry's
    assert [(s.key, s.min_version, s.max_version) for s in specs] == [
        (e.key, e.min_version, e.max_version) for e in ENTRIES
    ]
    modules = {m.name for m in pkgutil.iter_modules(handlers.__path__)}
    assert modules == {e.module for e in ENTRIES}
    assert len({e.key for e in ENTRIES}) == len(ENTRIES)


def test_an_entry_advertising_other_versions_than_its_module_is_refused() -> None:
    entry = next(e for e in ENTRIES if e.module == "metadata")
    with pytest.raises(ValueError, match="dispatch table advertises"):
        load_spec(dataclasses.replace(entry, max_version=entry.max_version + 1))
    with pytest.raises(ValueError, match="has no spec for"):
        load_spec(ApiEntry(entry.key, 0, 0, "api_versions"))


def test_the_dispatcher_imports_a_handler_on_first_use() -> None:
    """In a fresh interpreter: ApiVersions' list needs no handler module; asking for an API's
    spec imports its module (and message schemas) and no other."""
    code = """
import sys
from odradek.broker.dispatcher import Dispatcher
from odradek.broker.handlers import ENTRIES
d = Dispatcher(ENTRIES, ports=None)
versions = d.api_versions()
assert len(versions) == len(ENTRIES), versions
loaded = [m for m in sys.modules if m.startswith("odradek.broker.handlers.")]
assert loaded == [], loaded
spec = d.spec(36)  # SaslAuthenticate
assert spec is not None and spec.key == 36
assert d.spec(36) is spec
assert "odradek.broker.handlers.sasl" in sys.modules
assert "odradek.broker.handlers.acls" not in sys.modules
assert d.spec(1000) is None
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
