from __future__ import annotations

import pytest

from odradek.metadata.topic_names import (
    colliding_topic,
    collision_error,
    is_internal,
    topic_name_error,
)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "the empty string is not allowed"),
        (".", "'.' is not allowed"),
        ("..", "'..' is not allowed"),
        ("a" * 250, "the length of '" + "a" * 250 + "' is longer than the max allowed length 249"),
        ("a b", "'a b' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"),
        ("é", "'é' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"),
        ("a/b", "'a/b' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"),
    ],
)
def test_illegal_names_give_kafkas_reason(name: str, reason: str) -> None:
    assert topic_name_error(name) == f"Topic name is invalid: {reason}"


@pytest.mark.parametrize("name", ["a", "a" * 249, "...", "My-Topic_1.v2", "__consumer_offsets"])
def test_legal_names(name: str) -> None:
    assert topic_name_error(name) is None


def test_collisions_between_dot_and_underscore() -> None:
    assert colliding_topic("a.b", ["x", "a_b"]) == "a_b"
    assert colliding_topic("a_b", ["a.b"]) == "a.b"
    assert colliding_topic("a.b", ["a.b"]) is None  # the same topic does not collide with itself
    assert colliding_topic("ab", ["a_b"]) is None
    assert colliding_topic("a.b.c", ["a_b.c", "zz"]) == "a_b.c"
    assert collision_error("a.b", "a_b") == "Topic 'a.b' collides with existing topic: a_b"


def test_internal_topics() -> None:
    assert is_internal("__consumer_offsets")
    assert is_internal("__transaction_state")
    assert not is_internal("__other")
