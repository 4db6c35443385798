"""KIP-966 eligible leader replicas: `controller/partition_change.py` through the controller's uses.

RF=3 with min.insync.replicas=2 unless said otherwise; brokers die by unregistering (their
ZooKeeper session ended) and come back by registering.
"""

from __future__ import annotations

import uuid

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.controller.leader_election import (
    UNCLEAN,
    elect_leaders,
    elect_on_request,
    unclean_shutdown_changes,
)
from odradek.metadata.controller.partition_change import partition_change
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage, PartitionRegistration
from odradek.metadata.records import (
    NO_LEADER,
    ConfigRecord,
    FeatureLevelRecord,
    MetadataRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    TopicRecord,
    UnregisterBrokerRecord,
)
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.replication.replica_set import LeaderAndIsr, ReplicaSet

B1, B2, B3 = BrokerId(1), BrokerId(2), BrokerId(3)
TID = uuid.UUID(int=9)
STATIC = StaticBrokerConfig.from_properties({"node.id": "1"})
ALL = (B1, B2, B3)


def cluster(
    replicas: tuple[BrokerId, ...] = ALL, min_isr: str = "2", isr: tuple[BrokerId, ...] | None = None
) -> ClusterImage:
    records: list[MetadataRecord] = [RegisterBrokerRecord(b, "h", 9000 + b) for b in ALL]
    records += [
        TopicRecord("t", TID),
        ConfigRecord(ConfigResourceType.TOPIC, "t", "min.insync.replicas", min_isr),
        PartitionRecord(TID, 0, replicas, replicas if isr is None else isr, replicas[0]),
    ]
    return replay(ClusterImage.EMPTY, records)


def settle(image: ClusterImage, *records: MetadataRecord) -> ClusterImage:
    image = replay(image, records)
    return replay(image, elect_leaders(image, STATIC).records)


def state(image: ClusterImage) -> PartitionRegistration:
    topic = image.topic("t")
    assert topic is not None
    return topic.partitions[0]


def brief(image: ClusterImage) -> tuple[int, tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    p = state(image)
    return p.leader, p.isr, p.elr, p.last_known_elr


def gone(broker: BrokerId) -> UnregisterBrokerRecord:
    return UnregisterBrokerRecord(broker)


def back(broker: BrokerId) -> RegisterBrokerRecord:
    return RegisterBrokerRecord(broker, "h", 9000 + broker, broker_epoch=1)


def back_uncleanly(image: ClusterImage, broker: BrokerId) -> ClusterImage:
    """What a broker writes when it rejoins after an unclean shutdown, then its registration."""
    image = replay(image, unclean_shutdown_changes(image, STATIC, broker))
    return settle(image, back(broker))


def last_replica_standing() -> ClusterImage:
    """B3, then B2, then the leader B1 die: ISR empty, ELR {B1, B2}, last known leader B1."""
    image = settle(cluster(), gone(B3))
    assert brief(image) == (B1, (B1, B2), (), ())  # ISR at min ISR: no ELR
    image = settle(image, gone(B2))
    assert brief(image) == (B1, (B1,), (B2,), ())  # below min ISR: B2 still has every committed record
    image = settle(image, gone(B1))
    assert brief(image) == (NO_LEADER, (), (B1, B2), (B1,))
    return image


def test_replicas_leaving_an_isr_below_min_isr_are_eligible_leaders() -> None:
    last_replica_standing()


def test_an_elr_member_is_elected_when_the_isr_is_empty_and_leaves_the_elr() -> None:
    image = settle(last_replica_standing(), back(B2))
    assert brief(image) == (B2, (B2,), (B1,), ())
    assert state(image).leader_epoch == 2


def test_a_replica_outside_isr_and_elr_is_not_elected() -> None:
    image = settle(last_replica_standing(), back(B3))
    assert brief(image) == (NO_LEADER, (), (B1, B2), (B1,))


def test_an_uncleanly_stopped_last_leader_leaves_the_elr_and_waits_for_the_clean_one() -> None:
    image = back_uncleanly(last_replica_standing(), B1)
    assert brief(image) == (NO_LEADER, (), (B2,), (B1,))  # B1 may have lost acknowledged records
    image = settle(image, back(B2))
    assert brief(image) == (B2, (B2,), (), ())


def test_the_last_known_leader_is_elected_uncleanly_only_when_no_elr_member_is_left() -> None:
    image = back_uncleanly(last_replica_standing(), B2)
    image = back_uncleanly(image, B1)
    p = state(image)
    # nobody is known to hold everything: the last leader leads alone, the ELR is cleared
    assert (p.leader, p.isr, p.elr, p.last_known_elr) == (B1, (B1,), (), ())


def test_a_follower_joining_the_isr_clears_the_elr_once_the_isr_reaches_min_isr() -> None:
    image = settle(cluster(), gone(B3), gone(B2))
    assert brief(image) == (B1, (B1,), (B2, B3), ())  # both went while the ISR was too small
    p = state(image)
    expand = partition_change(p, TID, 0, min_isr=2, acceptable=image.is_live, target_isr=(B1, B2))
    assert expand is not None and (expand.isr, expand.elr, expand.leader) == ((B1, B2), (), None)


def test_a_leaders_isr_shrink_at_min_isr_puts_the_follower_in_the_elr() -> None:
    image = cluster()
    p = state(image)
    shrink = partition_change(p, TID, 0, min_isr=2, acceptable=image.is_live, target_isr=(B1, B2))
    assert shrink is not None and (shrink.isr, shrink.elr) == ((B1, B2), None)  # 2 >= min ISR
    image = replay(image, [shrink])
    shrink = partition_change(state(image), TID, 0, min_isr=2, acceptable=image.is_live, target_isr=(B1,))
    assert shrink is not None and (shrink.isr, shrink.elr, shrink.leader) == ((B1,), (B2,), None)


def test_lowering_min_isr_clears_the_elr() -> None:
    image = settle(cluster(), gone(B3), gone(B2))
    assert state(image).elr == (B2, B3)
    image = settle(image, ConfigRecord(ConfigResourceType.TOPIC, "t", "min.insync.replicas", "1"))
    assert brief(image) == (B1, (B1,), (), ())


def test_with_min_isr_1_the_elr_forms_only_when_the_isr_empties() -> None:
    image = settle(cluster(min_isr="1"), gone(B3), gone(B2))
    assert brief(image) == (B1, (B1,), (), ())
    image = settle(image, gone(B1))
    assert brief(image) == (NO_LEADER, (), (B1,), (B1,))
    assert brief(settle(image, back(B2))) == (NO_LEADER, (), (B1,), (B1,))  # B2 lacks B1's writes
    assert brief(settle(image, back(B1))) == (B1, (B1,), (), ())


def test_a_single_replica_partition_comes_back_after_an_unclean_shutdown() -> None:
    image = settle(cluster((B1,), min_isr="1"), gone(B1))
    assert brief(image) == (NO_LEADER, (), (B1,), (B1,))
    image = back_uncleanly(image, B1)
    assert brief(image) == (B1, (B1,), (), ())  # its only copy: the last known leader leads again


def test_an_unclean_shutdown_of_a_live_isr_member_moves_its_leadership() -> None:
    image = cluster()
    image = replay(image, unclean_shutdown_changes(image, STATIC, B1))
    assert brief(image) == (B2, (B2, B3), (), ())


def test_unclean_election_clears_the_elr_and_takes_a_live_replica() -> None:
    image = back_uncleanly(last_replica_standing(), B1)
    image = settle(image, back(B3))
    result = elect_on_request(image, UNCLEAN, [("t", 0)], STATIC)
    assert result.response[("t", 0)].code is ErrorCode.NO_ERROR
    assert brief(replay(image, result.records)) == (B1, (B1,), (), ())
    unclean = settle(
        image, ConfigRecord(ConfigResourceType.TOPIC, "t", "unclean.leader.election.enable", "true")
    )
    assert brief(unclean) == (B1, (B1,), (), ())


def test_the_elr_is_stable_under_repeated_controller_passes() -> None:
    image = last_replica_standing()
    assert elect_leaders(image, STATIC).records == ()
    image = settle(image, back(B2))
    assert elect_leaders(image, STATIC).records == ()


def test_the_high_watermark_of_an_elr_elected_leader_waits_for_min_isr() -> None:
    """On a fake clock: the leader elected from the ELR alone cannot commit; a follower catching up
    and joining the ISR lets the high watermark move again."""
    replicas = ReplicaSet(B2, LeaderAndIsr(B2, 2, ALL, (B2,), elr=(B1,)), strict_min_isr=True)
    replicas.update(LeaderAndIsr(B2, 2, ALL, (B2,), elr=(B1,)), now_ms=1_000)
    replicas.record_fetch(B1, 100, leader_log_end=100, now_ms=1_010)
    assert replicas.high_watermark(80, leader_log_end=100, min_isr=2) == 80
    assert replicas.caught_up(80, epoch_start_offset=100) == (B1,)
    replicas.update(LeaderAndIsr(B2, 2, ALL, (B2, B1)), now_ms=1_020)
    replicas.record_fetch(B1, 100, leader_log_end=100, now_ms=1_030)
    assert replicas.high_watermark(80, leader_log_end=100, min_isr=2) == 100
    # and a follower silent for replica.lag.time.max.ms is proposed out of it again
    assert replicas.out_of_sync(now_ms=1_030 + 30_001, lag_max_ms=30_000) == (B1,)


def test_setting_min_isr_clears_the_elr_as_kafka_does() -> None:
    from odradek.metadata.controller.configs import (
        AlterableConfig,
        IncrementalAlterConfigsResource,
        incremental_alter_configs,
    )

    image = last_replica_standing()  # ELR (B1, B2), last known ELR (B1,)

    def set_min_isr(resource_type: int, name: str, value: str) -> ClusterImage:
        change = AlterableConfig("min.insync.replicas", 0, value)
        resource = IncrementalAlterConfigsResource(resource_type, name, (change,))
        return replay(
            image, incremental_alter_configs(image, STATIC, [resource], validate_only=False).records
        )

    assert brief(set_min_isr(ConfigResourceType.TOPIC, "t", "3")) == (NO_LEADER, (), (), ())
    assert brief(set_min_isr(ConfigResourceType.BROKER, "", "2")) == (NO_LEADER, (), (), ())  # every topic
    other = replay(image, [TopicRecord("u", uuid.UUID(int=12))])
    result = incremental_alter_configs(
        other,
        STATIC,
        [
            IncrementalAlterConfigsResource(
                ConfigResourceType.TOPIC, "u", (AlterableConfig("min.insync.replicas", 0, "3"),)
            )
        ],
        validate_only=False,
    )
    assert brief(replay(other, result.records)) == brief(image)  # another topic's: untouched


# -- eligible.leader.replicas.version (KIP-584 feature flag of KIP-966) ----------------------------


def with_elr_level(image: ClusterImage, level: int, upgrade_type: int = 2) -> ClusterImage:
    """The image after UpdateFeatures finalizes eligible.leader.replicas.version at `level`."""
    from odradek.metadata.controller.features import FeatureUpdate, update_features

    result = update_features(image, STATIC, [FeatureUpdate(ELR_VERSION, level, upgrade_type)])
    assert result.response.code is ErrorCode.NO_ERROR, result.response
    return replay(image, result.records)


ELR_VERSION = "eligible.leader.replicas.version"


def test_a_cluster_that_never_set_the_feature_keeps_elr_on() -> None:
    from odradek.metadata.features import elr_enabled, feature_level

    image = cluster()
    assert image.finalized_features == {} and feature_level(image, ELR_VERSION) == 1 and elr_enabled(image)


def test_with_elr_off_the_isr_never_empties_and_keeps_its_last_member() -> None:
    """Level 0: the rules before KIP-966 (ADR 0002) — no ELR, the dead leader stays in the ISR and is
    the one elected when it is back; a replica that left the ISR is not."""
    image = with_elr_level(cluster(), 0)
    image = settle(image, gone(B3))
    assert brief(image) == (B1, (B1, B2), (), ())
    image = settle(image, gone(B2))
    assert brief(image) == (B1, (B1,), (), ())  # below min ISR: no ELR
    image = settle(image, gone(B1))
    assert brief(image) == (NO_LEADER, (B1,), (), ())  # the ISR keeps its last member
    image = settle(image, back(B2))
    assert brief(image) == (NO_LEADER, (B1,), (), ())  # B2 is not in the ISR
    image = settle(image, back(B1))
    assert brief(image) == (B1, (B1,), (), ())
    assert unclean_shutdown_changes(image, STATIC, B1) == ()  # only KIP-966 takes it out of the ISR


def test_turning_elr_off_clears_elr_and_last_known_elr_and_hands_the_elr_back_to_the_isr() -> None:
    image = last_replica_standing()  # ISR empty, ELR (B1, B2), last known ELR (B1,)
    off = with_elr_level(image, 0)
    assert brief(off) == (NO_LEADER, (B1, B2), (), ())
    assert brief(settle(off, back(B2))) == (B2, (B2,), (), ())  # an ISR member is elected
    # the controller's own pass at level 0 does the same to a partition it finds with an ELR
    bare = replay(image, [FeatureLevelRecord(ELR_VERSION, 0)])
    assert brief(settle(bare)) == (NO_LEADER, (B1, B2), (), ())
    led = settle(cluster(), gone(B3), gone(B2))
    assert brief(led) == (B1, (B1,), (B2, B3), ())
    assert brief(with_elr_level(led, 0)) == (B1, (B1,), (), ())


def test_turning_elr_on_again_tracks_the_elr_from_then_on() -> None:
    image = with_elr_level(settle(with_elr_level(cluster(), 0), gone(B3), gone(B2)), 1, upgrade_type=1)
    assert brief(image) == (B1, (B1,), (), ())  # nothing is recomputed when it is turned on
    image = settle(image, gone(B1))
    assert brief(image) == (NO_LEADER, (), (B1,), (B1,))  # KIP-966 again: the ISR empties into the ELR
