"""Table functions: each input row becomes zero or more output rows."""

from __future__ import annotations

import itertools
from typing import Any

from odradek.sql.functions.builtins import Builtins

FUNCTIONS = Builtins()


@FUNCTIONS.table("EXPLODE", "ARRAY<T> -> T", description="One row per element of the array.")
def explode(arr: list[Any]) -> list[Any]:
    return list(arr)


@FUNCTIONS.table(
    "CUBE_EXPLODE", "ARRAY<T> -> ARRAY<T>", description="One row per combination of the elements and NULLs."
)
def cube_explode(arr: list[Any]) -> list[list[Any]]:
    out = []
    for mask in itertools.product((False, True), repeat=len(arr)):
        out.append([None if hidden else v for v, hidden in zip(arr, mask, strict=True)])
    return out
