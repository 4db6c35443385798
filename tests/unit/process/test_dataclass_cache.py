"""The dataclass methods cache: a later run takes the compiled code from the file and its classes
behave exactly as without it; a missing, stale or corrupt file only means compiling again."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import marshal
import os
import subprocess
import sys
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from odradek.process.dataclass_cache import cached_dataclass_methods, default_path, load

MODULE = '''
from __future__ import annotations
from dataclasses import InitVar, dataclass, field, FrozenInstanceError

@dataclass(frozen=True, slots=True)
class Point:
    """A frozen, hashable one."""
    x: int
    y: int = 0

@dataclass(order=True)
class Ordered:
    rank: int
    tags: list[str] = field(default_factory=list)
    scale: InitVar[int] = 1

    def __post_init__(self, scale: int) -> None:
        self.rank *= scale

@dataclass(kw_only=True, eq=False)
class Options:
    name: str
    retries: int = 3

def behaviour() -> list[object]:
    p = Point(1, 2)
    try:
        p.x = 5  # type: ignore[misc]
        frozen = False
    except FrozenInstanceError:
        frozen = True
    o = Ordered(2, scale=3)
    return [
        repr(p), p == Point(1, 2), p != Point(1, 3), hash(p) == hash(Point(1, 2)), frozen,
        repr(o), o.tags, Ordered(1) < Ordered(2), sorted([Ordered(3), Ordered(1)])[0].rank,
        repr(Options(name="n")), Options(name="n") == Options(name="n"),
    ]
'''


def _import(path: Path, name: str) -> ModuleType:
    path.write_text(MODULE)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def _behaviour(module: ModuleType) -> Any:
    return module.behaviour()


@pytest.fixture
def writes_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def test_a_second_run_compiles_nothing_and_its_classes_behave_the_same(
    tmp_path: Path, writes_bytecode: None
) -> None:
    cache = tmp_path / "cache.marshal"
    expected = _behaviour(_import(tmp_path / "plain.py", "dc_plain"))

    with cached_dataclass_methods("t", cache) as first:
        learnt = _import(tmp_path / "first.py", "dc_first")
    assert first.compiled == len(first.used) > 10  # init, repr, eq, hash, setattr, delattr, order...
    assert cache.exists()

    with cached_dataclass_methods("t", cache) as second:
        cached = _import(tmp_path / "second.py", "dc_second")
    assert second.compiled == 0
    assert second.used.keys() == first.used.keys()
    assert _behaviour(learnt) == _behaviour(cached) == expected
    assert "exec" not in vars(dataclasses)


def test_a_changed_class_is_compiled_and_the_file_keeps_only_what_the_run_used(
    tmp_path: Path, writes_bytecode: None
) -> None:
    cache = tmp_path / "cache.marshal"
    with cached_dataclass_methods("t", cache):
        _import(tmp_path / "a.py", "dc_a")
    before = load(cache)
    changed = tmp_path / "b.py"
    with cached_dataclass_methods("t", cache) as run:
        changed.write_text("from dataclasses import dataclass\n@dataclass\nclass Other:\n    z: float\n")
        spec = importlib.util.spec_from_file_location("dc_b", changed)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["dc_b"] = module
        spec.loader.exec_module(module)
        del sys.modules["dc_b"]
    assert run.compiled > 0
    after = load(cache)
    assert after.keys() == run.used.keys()
    assert not after.keys() & before.keys()
    assert module.Other(1.5) == module.Other(1.5)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not marshal at all",
        MAGIC_NUMBER + marshal.dumps([1, 2]),
        MAGIC_NUMBER + marshal.dumps({"x": 1}),
        MAGIC_NUMBER + b"truncated",
    ],
)
def test_an_unreadable_file_is_ignored_and_rewritten(
    tmp_path: Path, writes_bytecode: None, content: bytes
) -> None:
    cache = tmp_path / "cache.marshal"
    cache.write_bytes(content)
    with cached_dataclass_methods("t", cache) as run:
        module = _import(tmp_path / "m.py", "dc_m")
    assert run.compiled > 0
    assert _behaviour(module)[0] == "Point(x=1, y=2)"
    assert load(cache).keys() == run.used.keys()


def test_nothing_is_written_when_python_writes_no_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    cache = tmp_path / "cache.marshal"
    with cached_dataclass_methods("t", cache) as run:
        _import(tmp_path / "m.py", "dc_m2")
    assert run.compiled > 0
    assert not cache.exists()


def test_a_read_only_directory_is_not_an_error(tmp_path: Path, writes_bytecode: None) -> None:
    cache = tmp_path / "missing-parent-is-a-file" / "cache.marshal"
    (tmp_path / "missing-parent-is-a-file").write_text("")
    with cached_dataclass_methods("t", cache) as run:
        _import(tmp_path / "m.py", "dc_m3")
    assert run.compiled > 0
    assert not cache.exists()


def test_the_hook_is_removed_when_an_import_fails(tmp_path: Path, writes_bytecode: None) -> None:
    cache = tmp_path / "cache.marshal"
    with pytest.raises(ZeroDivisionError), cached_dataclass_methods("t", cache):
        _import(tmp_path / "m.py", "dc_m4")
        1 / 0  # noqa: B018
    assert "exec" not in vars(dataclasses)
    assert not cache.exists()


def test_the_cache_file_is_per_entry_point_and_python() -> None:
    path = default_path("broker")
    assert path.parent.name == "__pycache__"
    assert "broker" in path.name and (sys.implementation.cache_tag or "python") in path.name


SCRIPT = """
import json, sys
from pathlib import Path
from odradek.process.dataclass_cache import cached_dataclass_methods

with cached_dataclass_methods("broker", Path(sys.argv[1])) as run:
    from odradek.broker.runner import run_broker
print(json.dumps({"compiled": run.compiled, "used": len(run.used)}))
"""


def test_a_broker_start_takes_all_its_dataclass_methods_from_the_cache_the_second_time(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cache = tmp_path / "broker.marshal"

    def run() -> dict[str, int]:
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(cache)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        result: dict[str, int] = json.loads(out.splitlines()[-1])
        return result

    first = run()
    assert first["compiled"] == first["used"] > 300  # ~110 dataclasses of the broker's start
    second = run()
    assert second == {"compiled": 0, "used": first["used"]}


def test_a_file_written_by_another_bytecode_version_is_ignored(tmp_path: Path, writes_bytecode: None) -> None:
    cache = tmp_path / "cache.marshal"
    with cached_dataclass_methods("t", cache):
        _import(tmp_path / "a.py", "dc_v1")
    content = cache.read_bytes()
    assert content.startswith(MAGIC_NUMBER) and load(cache)
    other = bytes([MAGIC_NUMBER[0] ^ 1]) + MAGIC_NUMBER[1:]
    cache.write_bytes(other + content[len(MAGIC_NUMBER) :])
    assert load(cache) == {}
    with cached_dataclass_methods("t", cache) as run:
        _import(tmp_path / "b.py", "dc_v2")
    assert run.compiled == len(run.used) > 0
    assert cache.read_bytes().startswith(MAGIC_NUMBER)
