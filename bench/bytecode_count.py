"""Counting the Python bytecode instructions and calls that code executes, with `sys.settrace`
(for the benchmarks' `--bytecodes`; not a test).

Unlike time, these figures do not move with the machine's load, so two versions of the code compare
on a shared machine. What runs in C (system calls, builtins) is not in them.

    counter = BytecodeCount()
    for frame in frames:
        counter.run(protocol.buffer_updated, len(frame))
    bytecodes, calls = counter.per(len(frames))

`BytecodeCount(mark=code)` also counts, in `before_mark`, the bytecodes each run executes before it
first calls `code` (e.g. the transport's write of the answer: what a client waits for).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any


class BytecodeCount:
    """Bytecodes and calls of every `run`, added up."""

    def __init__(self, mark: CodeType | None = None) -> None:
        self.bytecodes = 0
        self.calls = 0
        self.mark = mark
        self.before_mark = 0
        self._marked = False

    def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)`, counted."""
        self._marked = self.mark is None
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
            if not self._marked:
                self.before_mark += 1
        elif event == "call":
            self.calls += 1
            if frame.f_code is self.mark:
                self._marked = True
        return self._trace
