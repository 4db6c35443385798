"""odradek.sql: ksqlDB's streaming SQL, compiled onto odradek.streams.

    import odradek
    rows = odradek.sql("SELECT * FROM totals WHERE customer = 'ada';")     # the package is callable
    rows.df()

    from odradek.sql import udf

    @udf
    def shout(text: str) -> str:
        return text.upper()

`odradek.sql(text, server=, stream=, properties=)` runs SQL on an odradek SQL server (see client.py).
The parser, planner and engine live in subpackages (README.md); importing this package loads only
the function decorators.
"""

import sys
import types as _pytypes
from typing import Any

from odradek.sql.functions.decorators import udaf, udf, udtf


class _SqlModule(_pytypes.ModuleType):
    def __call__(self, text: str, **kwargs: Any) -> Any:
        from odradek.sql.client import sql

        return sql(text, **kwargs)


sys.modules[__name__].__class__ = _SqlModule

__all__ = ["udaf", "udf", "udtf"]
