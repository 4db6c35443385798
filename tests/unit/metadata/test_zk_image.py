"""`zk_image.image_after`: a change rebuilds only the parts of the image its paths belong to, shares
the rest with the last image, and equals a rebuild from every znode (the property test compares them
over random changes; these are the cases it may not draw)."""

from __future__ import annotations

import uuid

from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import (
    ControllerRecord,
    PartitionChangeRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    TopicRecord,
)
from odradek.metadata.zk_image import image_after
from odradek.metadata.zk_layout import CONTROLLER, Znode, image_of, state_path, topic_path, znodes_of
from odradek.model.ids import BrokerId

B1, B2, B3 = BrokerId(1), BrokerId(2), BrokerId(3)


def cluster(topics: int = 3) -> ClusterImage:
    records: list[object] = [RegisterBrokerRecord(b, "h", 9092 + b) for b in (B1, B2, B3)]
    records.append(ControllerRecord(B1, 4))
    for t in range(topics):
        topic_id = uuid.UUID(int=t + 1)
        records.append(TopicRecord(f"t{t}", topic_id))
        records += [PartitionRecord(topic_id, p, (B1, B2, B3), (B1, B2, B3), B1) for p in range(4)]
    return replay(ClusterImage.EMPTY, records)  # type: ignore[arg-type]


def changed(before: dict[str, Znode], after: dict[str, Znode]) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def test_an_isr_change_rebuilds_that_topic_and_shares_every_other_one() -> None:
    image = cluster()
    t1 = image.topics_by_name["t1"]
    after = replay(image, [PartitionChangeRecord(t1.topic_id, 2, isr=(B1, B2))])
    before_nodes, after_nodes = znodes_of(image), znodes_of(after)
    paths = changed(before_nodes, after_nodes)
    assert paths == {state_path("t1", 2)}
    new = image_after(image, after_nodes, paths)
    assert new == after == image_of({p: n.data for p, n in after_nodes.items()})
    assert new is not None
    assert new.topics_by_name["t0"] is image.topics_by_name["t0"]
    assert new.topics_by_name["t2"] is image.topics_by_name["t2"]
    assert new.brokers is image.brokers


def test_a_new_controller_of_the_same_epoch_keeps_the_epoch() -> None:
    image = cluster()
    nodes = dict(znodes_of(image))
    nodes[CONTROLLER] = Znode(b'{"brokerid":2,"version":2}', ephemeral=True)
    new = image_after(image, nodes, {CONTROLLER})
    assert new is not None
    assert (new.controller_id, new.controller_epoch) == (B2, 4)
    assert new == image_of({p: n.data for p, n in nodes.items()})


def test_two_topics_with_one_id_or_an_unknown_path_are_left_to_a_whole_rebuild() -> None:
    image = cluster()
    nodes = dict(znodes_of(image))
    nodes[topic_path("copy")] = nodes[topic_path("t0")]
    for p in range(4):
        nodes[state_path("copy", p)] = nodes[state_path("t0", p)]
    assert image_after(image, nodes, {topic_path("copy"), *(state_path("copy", p) for p in range(4))}) is None
    assert image_after(image, dict(znodes_of(image)), {"/somewhere/else"}) is None
