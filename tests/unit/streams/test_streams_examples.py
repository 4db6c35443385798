"""Every example in examples/ through the test driver, and `odradek streams describe` on one."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from odradek.cli.main import main
from odradek.streams import Serdes
from odradek.streams.internal_serdes import WindowedSerde

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _driver(make_driver: Any, name: str) -> Any:
    module = _load(name)
    config = {k: v for k, v in module.CONFIG.items() if k != "processing.guarantee"}
    return make_driver(module.build(), config)


def test_word_count(make_driver: Any) -> None:
    d = _driver(make_driver, "word_count")
    d.create_input_topic("text-lines", Serdes.STRING, Serdes.STRING).pipe_input(None, "To be or not to be", 1)
    out = d.create_output_topic("word-counts", Serdes.STRING, Serdes.LONG).read_key_values_to_map()
    assert out == {"to": 2, "be": 2, "or": 1, "not": 1}


def test_clickstream_sessions(make_driver: Any) -> None:
    d = _driver(make_driver, "clickstream_sessions")
    clicks = d.create_input_topic("clicks", Serdes.STRING, Serdes.JSON)
    minute = 60_000
    clicks.pipe_input("ann", {"page": "/a"}, 0)
    clicks.pipe_input("ann", {"page": "/b"}, 10 * minute)
    clicks.pipe_input("ann", {"page": "/c"}, 100 * minute)  # a new session; the first one is over
    clicks.pipe_input("bob", {"page": "/x"}, 200 * minute)  # stream time moves on: ann's 2nd closes
    out = d.create_output_topic("user-sessions", Serdes.STRING, Serdes.JSON).read_key_values_to_list()
    assert out == [
        ("ann", {"clicks": 2, "pages": ["/a", "/b"], "start": 0, "end": 10 * minute}),
        ("ann", {"clicks": 1, "pages": ["/c"], "start": 100 * minute, "end": 100 * minute}),
    ]
    assert WindowedSerde(Serdes.STRING)


def test_orders_payments(make_driver: Any) -> None:
    d = _driver(make_driver, "orders_payments")
    orders = d.create_input_topic("orders", Serdes.STRING, Serdes.JSON)
    payments = d.create_input_topic("payments", Serdes.STRING, Serdes.JSON)
    orders.pipe_input("o1", {"amount": 10}, 0)
    orders.pipe_input("o2", {"amount": 20}, 1000)
    payments.pipe_input("o1", {"amount": 10}, 60_000)
    orders.pipe_input("o3", {"amount": 5}, 3_600_000)  # an hour later: o2's window has closed
    out = d.create_output_topic("orders-settled", Serdes.STRING, Serdes.JSON).read_key_values_to_list()
    assert out == [("o1", {"amount": 10, "paid": True}), ("o2", {"amount": 20, "paid": False})]


def test_enrichment_global_table(make_driver: Any) -> None:
    d = _driver(make_driver, "enrichment_global_table")
    d.create_input_topic("products", Serdes.STRING, Serdes.JSON).pipe_input("p1", {"title": "lamp"}, 0)
    orders = d.create_input_topic("orders", Serdes.STRING, Serdes.JSON)
    orders.pipe_input("o1", {"product": "p1", "quantity": 2}, 1)
    orders.pipe_input("o2", {"product": "p404", "quantity": 1}, 2)
    out = d.create_output_topic("orders-enriched", Serdes.STRING, Serdes.JSON).read_values_to_list()
    assert out == [
        {"product": "p1", "quantity": 2, "title": "lamp"},
        {"product": "p404", "quantity": 1, "title": None},
    ]


def test_poll_loop_vs_dsl(make_driver: Any) -> None:
    d = _driver(make_driver, "poll_loop_vs_dsl")
    readings = d.create_input_topic("readings", Serdes.STRING, Serdes.STRING)
    readings.pipe_input("s1", '{"temp_c": 100}', 1)
    readings.pipe_input("s1", "garbage", 2)
    readings.pipe_input("s2", '{"temp_c": 0}', 3)
    out = d.create_output_topic("readings-f", Serdes.STRING, Serdes.JSON).read_values_to_list()
    assert out == [{"temp_c": 100, "temp_f": 212.0}, {"temp_c": 0, "temp_f": 32.0}]


def test_cli_describe_prints_the_topology(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["streams", "describe", str(EXAMPLES / "word_count.py")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [text-lines])"
    )
    assert "Sink: words-repartition-sink (topic: words-repartition)" in out
    assert "Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts])" in out


def test_cli_describe_explains_a_bad_module(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["streams", "describe", "no.such.module"]) != 0
    assert "cannot import no.such.module" in capsys.readouterr().err
    sys.modules.pop("word_count", None)
