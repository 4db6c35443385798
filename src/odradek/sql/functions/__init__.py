"""The function catalog (scalar, aggregate, table functions) and the @udf/@udaf/@udtf decorators."""

from odradek.sql.functions.decorators import udaf, udf, udtf
from odradek.sql.functions.registry import FunctionKind, FunctionRegistry, builtin_registry

__all__ = ["FunctionKind", "FunctionRegistry", "builtin_registry", "udaf", "udf", "udtf"]
