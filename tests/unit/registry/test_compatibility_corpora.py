"""The compatibility corpora (≥ 40 schema pairs per format), each checked in both directions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from corpus_avro import CASES as AVRO_CASES
from corpus_json_schema import CASES as JSON_CASES
from corpus_protobuf import CASES as PROTOBUF_CASES

from odradek.registry.compatibility import check, reads
from odradek.registry.formats import avro, json_schema, protobuf
from odradek.registry.formats.base import ParsedSchema
from odradek.registry.model import CompatibilityLevel


def verdicts(old: ParsedSchema, new: ParsedSchema) -> tuple[bool, bool, list[Any]]:
    backward = check(CompatibilityLevel.BACKWARD, new, [(1, old)])
    forward = check(CompatibilityLevel.FORWARD, new, [(1, old)])
    for finding in backward + forward:
        found = finding.incompatibility
        assert found.rule and found.rule.isupper() and found.message and found.path
    assert reads(old, old) == [] and reads(new, new) == []
    return not backward, not forward, backward + forward


@pytest.mark.parametrize(
    ("name", "old", "new", "backward", "forward"), AVRO_CASES, ids=[c[0] for c in AVRO_CASES]
)
def test_avro(name: str, old: Any, new: Any, backward: bool, forward: bool) -> None:
    got = verdicts(avro.parse(json.dumps(old)), avro.parse(json.dumps(new)))
    assert got[:2] == (backward, forward), [str(i) for i in got[2]]


@pytest.mark.parametrize(
    ("name", "old", "new", "backward", "forward"), JSON_CASES, ids=[c[0] for c in JSON_CASES]
)
def test_json_schema(name: str, old: Any, new: Any, backward: bool, forward: bool) -> None:
    got = verdicts(json_schema.parse(json.dumps(old)), json_schema.parse(json.dumps(new)))
    assert got[:2] == (backward, forward), [str(i) for i in got[2]]


@pytest.mark.parametrize(
    ("name", "old", "new", "backward", "forward"), PROTOBUF_CASES, ids=[c[0] for c in PROTOBUF_CASES]
)
def test_protobuf(name: str, old: str, new: str, backward: bool, forward: bool) -> None:
    got = verdicts(protobuf.parse(old), protobuf.parse(new))
    assert got[:2] == (backward, forward), [str(i) for i in got[2]]


def test_corpora_are_large_enough() -> None:
    assert min(len(AVRO_CASES), len(JSON_CASES), len(PROTOBUF_CASES)) >= 40


def test_levels_choose_directions_and_versions() -> None:
    v1 = avro.parse(json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}))
    v2 = avro.parse(json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}]}))
    v3 = avro.parse(json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "float"}]}))
    history = [(1, v1), (2, v2)]
    assert check(CompatibilityLevel.BACKWARD, v3, history) == []
    assert check(CompatibilityLevel.BACKWARD_TRANSITIVE, v3, history) == []
    assert [f.version for f in check(CompatibilityLevel.FORWARD, v3, history)] == [2]
    assert [f.version for f in check(CompatibilityLevel.FORWARD_TRANSITIVE, v3, history)] == [2, 1]
    assert {f.direction for f in check(CompatibilityLevel.FULL, v1, [(1, v2)])} == {"BACKWARD"}
    assert check(CompatibilityLevel.NONE, v1, [(1, v3)]) == []
    # a transitive check catches what a chain of non-transitive steps lets through
    a = avro.parse(json.dumps({"type": "record", "name": "R", "fields": [{"name": "x", "type": "int"}]}))
    b = avro.parse(
        json.dumps({"type": "record", "name": "R", "fields": [{"name": "x", "type": "int", "default": 0}]})
    )
    c = avro.parse(
        json.dumps(
            {"type": "record", "name": "R", "fields": [{"name": "x", "type": "string", "default": ""}]}
        )
    )
    assert check(CompatibilityLevel.BACKWARD, c, [(1, a), (2, b)]) != []
    messages = [str(f) for f in check(CompatibilityLevel.BACKWARD_TRANSITIVE, c, [(1, a), (2, b)])]
    assert any("version 1" in m for m in messages) and any("version 2" in m for m in messages)
    assert all("/fields/0/type" in m for m in messages)
