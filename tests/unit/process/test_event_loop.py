"""`ODRADEK_EVENT_LOOP` picks the broker's event loop."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from odradek.process.event_loop import ENV, loop_factory

HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None


def test_asyncio_keeps_the_standard_loop() -> None:
    assert loop_factory({ENV: "asyncio"}) == ("asyncio", None)


def test_auto_takes_uvloop_when_installed() -> None:
    name, factory = loop_factory({})
    assert name == ("uvloop" if HAVE_UVLOOP else "asyncio")
    assert (factory is not None) == HAVE_UVLOOP
    assert loop_factory({ENV: " AUTO "})[0] == name


def test_an_unknown_choice_is_refused() -> None:
    with pytest.raises(ValueError, match="expected one of auto, uvloop, asyncio"):
        loop_factory({ENV: "trio"})


@pytest.mark.skipif(not HAVE_UVLOOP, reason="uvloop is not installed")
def test_uvloop_factory_makes_a_working_loop() -> None:
    name, factory = loop_factory({ENV: "uvloop"})
    assert name == "uvloop" and factory is not None
    loop = factory()
    try:
        assert isinstance(loop, asyncio.AbstractEventLoop)
        assert loop.run_until_complete(asyncio.sleep(0, result=7)) == 7
    finally:
        loop.close()
