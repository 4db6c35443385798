"""CPU per metadata change of a ZooKeeper store's image, at cluster sizes (no ZooKeeper needed).

A broker that hears another broker's change (an ISR change here) reads the changed znodes and makes
its new image. Before 2026-12-07 the store rebuilt the whole image from every znode and laid the
image out as znodes again (`zk_layout.image_of` + `znodes_of`) on each change: CPU in proportion to
the cluster. Now only the parts the changed paths belong to are rebuilt (`zk_image.image_after`).
Likewise the broker writing a change laid out its whole new image as znodes to find what to write;
now only the parts the change touched (`zk_image.znodes_after`).
Both are timed here on the same changes (process CPU, so a loaded machine moves the figures less
than wall time would), and the result is checked to be the same image.

`--burst N` (needs ZooKeeper installed: it starts one on a free port) times a store that missed N
changes (as between two watch events) catching up on a real ZooKeeper: before 2026-12-07 it read the
whole tree (what it still does after a reconnection, timed as "before"); now it reads the change log's
N entries and the znodes they name (ADR 0009). Rounds alternate the two; each figure is the median
of the process CPU, the wall time and the ZooKeeper requests of one catch-up.

    python bench/metadata_image_bench.py [--topics 200] [--partitions 10] [--changes 50] [--burst 5]
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from typing import Any

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
    parser.add_argument("--burst", type=int, default=0, help="changes missed per catch-up (ZooKeeper)")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    if args.burst:
        burst(args.topics, args.partitions, args.burst, args.rounds)
        return
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


def burst(topics: int, partitions: int, missed: int, rounds: int) -> None:
    """A writer makes `missed` ISR changes while a follower cannot read, then the follower catches
    up: from the change log (now) or by reading the whole tree (before), alternately."""
    import statistics
    import tempfile
    from pathlib import Path

    from odradek.cluster.zookeeper import ZooKeeperServer

    with tempfile.TemporaryDirectory() as tmp:
        server = ZooKeeperServer(Path(tmp))
        server.start()
        try:
            connect = f"{server.connect}/bench"
            writer = ZooKeeperMetadataStore.open(connect, session_timeout_ms=30_000)
            follower = ZooKeeperMetadataStore.open(connect, session_timeout_ms=30_000)
            try:
                start = cluster(topics, partitions)
                for record_batch in batches(start):
                    writer.apply(record_batch)
                time.sleep(1.0)
                with follower._lock:
                    follower._refresh()
                    assert follower.image == writer.image
                    print(
                        f"{topics} topics x {partitions} partitions = {len(follower._read)} znodes read, "
                        f"{missed} changes missed per catch-up, load {loadavg()}"
                    )
                figures: dict[str, list[tuple[float, float, int]]] = {"before": [], "now": []}
                rng = random.Random(7)
                for n in range(rounds * 2):
                    mode = ("now", "before")[n % 2]
                    with follower._lock:  # as between two watch events: the follower cannot read
                        for _ in range(missed):
                            writer.apply(isr_change(writer.image, rng))
                        requests = count_requests(follower)
                        if mode == "before":
                            follower._read_all = True  # what skipped versions did before
                        cpu, wall = time.process_time(), time.perf_counter()
                        follower._catch_up()
                        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                        assert follower.image == writer.image
                        figures[mode].append((cpu * 1000, wall * 1000, len(requests)))
                        uncount_requests(follower)
                for mode in ("before", "now"):
                    cpu_ms = statistics.median(f[0] for f in figures[mode])
                    wall_ms = statistics.median(f[1] for f in figures[mode])
                    reads = statistics.median(f[2] for f in figures[mode])
                    print(
                        f"{mode:>6}: {cpu_ms:8.1f} ms CPU, {wall_ms:8.1f} ms wall, {reads:6.0f} ZooKeeper "
                        "reads per catch-up"
                    )
                print(f"load after: {loadavg()}")
            finally:
                writer.close()
                follower.close()
        finally:
            server.stop()


def batches(image: ClusterImage) -> list[list[MetadataRecord]]:
    """The image's records, a topic per batch (as CreateTopics writes them)."""
    records = list(image.to_records())
    out: list[list[MetadataRecord]] = [[]]
    for record in records:
        if isinstance(record, TopicRecord) and out[-1]:
            out.append([])
        out[-1].append(record)
    return out


def isr_change(image: ClusterImage, rng: random.Random) -> list[MetadataRecord]:
    topic = image.topics_by_name[rng.choice(sorted(image.topics_by_name))]
    index = rng.randrange(len(topic.partitions))
    p = topic.partitions[index]
    isr = p.isr[:2] if len(p.isr) == 3 else p.replicas
    return [PartitionChangeRecord(topic.topic_id, index, isr=isr)]


READS = ("get_async", "get_children_async", "exists_async")


def count_requests(store: ZooKeeperMetadataStore) -> list[str]:
    """The read requests the store sends from now on (until `uncount_requests`)."""
    paths: list[str] = []
    client = store._client
    for name in READS:
        real = getattr(client, name)

        def counted(path: str, *args: object, _real: Any = real, **kwargs: object) -> object:
            paths.append(path)
            return _real(path, *args, **kwargs)

        setattr(client, name, counted)
    return paths


def uncount_requests(store: ZooKeeperMetadataStore) -> None:
    for name in READS:
        delattr(store._client, name)


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Counting:
    def __init__(self, heard: list[int]) -> None:
        self.heard = heard

    def on_metadata_update(self, change: MetadataChange) -> None:
        self.heard.append(change.version)


if __name__ == "__main__":
    main()
