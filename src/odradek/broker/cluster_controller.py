"""The controller's duties on a ZooKeeper cluster (ARCHITECTURE D4): the election and leader elections.

Every broker of a cluster runs one `ClusterController`. It hears every metadata change (it is one of
the broker's publishers, and only sets a flag there: publishers must not change metadata) and then,
in its own task:

* when the image has no controller (no `/controller` znode: the last one's session ended), it tries
  to become controller (`elect_controller`: an ephemeral `/controller` and the next epoch, in one
  ZooKeeper transaction with the leader elections the change needs (a controller that died as a
  broker left its partitions without a leader); when another broker wins, the transaction fails
  and this broker stays a follower);
* when this broker is the controller, it applies `elect_leaders` (leaders of partitions whose
  leader is gone, offline followers out of the ISR) after every change, so a broker's death moves
  its leaderships within its ZooKeeper session timeout;
* with `auto.leader.rebalance.enable` (default true), every `leader.imbalance.check.interval.seconds`
  the controller gives leaderships back to their preferred replicas on brokers whose share of
  partitions led elsewhere is above `leader.imbalance.per.broker.percentage` (Kafka's rule).

Changes go through the broker's `run_controller`, which computes them on the latest image and
computes them again when another broker changed the znodes meanwhile (compare-and-set).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from odradek.metadata.broker_configs import BROKER_CONFIGS
from odradek.metadata.controller.leader_election import (
    PREFERRED,
    elect_controller,
    elect_leaders,
    elect_on_request,
    imbalanced_leaderships,
)
from odradek.metadata.controller.result import ApiError, ControllerResult
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.store import MetadataChange
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId

log = logging.getLogger("odradek.broker.controller")
T = TypeVar("T")
RunController = Callable[[Callable[[ClusterImage], ControllerResult[Any]]], Coroutine[Any, Any, Any]]
RETRY_DELAY_S = 0.5
STOP_GRACE_S = 1.0


class ClusterController:
    name = "controller"

    def __init__(
        self,
        node_id: BrokerId,
        static: StaticBrokerConfig,
        image: Callable[[], ClusterImage],
        run_controller: RunController,
    ) -> None:
        self.node_id = node_id
        self.static = static
        self._image = image
        self._run_controller = run_controller
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._rebalance_enabled = static_bool(static, "auto.leader.rebalance.enable")
        self._rebalance_interval_s = float(static_int(static, "leader.imbalance.check.interval.seconds"))
        self._imbalance_percentage = static_int(static, "leader.imbalance.per.broker.percentage")
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.elections = 0

    @property
    def is_controller(self) -> bool:
        return self._image().controller_id == self.node_id

    async def publish(self, change: MetadataChange) -> None:
        self._wake.set()
        self._changed.set()

    async def wait_until(self, condition: Callable[[ClusterImage], bool], timeout_s: float) -> bool:
        """Wait until the image satisfies `condition` (checked after every change); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._changed.clear()
            if condition(self._image()):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="cluster-controller")
        self._wake.set()

    async def stop(self) -> None:
        """Stop the loop: by flag first (it ends after its current step), by cancel if that takes
        long. Never `await task` under suppress(CancelledError): Python 3.11's `asyncio.wait_for`
        drops a cancel that races the event it waits for, and the task would then run on."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        _, running = await asyncio.wait([task], timeout=STOP_GRACE_S)
        while running:
            task.cancel()
            self._wake.set()
            _, running = await asyncio.wait([task], timeout=STOP_GRACE_S)

    def _stop_requested(self) -> bool:
        return self._stopping

    async def _run(self) -> None:
        next_rebalance = time.monotonic() + self._rebalance_interval_s
        while not self._stop_requested():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(next_rebalance - time.monotonic(), 0))
            self._wake.clear()
            if self._stop_requested():
                return
            try:
                await self._step()
                if time.monotonic() >= next_rebalance:
                    next_rebalance = time.monotonic() + self._rebalance_interval_s
                    await self._rebalance()
            except Exception:
                log.warning("controller step failed; trying again", exc_info=True)
                await asyncio.sleep(RETRY_DELAY_S)
                self._wake.set()

    async def _rebalance(self) -> None:
        """Automatic leader rebalancing: preferred replicas get their leaderships back."""
        if not self.is_controller or not self._rebalance_enabled:
            return
        moves = imbalanced_leaderships(self._image(), self._imbalance_percentage)
        if moves:
            outcomes = await self._run_controller(
                lambda img: _if_controller_elect(
                    img, self.node_id, imbalanced_leaderships(img, self._imbalance_percentage), self.static
                )
            )
            moved = sum(1 for o in outcomes.values() if o.code is ErrorCode.NO_ERROR)
            if moved:
                log.info(
                    "controller %d gave %d leadership(s) back to preferred replicas", self.node_id, moved
                )

    async def _step(self) -> None:
        image = self._image()
        if image.controller_id != self.node_id:
            if image.controller_id >= 0:
                return
            elected = await self._run_controller(
                lambda img: _elect_controller_and_leaders(img, self.node_id, self.static)
            )
            if elected is None:
                return
            log.info("broker %d is the controller (epoch %d)", self.node_id, self._image().controller_epoch)
            moved = elected
        else:
            moved = await self._run_controller(lambda img: _if_controller(img, self.node_id, self.static))
        if moved:
            self.elections += moved
            log.info("controller %d elected %d new partition leader(s)", self.node_id, moved)


def _elect_controller_and_leaders(
    image: ClusterImage, me: BrokerId, static: StaticBrokerConfig
) -> ControllerResult[int | None]:
    """`me` becomes the controller and elects the leaders the last controller left to elect (the
    partitions of the broker whose session ended with the controller's) in ONE change: one
    ZooKeeper transaction, one read on every other broker. None: another broker is the controller."""
    won = elect_controller(image, me)
    if not won.response:
        return ControllerResult((), None)
    leaders = elect_leaders(replay(image, won.records), static)
    return ControllerResult((*won.records, *leaders.records), leaders.response)


def _if_controller_elect(
    image: ClusterImage, me: BrokerId, partitions: list[tuple[str, int]], static: StaticBrokerConfig
) -> ControllerResult[dict[tuple[str, int], ApiError]]:
    if image.controller_id != me:
        return ControllerResult((), {})
    return elect_on_request(image, PREFERRED, partitions, static)


def _if_controller(image: ClusterImage, me: BrokerId, static: StaticBrokerConfig) -> ControllerResult[int]:
    """Leader elections, computed only while `me` is still the controller on the latest image."""
    if image.controller_id != me:
        return ControllerResult((), 0)
    return elect_leaders(image, static)


def static_int(static: StaticBrokerConfig, name: str) -> int:
    definition = BROKER_CONFIGS[name]
    raw = static.get(name)
    value = definition.parse(raw) if raw is not None else definition.default
    assert isinstance(value, int)
    return value


def static_bool(static: StaticBrokerConfig, name: str) -> bool:
    definition = BROKER_CONFIGS[name]
    raw = static.get(name)
    return (definition.parse(raw) if raw is not None else definition.default) is True
