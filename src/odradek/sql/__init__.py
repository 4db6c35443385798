"""odradek.sql: ksqlDB's streaming SQL, compiled onto odradek.streams.

    from odradek.sql import udf

    @udf
    def shout(text: str) -> str:
        return text.upper()

The parser, planner and engine live in subpackages (see README.md); importing this package loads
only the function decorators.
"""

from odradek.sql.functions.decorators import udaf, udf, udtf

__all__ = ["udaf", "udf", "udtf"]
