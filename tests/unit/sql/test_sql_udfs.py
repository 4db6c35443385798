"""User-defined functions: @udf/@udaf/@udtf, loading from modules and directories, reload, errors."""

from __future__ import annotations

import sys
import textwrap
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sql_eval import evaluate

from odradek.sql import types as t
from odradek.sql.errors import KsqlAnalysisError, KsqlFunctionError
from odradek.sql.functions import FunctionKind, builtin_registry, udaf, udf, udtf


def make_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module
    return module


def test_udf_signature_from_annotations() -> None:
    module = make_module("udfs_annotated")

    @udf(description="area of a circle")
    def circle_area(radius: float) -> float:
        return 3.0 * radius * radius

    circle_area.__module__ = module.__name__
    module.circle_area = circle_area  # type: ignore[attr-defined]
    registry = builtin_registry()
    assert registry.load_module(module) == ["CIRCLE_AREA"]
    entry = registry.get("circle_area")
    assert entry is not None and entry.kind is FunctionKind.SCALAR and entry.description == "area of a circle"
    assert registry.resolve("CIRCLE_AREA", [t.INTEGER]).return_type == t.DOUBLE
    assert evaluate("CIRCLE_AREA(2)", registry=registry) == 12.0
    assert evaluate("CIRCLE_AREA(NULL)", registry=registry) is None


def test_udf_with_explicit_signatures_udaf_and_udtf() -> None:
    module = make_module("udfs_explicit")

    @udf(name="multiply", signature=["INT, INT -> INT", "STRING, INT -> STRING"])
    def multiply(a, b):  # type: ignore[no-untyped-def]
        return a * b

    @udaf(signature="BIGINT -> BIGINT")
    class my_sum:
        def initialize(self) -> int:
            return 0

        def aggregate(self, value: int, aggregate: int) -> int:
            return aggregate + value

        def merge(self, a: int, b: int) -> int:
            return a + b

        def map(self, aggregate: int) -> int:
            return aggregate

    @udtf
    def words(text: str) -> list[str]:
        return text.split()

    for obj in (multiply, my_sum, words):
        obj.__module__ = module.__name__
        setattr(module, obj.__name__, obj)
    registry = builtin_registry()
    assert sorted(registry.load_module(module)) == ["MULTIPLY", "MY_SUM", "WORDS"]
    assert evaluate("MULTIPLY(6, 7)", registry=registry) == 42
    assert evaluate("MULTIPLY('ab', 2)", registry=registry) == "abab"
    assert registry.get("MY_SUM").kind is FunctionKind.AGGREGATE  # type: ignore[union-attr]
    assert registry.get("WORDS").kind is FunctionKind.TABLE  # type: ignore[union-attr]
    assert registry.resolve("WORDS", [t.STRING]).return_type == t.STRING
    instance = registry.resolve("MY_SUM", [t.BIGINT]).overload.impl([t.BIGINT], [])
    assert instance.map(instance.aggregate(5, instance.initialize())) == 5


def test_a_raising_udf_raises_function_error() -> None:
    module = make_module("udfs_raising")

    @udf(signature="INT -> INT")
    def explode_on_three(x):  # type: ignore[no-untyped-def]
        if x == 3:
            raise ValueError("three is not allowed")
        return x

    explode_on_three.__module__ = module.__name__
    module.explode_on_three = explode_on_three  # type: ignore[attr-defined]
    registry = builtin_registry()
    registry.load_module(module)
    assert evaluate("EXPLODE_ON_THREE(2)", registry=registry) == 2
    with pytest.raises(KsqlFunctionError, match="three is not allowed"):
        evaluate("EXPLODE_ON_THREE(3)", registry=registry)


def test_a_udf_may_not_replace_a_builtin() -> None:
    module = make_module("udfs_clash")

    @udf(name="ucase", signature="STRING -> STRING")
    def mine(s):  # type: ignore[no-untyped-def]
        return s

    mine.__module__ = module.__name__
    module.mine = mine  # type: ignore[attr-defined]
    with pytest.raises(KsqlAnalysisError, match="would replace a built-in"):
        builtin_registry().load_module(module)


def test_extension_directory_and_reload_without_restart(tmp_path: Path) -> None:
    source = tmp_path / "greet.py"
    source.write_text(
        textwrap.dedent(
            """
            from odradek.sql import udf

            @udf
            def greet(name: str) -> str:
                return "hello " + name
            """
        )
    )
    registry = builtin_registry()
    assert registry.load_directory(tmp_path) == ["GREET"]
    assert evaluate("GREET('ada')", registry=registry) == "hello ada"
    source.write_text(
        textwrap.dedent(
            """
            from odradek.sql import udf

            @udf
            def greet(name: str) -> str:
                return "hi " + name

            @udf
            def shout(name: str) -> str:
                return name.upper()
            """
        )
    )
    assert sorted(registry.reload()) == ["GREET", "SHOUT"]
    assert evaluate("GREET('ada')", registry=registry) == "hi ada"
    assert evaluate("SHOUT('ada')", registry=registry) == "ADA"


def test_bad_declarations() -> None:
    with pytest.raises(TypeError, match="no annotation"):

        @udf
        def untyped(x):  # type: ignore[no-untyped-def]
            return x

    with pytest.raises(TypeError, match="needs a merge"):

        @udaf(signature="INT -> INT")
        class incomplete:
            def initialize(self) -> int:
                return 0

            def aggregate(self, v: int, a: int) -> int:
                return a

            def map(self, a: int) -> int:
                return a
