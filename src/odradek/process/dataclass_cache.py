"""The compiled code of the methods `dataclasses` generates, kept between starts as bytecode is.

For each dataclass, Python's `dataclasses` writes the source of its `__init__`, `__repr__` and
`__eq__` (and `__hash__`, `__setattr__`, `__delattr__` of a frozen one) and compiles it when the
class is defined, at every import: importing the broker defines about 110 dataclasses, and those
~560 small compilations were a third of the CPU of a start to its first Metadata answer (valgrind:
907 M instructions for `odradek broker` to its first Metadata answer and a clean stop, 606 M
with this cache).

`cached_dataclass_methods(name)` keeps that compiled code in a file next to odradek's bytecode
(``odradek/__pycache__``), keyed by a 128-bit BLAKE2b digest of the source text, so the next start
loads it (marshal, as a .pyc is loaded) instead of compiling it again. A source the file lacks is
compiled as before, so the file can only miss entries, never give a class other methods than
`dataclasses` would. At the end of the block the file is rewritten (atomically) with the entries the
run used if it compiled anything new, which also drops the entries of classes since changed; it is
not written when Python writes no bytecode (``PYTHONDONTWRITEBYTECODE``, ``-B``) or the directory is
read-only; an unreadable file, or one written by a Python with other bytecode (the file starts
with the bytecode magic number, as a .pyc does), is ignored.

`dataclasses` looks `exec` up in its own module namespace before the builtins, so the cache is a
function put there for the duration of the block (and removed after it).
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import hashlib
import marshal
import os
import sys
import types
from collections.abc import Iterator, Mapping
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def default_path(name: str) -> Path:
    """The cache file of entry point `name` for this Python (its bytecode tag and -O level)."""
    tag = sys.implementation.cache_tag or "python"
    optimized = f".opt-{sys.flags.optimize}" if sys.flags.optimize else ""
    return _PACKAGE_DIR / "__pycache__" / f"dataclass-methods.{name}.{tag}{optimized}.marshal"


def load(path: Path) -> dict[bytes, types.CodeType]:
    """The cached code by digest of its source; empty if the file is missing, unreadable or written
    by a Python whose bytecode differs (the file starts with the bytecode magic number, as a .pyc)."""
    try:
        content = path.read_bytes()
        if not content.startswith(MAGIC_NUMBER):
            return {}
        data = marshal.loads(content[len(MAGIC_NUMBER) :])
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, bytes) and isinstance(v, types.CodeType)}


def save(path: Path, entries: Mapping[bytes, types.CodeType]) -> bool:
    """Write `entries` to `path` (atomically); False when not written."""
    if sys.dont_write_bytecode:
        return False
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(MAGIC_NUMBER + marshal.dumps(dict(entries)))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return False
    return True


def digest(source: str) -> bytes:
    return hashlib.blake2b(source.encode(), digest_size=16).digest()


class CachedCompiler:
    """`exec` for `dataclasses`: source text is compiled once per cache, code runs as exec runs it."""

    def __init__(self, known: dict[bytes, types.CodeType]) -> None:
        self.known = known
        """Loaded from the file and not used yet (an entry moves to `used` at its first use)."""
        self.used: dict[bytes, types.CodeType] = {}
        self.compiled = 0
        """Sources compiled in this run (not found in the file)."""

    def exec(self, source: Any, globals: dict[str, Any] | None = None, locals: Any = None, /) -> None:
        if isinstance(source, str):
            key = digest(source)
            code = self.used.get(key)
            if code is None:
                code = self.known.pop(key, None)
                if code is None:
                    # as exec(str) compiles it: file "<string>", no future flags (dataclasses has none)
                    code = compile(source, "<string>", "exec", dont_inherit=True)
                    self.compiled += 1
                self.used[key] = code
            source = code
        builtins.exec(source, globals, locals)


@contextlib.contextmanager
def cached_dataclass_methods(name: str, path: Path | None = None) -> Iterator[CachedCompiler]:
    """Within the block, dataclasses defined by imports take their methods' code from the cache."""
    path = default_path(name) if path is None else path
    compiler = CachedCompiler(load(path))
    namespace = vars(dataclasses)
    previous = namespace.get("exec")
    namespace["exec"] = compiler.exec
    try:
        yield compiler
    finally:
        if previous is None:
            namespace.pop("exec", None)
        else:
            namespace["exec"] = previous
    if compiler.compiled:
        save(path, compiler.used)
