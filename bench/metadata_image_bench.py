"""CPU per metadata change of a ZooKeeper store's image, at cluster sizes (no ZooKeeper needed).

A broker that hears another broker's change (an ISR change here) reads the changed znodes and makes
its new image. Before 2026-12-07 the store rebuilt the whole image from every znode and laid the
image out as znodes again (`zk_layout.image_of` + `znodes_of`) on each change: CPU in proportion to
the cluster. Now only the parts the changed paths belong to are rebuilt (`zk_image.image_after`).
Likewise the broker writing a change laid out its whole new image as znodes to find what to write;
now only the parts the change touched (`zk_image.znodes_after`).
Both are timed here on the same changes (process CPU, so a loaded machine moves the figures less
than wall time would), and the result is checked to be the same image.

    python bench/metadata_image_bench.py [--topics 200] [--partitions 10] [--changes 50]
"""

from __future__ import annotations

import argparse
import random
import time
import uuid

from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import (
    MetadataRecord,
    PartitionChangeRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    TopicRecord,
)
from odradek.metadata.store import MetadataChange
from odradek.metadata.zk_image import znodes_after
from odradek.metadata.zk_layout import Znode, diff, image_of, znodes_of
from odradek.metadata.zk_store import ZooKeeperMetadataStore
from odradek.model.ids import BrokerId


def cluster(topics: int, partitions: int) -> ClusterImage:
    brokers = (BrokerId(1), BrokerId(2), BrokerId(3))
    records: list[MetadataRecord] = [RegisterBrokerRecord(b, "h", 9092 + b) for b in brokers]
    for t in range(topics):
        topic_id = uuid.UUID(int=t + 1)
        records.append(TopicRecord(f"topic-{t}", topic_id))
        for p in range(partitions):
            replicas = tuple(brokers[(p + i) % 3] for i in range(3))
            records.append(PartitionRecord(topic_id, p, replicas, replicas, replicas[0]))
    return replay(ClusterImage.EMPTY, records)


def isr_changes(image: ClusterImage, count: int, seed: int = 1) -> list[ClusterImage]:
    """`count` images, each one ISR change after the one before."""
    rng = random.Random(seed)
    names = sorted(image.topics_by_name)
    out = []
    for _ in range(count):
        topic = image.topics_by_name[rng.choice(names)]
        index = rng.randrange(len(topic.partitions))
        p = topic.partitions[index]
        isr = p.isr[:2] if len(p.isr) == 3 else p.replicas
        image = replay(image, [PartitionChangeRecord(topic.topic_id, index, isr=isr)])
        out.append(image)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=200)
    parser.add_argument("--partitions", type=int, default=10)
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    start = cluster(args.topics, args.partitions)
    images = isr_changes(start, args.changes)
    # what the follower has read after each change, and the paths each change wrote
    steps: list[tuple[dict[str, Znode], list[str]]] = []
    nodes = dict(znodes_of(start))
    before = start
    for image in images:
        change = diff(znodes_of(before), znodes_of(image))
        nodes = dict(nodes)
        nodes.update(change.create)
        nodes.update(change.update)
        for path in change.delete:
            del nodes[path]
        steps.append((nodes, [*(p for p, _ in (*change.create, *change.update)), *change.delete]))
        before = image
    print(
        f"{args.topics} topics x {args.partitions} partitions = {len(nodes)} znodes, "
        f"{args.changes} ISR changes"
    )

    whole_ms = per_change(start, steps, whole=True)
    part_ms = per_change(start, steps, whole=False)
    compared_ms = per_change(start, steps, whole=False, compare=True)
    print(f"whole rebuild (before): {whole_ms:8.2f} ms CPU per change")
    print(f"changed parts (now):    {part_ms:8.3f} ms CPU per change  ({whole_ms / part_ms:.0f}x)")
    print(f"after a whole-tree read (changed parts found by comparing bytes): {compared_ms:.2f} ms")
    whole_ms, part_ms = writing(start, images, whole=True), writing(start, images, whole=False)
    print("the writing store's layout of each change as znodes, and the difference it writes:")
    print(f"whole layout (before):  {whole_ms:8.2f} ms CPU per change")
    print(f"changed parts (now):    {part_ms:8.3f} ms CPU per change  ({whole_ms / part_ms:.0f}x)")


def writing(start: ClusterImage, images: list[ClusterImage], *, whole: bool) -> float:
    """What `apply` does before its ZooKeeper transaction: lay the new image out, diff it."""
    nodes, before = znodes_of(start), start
    written = []
    spent = time.process_time()
    for after in images:
        if whole:
            wanted = znodes_of(after)
            change = diff(nodes, wanted)
        else:
            wanted, paths = znodes_after(before, nodes, after)
            change = diff(
                {p: nodes[p] for p in paths if p in nodes}, {p: wanted[p] for p in paths if p in wanted}
            )
        written.append(change)
        nodes, before = wanted, after
    ms = (time.process_time() - spent) * 1000 / len(images)
    assert nodes == znodes_of(images[-1]) and all(len(c.update) == 1 for c in written)
    return ms


def per_change(
    start: ClusterImage,
    steps: list[tuple[dict[str, Znode], list[str]]],
    *,
    whole: bool,
    compare: bool = False,
) -> float:
    """The store's own publishing of each change (`_publish_read`: make the image, the records
    between the last image and it, publish), on a store without a ZooKeeper behind it."""
    store = ZooKeeperMetadataStore(None, "bench")
    store._read = dict(znodes_of(start))
    store._publish_read()
    heard: list[int] = []
    store.subscribe(Counting(heard))
    spent = time.process_time()
    for read, paths in steps:
        if compare:  # what `_read_snapshot` does after reading the whole tree
            before = store._read
            store._touched = {p for p in before.keys() | read.keys() if before.get(p) != read.get(p)}
        else:
            store._touched = None if whole else set(paths)
        store._read = read
        store._publish_read()
        if whole:
            znodes_of(store.image)  # (the store laid every image out again for `apply`)
    ms = (time.process_time() - spent) * 1000 / len(steps)
    assert len(heard) == len(steps) + 1
    assert store.image == image_of({p: n.data for p, n in steps[-1][0].items()})
    return ms


class Counting:
    def __init__(self, heard: list[int]) -> None:
        self.heard = heard

    def on_metadata_update(self, change: MetadataChange) -> None:
        self.heard.append(change.version)


if __name__ == "__main__":
    main()
