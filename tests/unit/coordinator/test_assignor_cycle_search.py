"""The negative-cycle helpers of the heterogeneous balancer, on graphs written out by hand."""

from __future__ import annotations

import pytest

from odradek.coordinator.group.assignors.cycle_canceling import _bellman_ford_cycle, _predecessor_cycle


def test_predecessor_cycle_in_edge_order() -> None:
    # links 1 <- 0, 2 <- 1, 0 <- 2 (pred[b] = a for edge a -> b), and 3 hanging off 2
    assert _predecessor_cycle([2, 0, 1, 2]) == [1, 2, 0]
    assert _predecessor_cycle([-1, 0, 1, 2]) is None


def test_bellman_ford_finds_the_negative_cycle() -> None:
    # 0 -> 1 (1), 1 -> 2 (-3), 2 -> 1 (1), 2 -> 3 (0): the cycle 1 -> 2 -> 1 costs -2
    out = [[(1, 1)], [(2, -3)], [(1, 1), (3, 0)], []]
    cycle = _bellman_ford_cycle(out)
    assert sorted(cycle) == [1, 2]


def test_bellman_ford_refuses_a_graph_without_negative_cycle() -> None:
    with pytest.raises(AssertionError):
        _bellman_ford_cycle([[(1, 1)], [(0, 1)]])
