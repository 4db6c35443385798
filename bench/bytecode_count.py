"""Counting the Python bytecode instructions and calls that code executes, with `sys.settrace`
(for the benchmarks' `--bytecodes`; not a test).

Unlike time, these figures do not move with the machine's load, so two versions of the code compare
on a shared machine. What runs in C (system calls, builtins) is not in them.

    counter = BytecodeCount()
    for frame in frames:
        counter.run(protocol.buffer_updated, len(frame))
    bytecodes, calls = counter.per(len(frames))
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any


class BytecodeCount:
    """Bytecodes and calls of every `run`, added up."""

    def __init__(self) -> None:
        self.bytecodes = 0
        self.calls = 0

    def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)`, counted."""
        sys.settrace(self._trace)
        try:
            return function(*args)
        finally:
            sys.settrace(None)

    def per(self, count: int) -> tuple[float, float]:
        """(bytecodes, calls) per one of `count` things run."""
        return self.bytecodes / count, self.calls / count

    def _trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            self.bytecodes += 1
        elif event == "call":
            self.calls += 1
        return self._trace
