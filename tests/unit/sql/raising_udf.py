"""A function registry with `NO_BOB(s)`, a UDF that raises on "bob": for tests of how a query's
processing error handler treats a raising UDF."""

from __future__ import annotations

import sys
import types

from odradek.sql import udf
from odradek.sql.functions import FunctionRegistry, builtin_registry


def registry_with_no_bob(module_name: str) -> FunctionRegistry:
    """The built-in functions plus `NO_BOB`, loaded from a module registered as `module_name`."""
    module = types.ModuleType(module_name)
    sys.modules[module.__name__] = module

    @udf(signature="STRING -> STRING")
    def no_bob(s):  # type: ignore[no-untyped-def]
        if s == "bob":
            raise ValueError("no bob")
        return s

    no_bob.__module__ = module.__name__
    module.no_bob = no_bob  # type: ignore[attr-defined]
    functions = builtin_registry()
    functions.load_module(module)
    return functions
