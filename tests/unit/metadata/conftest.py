from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import pytest

from odradek.metadata.controller import CreatableTopic, create_topics
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import MetadataRecord, RegisterBrokerRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.ids import BrokerId

Cluster = Callable[..., ClusterImage]


def brokers_image(ids: Sequence[int], racks: Sequence[str | None] | None = None) -> ClusterImage:
    records: list[MetadataRecord] = [
        RegisterBrokerRecord(BrokerId(b), f"host{b}", 9092, None if racks is None else racks[i])
        for i, b in enumerate(ids)
    ]
    return replay(ClusterImage.EMPTY, records)


@pytest.fixture
def static() -> StaticBrokerConfig:
    return StaticBrokerConfig.from_properties({"node.id": "1"})


@pytest.fixture
def cluster() -> Cluster:
    """cluster(3) → an image with brokers 1, 2, 3; cluster([0, 5]) → brokers 0 and 5."""

    def make(brokers: int | Sequence[int] = 3) -> ClusterImage:
        ids = list(range(1, brokers + 1)) if isinstance(brokers, int) else list(brokers)
        return brokers_image(ids)

    return make


@pytest.fixture
def with_topic(static: StaticBrokerConfig) -> Callable[..., ClusterImage]:
    """with_topic(image, "t", partitions=3, rf=1, configs={...}) → the image with that topic created."""

    def make(
        image: ClusterImage,
        name: str,
        *,
        partitions: int = 1,
        rf: int = 1,
        configs: dict[str, str] | None = None,
        seed: int = 0,
    ) -> ClusterImage:
        result = create_topics(
            image,
            static,
            [CreatableTopic(name, partitions, rf, configs=tuple((configs or {}).items()))],
            validate_only=False,
            rng=random.Random(seed),
        )
        assert result.response[0].error_message is None, result.response[0].error_message
        return replay(image, result.records)

    return make
