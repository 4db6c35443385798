"""The broker's metadata pipeline never waits for the consumer groups' regex resolution: that is a
write on every loaded coordinator shard, which waits for the shard's partition to commit, and in a
cluster the commit may need a later metadata change that this very pipeline delivers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection

from odradek.broker.metadata_publishing import GroupTopicsPublisher, MetadataPublishing
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import MetadataRecord, RemoveTopicRecord, TopicRecord
from odradek.metadata.store import MetadataChange


class StuckGroups:
    """A group coordinator whose shards cannot commit (their partition waits for followers)."""

    def __init__(self) -> None:
        self.committed = asyncio.Event()
        self.resolutions = 0
        self.deleted: list[Collection[str]] = []

    async def on_topics_changed(self, created: Collection[str], deleted: Collection[str]) -> None:
        self.resolutions += 1
        await self.committed.wait()

    async def on_topics_deleted(self, topics: Collection[str]) -> None:
        self.deleted.append(topics)
        await self.committed.wait()  # the tombstones wait for their commit


def changes(count: int) -> list[MetadataChange]:
    image, out = ClusterImage.EMPTY, []
    for version in range(1, count + 1):
        records: tuple[MetadataRecord, ...] = (TopicRecord(f"t{version}", uuid.uuid4()),)
        after = replay(image, records)
        out.append(MetadataChange(image, after, records, version))
        image = after
    return out


def test_a_created_topic_is_published_while_the_groups_wait_for_a_commit() -> None:
    groups = StuckGroups()
    publishing = MetadataPublishing([GroupTopicsPublisher(groups)])  # type: ignore[arg-type]

    async def main() -> None:
        await publishing.start()
        for change in changes(3):
            publishing.on_metadata_update(change)
        # CreateTopics waits exactly for this: its change through every publisher
        await asyncio.wait_for(publishing.published(3), 5)
        assert groups.resolutions == 1  # one pass under way; the later topics make one more after it
        groups.committed.set()
        for _ in range(100):
            if groups.resolutions == 2:
                break
            await asyncio.sleep(0.01)
        assert groups.resolutions == 2
        await publishing.stop()

    asyncio.run(main())


def test_stopping_ends_a_resolution_still_waiting() -> None:
    groups = StuckGroups()
    publisher = GroupTopicsPublisher(groups)  # type: ignore[arg-type]
    publishing = MetadataPublishing([publisher])

    async def main() -> None:
        await publishing.start()
        publishing.on_metadata_update(changes(1)[0])
        await asyncio.wait_for(publishing.published(1), 5)
        await asyncio.wait_for(publishing.stop(), 5)
        assert groups.resolutions == 1

    asyncio.run(main())


def test_a_deleted_topic_waits_for_its_offsets_tombstones_only_so_long() -> None:
    """Kafka bounds that write by offsets.commit.timeout.ms; past it the pipeline goes on."""
    groups = StuckGroups()
    publisher = GroupTopicsPublisher(groups, delete_wait_s=0.2)  # type: ignore[arg-type]
    publishing = MetadataPublishing([publisher])
    created = changes(1)[0]
    deleted = MetadataChange(created.after, created.before, (RemoveTopicRecord(_only_id(created)),), 2)

    async def main() -> None:
        await publishing.start()
        publishing.on_metadata_update(created)
        publishing.on_metadata_update(deleted)
        await asyncio.wait_for(publishing.published(2), 5)
        assert groups.deleted == [frozenset({"t1"})]
        groups.committed.set()  # the tombstones commit later, in the background
        await asyncio.sleep(0.05)
        await publishing.stop()

    asyncio.run(main())


def _only_id(change: MetadataChange) -> uuid.UUID:
    (topic_id,) = change.after.topics_by_id
    return topic_id
