"""CRC-32C (Castagnoli), the checksum of record batches and of odradek's own state files.

`crc32c(data)` is the `crc32c` package's native function (hardware accelerated where the CPU has it).
The package's ``__init__`` reads its own distribution metadata for ``__version__`` (importing
`importlib.metadata`, `email`, `zipfile`, `csv`... and scanning the installed distributions), which
costs a broker's start more than the checksum module itself: the extension module is loaded
directly, and the package imported normally only if that fails.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

_EXTENSION = "crc32c._crc32c"


def _native() -> ModuleType:
    loaded = sys.modules.get(_EXTENSION)
    if loaded is not None:
        return loaded
    package = importlib.util.find_spec("crc32c")  # (finds the package without running it)
    if package is not None and package.submodule_search_locations:
        for directory in package.submodule_search_locations:
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = Path(directory) / f"_crc32c{suffix}"
                if not path.is_file():
                    continue
                loader = importlib.machinery.ExtensionFileLoader(_EXTENSION, str(path))
                spec = importlib.util.spec_from_file_location(_EXTENSION, path, loader=loader)
                if spec is None:
                    continue
                module = importlib.util.module_from_spec(spec)
                loader.exec_module(module)
                sys.modules[_EXTENSION] = module  # `import crc32c` later reuses it
                return module
    import crc32c

    return crc32c


crc32c: Callable[[bytes | bytearray | memoryview], int] = _native().crc32c
