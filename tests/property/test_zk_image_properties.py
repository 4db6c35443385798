"""The ZooKeeper store's incremental image (`metadata/zk_image.py`) over random changes: after every
change, the image rebuilt from the changed paths only equals the image rebuilt from every znode
(`zk_layout.image_of`), also when the reader has not (yet) read some znodes, or read one
that does not parse; and the znodes a writer lays out for the parts a change touched are the znodes
of the whole new image."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from test_metadata_properties import _apply, operations
from test_zk_layout_properties import EXTRA_KINDS, _extra, extras

from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import PartitionChangeRecord, RegisterBrokerRecord
from odradek.metadata.zk_image import image_after, znodes_after
from odradek.metadata.zk_layout import Znode, diff, image_of, znodes_of
from odradek.model.ids import BrokerId

partition_changes = st.tuples(st.just("isr"), st.integers(0, 2**32))
reads = st.tuples(st.just("miss"), st.integers(0, 2**32), st.integers(1, 3))
"""The reader misses (has not read yet) a few znodes, or reads garbage in one."""


def _isr_change(image: ClusterImage, seed: int) -> ClusterImage:
    rng = random.Random(seed)
    topics = sorted(image.topics_by_name.values(), key=lambda t: t.name)
    if not topics:
        return image
    topic = rng.choice(topics)
    index = rng.choice(sorted(topic.partitions))
    p = topic.partitions[index]
    isr = tuple(r for r in p.replicas if rng.random() < 0.7) or p.replicas[:1]
    leader = rng.choice(isr)
    return replay(image, [PartitionChangeRecord(topic.topic_id, index, leader=leader, isr=isr)])


def _changed_image(image: ClusterImage, op: tuple[object, ...], rng: random.Random) -> ClusterImage:
    if op[0] in EXTRA_KINDS:
        return _extra(image, op)
    if op[0] == "isr":
        return _isr_change(image, int(str(op[1])))
    return _apply(image, op, rng)


def _full(znodes: dict[str, Znode]) -> ClusterImage | Exception:
    try:
        return image_of({path: node.data for path, node in znodes.items()})
    except Exception as exc:
        return exc


def _changed(before: dict[str, Znode], after: dict[str, Znode]) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(operations, extras, partition_changes, reads), max_size=25), st.integers(0, 2**32))
def test_the_image_from_changed_paths_equals_the_image_from_every_znode(
    ops: list[tuple[object, ...]], seed: int
) -> None:
    rng = random.Random(seed)
    image = replay(ClusterImage.EMPTY, [RegisterBrokerRecord(BrokerId(b), "h", 9092) for b in (1, 2, 3)])
    read: dict[str, Znode] = {}
    published = ClusterImage.EMPTY
    seen = [image]
    for op in ops:
        truth = dict(znodes_of(image))
        if op[0] == "miss":
            # what the reader holds: the truth, less a few znodes, maybe one of them garbled
            pick = random.Random(int(str(op[1])))
            now = dict(truth)
            for path in pick.sample(sorted(now), min(int(str(op[2])), len(now))):
                if pick.random() < 0.2:
                    now[path] = Znode(b"{not json")
                else:
                    del now[path]
        else:
            image = _changed_image(image, op, rng)
            now = dict(znodes_of(image))
            before = seen[-1]
            laid_out, paths = znodes_after(before, znodes_of(before), image)
            assert laid_out == now
            assert _changed(znodes_of(before), now) <= paths
            older = seen[rng.randrange(len(seen))]  # any earlier image: what a store's cache may hold
            assert znodes_after(older, znodes_of(older), image)[0] == now
            seen.append(image)
        expected = _full(now)
        try:
            incremental: ClusterImage | Exception | None = image_after(published, now, _changed(read, now))
        except Exception as exc:
            incremental = exc
        if incremental is None:  # the store rebuilds the whole image then
            incremental = expected
        if isinstance(expected, Exception):
            assert isinstance(incremental, Exception), f"a whole rebuild raises {expected!r}"
            # the store keeps its last image and reads the whole tree again (a failed read)
            read, published = {}, ClusterImage.EMPTY
            continue
        assert incremental == expected
        if op[0] != "miss":
            assert incremental == image
        read, published = now, incremental


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(operations, extras, partition_changes), max_size=25),
    st.lists(st.integers(1, 5), min_size=1, max_size=25),
    st.integers(0, 2**32),
)
def test_catching_up_on_a_burst_from_the_change_lists_equals_the_image_from_every_znode(
    ops: list[tuple[object, ...]], bursts: list[int], seed: int
) -> None:
    """A store several changes behind reads the union of the paths the missed transactions listed
    (`zk_change_log`), not the znodes whose bytes differ: a path changed and changed back, created
    and deleted, is in the union too. The image made from that union equals the whole rebuild."""
    rng = random.Random(seed)
    image = replay(ClusterImage.EMPTY, [RegisterBrokerRecord(BrokerId(b), "h", 9092 + b) for b in (1, 2, 3)])
    published = image_of({p: n.data for p, n in znodes_of(image).items()})
    pending: set[str] = set()
    sizes = iter(bursts * 25)
    burst = next(sizes)
    for op in ops:
        before = image
        image = _changed_image(image, op, rng)
        change = diff(znodes_of(before), znodes_of(image))  # what the writer lists (`apply`)
        pending |= {p for p, _ in (*change.create, *change.update)} | set(change.delete)
        burst -= 1
        if burst == 0:  # the watch fires: catch up on every change since the last one
            now = znodes_of(image)
            caught_up = image_after(published, now, pending)
            assert (caught_up if caught_up is not None else _full(now)) == _full(now) == image
            published, pending, burst = caught_up or image, set(), next(sizes)
