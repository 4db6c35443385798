"""Regression (found by the fault tests): a clean stop of the controller broker hung for ever when
the stop's cancel raced a wake-up of the controller loop (Python 3.11's `asyncio.wait_for` returns
the woken wait and drops the cancel; the loop then slept until the next rebalance, 300 s). The
stop must return whatever the loop is doing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from odradek.broker.cluster_controller import ClusterController
from odradek.metadata.controller.result import ControllerResult
from odradek.metadata.image import ClusterImage
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.ids import BrokerId


def controller() -> ClusterController:
    image = ClusterImage(controller_id=BrokerId(1))  # the controller: every wake-up runs a step

    async def run_controller(compute: Any) -> Any:
        await asyncio.sleep(0)
        result: ControllerResult[Any] = compute(image)
        return result.response

    static = StaticBrokerConfig.from_properties({"node.id": "1"})
    return ClusterController(BrokerId(1), static, lambda: image, run_controller)


async def stop_while_woken(delay_steps: int) -> None:
    c = controller()
    c.start()
    for _ in range(3):
        await asyncio.sleep(0)
    for _ in range(delay_steps):
        await asyncio.sleep(0)
    await c.publish(None)  # type: ignore[arg-type]
    await asyncio.wait_for(c.stop(), 5)


@pytest.mark.timeout(60)  # before the fix: a hang
def test_stop_returns_even_when_a_change_wakes_the_loop_at_the_same_moment() -> None:
    async def main() -> None:
        for steps in range(30):
            await stop_while_woken(steps)

    asyncio.run(main())
