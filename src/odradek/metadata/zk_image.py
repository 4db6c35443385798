"""The ZooKeeper layout made part by part (pure; ADR 0006): `image_after(image, znodes, paths)`, the
image of the znodes after a change to `paths`, built from the image of the znodes before it by
rebuilding only what those paths belong to; and `znodes_after(before, znodes, after)`, the znodes of
an image laid out from those of an earlier one, again only where the two differ.

A ZooKeeper store reads only the znodes a change names (`/odradek/changes`); rebuilding the whole
image from every znode after each change (`zk_layout.image_of`) would still cost CPU in proportion to
the cluster (about 8 ms at 370 znodes, every broker, every change). Here each changed path names a
part of the image (a topic, a broker registration, a config resource, the controller, the cluster
id, the producer id block, the security records, the features); those parts are rebuilt with `image_of` from
their own znodes alone, and put in place of the old parts. Everything else is the old image's
objects, shared. The result is equal to `image_of(znodes)`
(`tests/property/test_zk_layout_properties.py` compares them over random changes); when it could
not be (a path this module does not know, two topics with one topic id), `image_after` returns
None and the caller rebuilds the whole image, which raises what a whole rebuild raises.

`znodes_after` is what a store writing a change compares with (`apply`): the image after a change
shares every part the change left alone with the image before it (`MetadataDelta` copies only what
records touch), so only parts that are not the same objects are laid out again. A change of the
controller epoch lays out everything (every partition state carries it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TypeVar

from odradek.metadata.image import ClusterImage, frozen_map
from odradek.metadata.zk_layout import (
    BROKER_CONFIGS,
    BROKER_IDS,
    CHANGES,
    CLUSTER_ID,
    CONTROLLER,
    CONTROLLER_EPOCH,
    DEFAULT_BROKER_RESOURCE,
    FEATURE,
    PARENTS,
    PRODUCER_IDS,
    SECURITY,
    TOPIC_CONFIGS,
    TOPICS,
    Znode,
    broker_config_path,
    broker_path,
    broker_znode,
    config_znode,
    image_of,
    singleton_znodes,
    state_path,
    topic_path,
    topic_znodes,
    znodes_of,
)
from odradek.model.ids import BrokerId

K = TypeVar("K")
V = TypeVar("V")

_SINGLETONS = (CLUSTER_ID, CONTROLLER, CONTROLLER_EPOCH, PRODUCER_IDS, SECURITY, FEATURE)
_IGNORED = frozenset((*PARENTS, CHANGES, "/cluster", "/odradek"))


class _Parts:
    """What a set of changed paths belongs to."""

    def __init__(self) -> None:
        self.singletons: set[str] = set()
        self.brokers: set[str] = set()
        self.broker_configs: set[str] = set()
        self.topic_configs: set[str] = set()
        self.topics: set[str] = set()

    def add(self, path: str) -> bool:
        """False for a path that belongs to no known part."""
        if path in _IGNORED:
            return True
        if path in _SINGLETONS:
            self.singletons.add(path)
            return True
        parent, _, child = path.rpartition("/")
        if parent == BROKER_IDS:
            self.brokers.add(child)
        elif parent == BROKER_CONFIGS:
            self.broker_configs.add(child)
        elif parent == TOPIC_CONFIGS:
            self.topic_configs.add(child)
        elif path.startswith(TOPICS + "/"):
            self.topics.add(path[len(TOPICS) + 1 :].split("/", 1)[0])
        else:
            return False
        return True


def image_after(
    image: ClusterImage, znodes: Mapping[str, Znode], paths: Iterable[str]
) -> ClusterImage | None:
    """`image_of(znodes)`, given `image == image_of(the znodes before)` and every path created,
    changed or deleted since in `paths`; None when it cannot be told from those parts alone."""
    parts = _Parts()
    if not all(parts.add(path) for path in paths):
        return None
    wanted: dict[str, bytes] = {}

    def take(path: str) -> None:
        node = znodes.get(path)
        if node is not None:
            wanted[path] = node.data

    if parts.singletons & {CONTROLLER, CONTROLLER_EPOCH}:
        parts.singletons |= {CONTROLLER, CONTROLLER_EPOCH}
    for path in parts.singletons:
        take(path)
    for child in parts.brokers:
        take(f"{BROKER_IDS}/{child}")
    for child in parts.broker_configs:
        take(f"{BROKER_CONFIGS}/{child}")
    for name in parts.topic_configs:
        take(f"{TOPIC_CONFIGS}/{name}")
    for name in parts.topics:
        take(topic_path(name))
        partitions = _partition_keys(znodes.get(topic_path(name)))
        if partitions is None:
            return None
        for key in partitions:
            take(state_path(name, int(key)))
    part = image_of(wanted)  # raises what a whole rebuild raises on a bad znode
    changes: dict[str, object] = {}
    if CLUSTER_ID in parts.singletons:
        changes["cluster_id"] = part.cluster_id
    if CONTROLLER in parts.singletons:
        changes["controller_id"] = part.controller_id
        changes["controller_epoch"] = part.controller_epoch
    if PRODUCER_IDS in parts.singletons:
        changes["next_producer_id"] = part.next_producer_id
    if SECURITY in parts.singletons:
        changes["security"] = part.security
    if FEATURE in parts.singletons:
        changes["finalized_features"] = part.finalized_features
    if parts.brokers:
        keys = [BrokerId(int(c)) for c in parts.brokers if c.lstrip("-").isdigit()]
        if len(keys) != len(parts.brokers):
            return None
        changes["brokers"] = _patched(image.brokers, part.brokers, keys)
    if parts.broker_configs:
        resources = ["" if c == DEFAULT_BROKER_RESOURCE else c for c in parts.broker_configs]
        changes["broker_configs"] = _patched(image.broker_configs, part.broker_configs, resources)
    if parts.topic_configs:
        changes["topic_configs"] = _patched(image.topic_configs, part.topic_configs, parts.topic_configs)
    if parts.topics:
        by_name = dict(image.topics_by_name)
        by_id = dict(image.topics_by_id)
        for name in parts.topics:
            old = by_name.pop(name, None)
            if old is not None:
                del by_id[old.topic_id]
        for name in parts.topics:
            new = part.topics_by_name.get(name)
            if new is None:
                continue
            if new.topic_id in by_id:  # two topics with one id: a whole rebuild says what is wrong
                return None
            by_name[name] = by_id[new.topic_id] = new
        changes["topics_by_name"] = frozen_map(by_name)
        changes["topics_by_id"] = frozen_map(by_id)
    return replace(image, **changes) if changes else image  # type: ignore[arg-type]


def _patched(old: Mapping[K, V], new: Mapping[K, V], keys: Iterable[K]) -> Mapping[K, V]:
    """`old` with `keys` taken from `new` (or dropped where `new` has none)."""
    merged = dict(old)
    for key in keys:
        value = new.get(key)
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return MappingProxyType(merged)


def _partition_keys(node: Znode | None) -> list[str] | None:
    """The partition numbers a topic znode assigns ([] when the znode is missing or empty); None when
    it cannot be read (the whole rebuild then says why)."""
    if node is None or not node.data:
        return []
    try:
        value = json.loads(node.data)
        keys = [str(k) for k in value["partitions"]]
    except (ValueError, KeyError, TypeError):
        return None
    return keys if all(k.isdigit() for k in keys) else None


def znodes_after(
    before: ClusterImage, znodes: Mapping[str, Znode], after: ClusterImage
) -> tuple[dict[str, Znode], set[str]]:
    """(`znodes_of(after)`, the paths where it may differ from `znodes`), given
    `znodes == znodes_of(before)`."""
    if after.controller_epoch != before.controller_epoch:  # every partition state carries it
        nodes = znodes_of(after)
        return nodes, znodes.keys() | nodes.keys()
    out = dict(znodes)
    paths: set[str] = set()

    def put(old: Iterable[str], new: Mapping[str, Znode]) -> None:
        for path in old:
            out.pop(path, None)
            paths.add(path)
        out.update(new)
        paths.update(new)

    put([p for p in _SINGLETONS if p in znodes], singleton_znodes(after))
    if after.brokers is not before.brokers:
        for broker_id in before.brokers.keys() | after.brokers.keys():
            new = after.brokers.get(broker_id)
            if new is not before.brokers.get(broker_id):
                path = broker_path(broker_id)
                put([path], {} if new is None else {path: broker_znode(new)})
    for path_of, old_configs, new_configs in (
        (broker_config_path, before.broker_configs, after.broker_configs),
        (lambda name: f"{TOPIC_CONFIGS}/{name}", before.topic_configs, after.topic_configs),
    ):
        if new_configs is not old_configs:
            for name in old_configs.keys() | new_configs.keys():
                configs = new_configs.get(name)
                if configs != old_configs.get(name):
                    path = path_of(name)
                    put([path], {} if configs is None else {path: config_znode(configs)})
    if after.topics_by_name is not before.topics_by_name:
        epoch = after.controller_epoch
        for name in before.topics_by_name.keys() | after.topics_by_name.keys():
            old, new_topic = before.topics_by_name.get(name), after.topics_by_name.get(name)
            if new_topic is not old:
                put(
                    () if old is None else topic_znodes(old, epoch),
                    {} if new_topic is None else topic_znodes(new_topic, epoch),
                )
    return out, paths
