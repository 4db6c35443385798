from __future__ import annotations

import argparse

import pytest

from odradek.cli.client_options import add_client_arguments, client_config, parse_property
from odradek.cli.errors import cli_error, error_name, kafka_error_message
from odradek.cli.output import render_json, render_table


def test_render_table_aligns_and_marks_missing_values() -> None:
    assert render_table(("A", "LONGER"), [("x", None), ("yyyy", 1)]) == "A     LONGER\nx     -\nyyyy  1\n"
    assert render_table(("ONLY",), []) == "ONLY\n"


def test_render_json_is_one_document() -> None:
    assert render_json({"a": [1], "é": None}) == '{\n  "a": [\n    1\n  ],\n  "é": null\n}\n'


def test_parse_property() -> None:
    assert parse_property("a.b=c=d") == ("a.b", "c=d")
    assert parse_property(" k =") == ("k", "")
    for bad in ("novalue", "=x"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_property(bad)


def test_client_config_precedence() -> None:
    config = client_config(
        "h:1", [("acks", "1"), ("linger.ms", "7")], flags={"acks": "all", "x": 2, "linger.ms": 5}
    )
    assert config == {
        "bootstrap.servers": "h:1",
        "client.id": "odradek-cli",
        "log_level": 0,
        "linger.ms": "7",
        "x": 2,
        "acks": "1",
    }
    assert client_config("h:1", [], verbose=True)["log_level"] == 7


def test_bootstrap_default_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODRADEK_BOOTSTRAP", "broker:19092")
    parser = argparse.ArgumentParser()
    add_client_arguments(parser)
    args = parser.parse_args(["-X", "a=b", "-X", "c=d"])
    assert (args.bootstrap_server, args.properties, args.timeout) == (
        "broker:19092",
        [("a", "b"), ("c", "d")],
        30.0,
    )
    assert parser.parse_args(["-b", "x:1"]).bootstrap_server == "x:1"


class FakeKafkaError:
    def name(self) -> str:
        return "TOPIC_ALREADY_EXISTS"

    def str(self) -> str:
        return "Topic 't' already exists."


def test_error_lines_name_the_kafka_error() -> None:
    exc = Exception(FakeKafkaError())
    assert (
        kafka_error_message(FakeKafkaError(), "topic t")
        == "topic t: TOPIC_ALREADY_EXISTS: Topic 't' already exists."
    )
    assert str(cli_error(exc, "topic t")) == "topic t: TOPIC_ALREADY_EXISTS: Topic 't' already exists."
    assert error_name(exc) == "TOPIC_ALREADY_EXISTS"
    assert str(cli_error(ValueError("bad"))) == "ValueError: bad"
    assert error_name(ValueError("bad")) is None
