from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.placement import (
    PlacementError,
    manual_assignment_error,
    place_new_partitions,
    place_new_topic,
    place_replicas,
)
from odradek.metadata.records import BrokerFenceRecord
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId


def test_kafkas_documented_layout_for_five_brokers() -> None:
    # Leaders round-robin; after every n partitions the followers shift by one more position.
    assert place_replicas(range(5), 10, 3, start_index=0, shift=0) == [
        (0, 1, 2),
        (1, 2, 3),
        (2, 3, 4),
        (3, 4, 0),
        (4, 0, 1),
        (0, 2, 3),
        (1, 3, 4),
        (2, 4, 0),
        (3, 0, 1),
        (4, 1, 2),
    ]


def test_start_index_and_shift_rotate_the_layout() -> None:
    assert place_replicas([30, 10, 20], 4, 2, start_index=1, shift=1) == [
        (20, 10),
        (30, 20),
        (10, 30),
        (20, 30),
    ]


def test_single_broker() -> None:
    assert place_replicas([7], 3, 1, start_index=0, shift=0) == [(7,), (7,), (7,)]


def test_new_topic_uses_the_random_source_deterministically(cluster: Callable[..., ClusterImage]) -> None:
    image = cluster(4)
    first = place_new_topic(image, 8, 3, random.Random(42))
    assert first == place_new_topic(image, 8, 3, random.Random(42))
    rng = random.Random(42)
    start, shift = rng.randrange(4), rng.randrange(4)
    assert first == place_replicas([1, 2, 3, 4], 8, 3, start_index=start, shift=shift)


def test_fenced_brokers_get_no_replicas(cluster: Callable[..., ClusterImage]) -> None:
    image = replay(cluster(3), [BrokerFenceRecord(BrokerId(2), True)])
    for replicas in place_new_topic(image, 6, 2, random.Random(1)):
        assert set(replicas) == {1, 3}


def test_new_partitions_continue_from_partition_zeros_leader(cluster: Callable[..., ClusterImage]) -> None:
    existing = [(2, 3), (3, 1), (1, 2)]
    assert place_new_partitions(cluster(3), existing, 2, 2) == [(2, 3), (3, 1)]


@pytest.mark.parametrize(
    ("brokers", "partitions", "rf", "code", "message"),
    [
        (
            [1],
            1,
            3,
            ErrorCode.INVALID_REPLICATION_FACTOR,
            "The target replication factor of 3 cannot be reached because only 1 broker(s) are registered.",
        ),
        ([], 1, 1, ErrorCode.INVALID_REPLICATION_FACTOR, "All brokers are currently fenced."),
        ([1], 0, 1, ErrorCode.INVALID_PARTITIONS, "Number of partitions must be larger than 0."),
        (
            [1],
            1,
            0,
            ErrorCode.INVALID_REPLICATION_FACTOR,
            "Invalid replication factor 0: the replication factor must be positive.",
        ),
    ],
)
def test_placement_errors(
    brokers: list[int], partitions: int, rf: int, code: ErrorCode, message: str
) -> None:
    with pytest.raises(PlacementError) as error:
        place_replicas(brokers, partitions, rf, start_index=0, shift=0)
    assert (error.value.error_code, str(error.value)) == (code, message)


@pytest.mark.parametrize(
    ("replicas", "rf", "message"),
    [
        ((), None, "The manual partition assignment includes an empty replica list."),
        (
            (1, 9),
            None,
            "The manual partition assignment includes broker 9, but no such broker is registered.",
        ),
        ((2, 1, 2), None, "The manual partition assignment includes the broker 2 more than once."),
        (
            (1, 2),
            3,
            "The manual partition assignment includes a partition with 2 replica(s), but this is not "
            "consistent with previous partitions, which have 3 replica(s).",
        ),
        ((3, 1), 2, None),
    ],
)
def test_manual_assignments(
    cluster: Callable[..., ClusterImage], replicas: tuple[int, ...], rf: int | None, message: str | None
) -> None:
    assert manual_assignment_error(cluster(3), replicas, rf) == message
