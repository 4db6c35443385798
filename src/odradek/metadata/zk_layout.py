"""How a cluster image is laid out in ZooKeeper znodes, both ways (pure; ADR 0006).

`znodes_of(image)` gives every znode the image needs, path → `Znode(data, ephemeral)`;
`image_of(znodes)` rebuilds the image from what was read back, and `image_of(znodes_of(i)) == i`.
The layout follows Kafka's ZooKeeper mode where Kafka had a place for the data (so an operator who
knows `zookeeper-shell` finds their way), with JSON of the same shape plus the fields KRaft added
(partition epoch, ELR):

```
/cluster/id                                      {"version":"1","id":...}
/controller                     (ephemeral)      {"version":2,"brokerid":N}
/controller_epoch                                "N"
/brokers/ids/<id>               (ephemeral)      {"version":5,"host","port","endpoints":[...],"rack",...}
/brokers/topics/<topic>                          {"version":3,"topic_id",...,"partitions":{"0":[1,2,3]}}
/brokers/topics/<topic>/partitions/<p>/state     {"leader","leader_epoch","isr","leader_recovery_state",...}
/config/topics/<topic>                           {"version":1,"config":{...}}
/config/brokers/<id>|<default>                   {"version":1,"config":{...}}
/latest_producer_id_block                        {"version":1,"broker":-1,"block_start","block_end"}
/feature                                         {"version":1,"status":1,"features":{name:{levels}}}
/odradek/security                                {"version":1,"records":[...]}  (ACLs, SCRAM, quotas)
/odradek/changes                                 {"version":1,"paths":[...]}  (set by every change)
/odradek/change_log/change_<N>  (sequential)     the same list, one per change (`zk_change_log`)
```

Every transaction also sets `/odradek/changes` to the paths it wrote (`change_list`), so one watch
hears every change and a reader one version behind reads only those znodes (`changed_paths`); a list
too long for one znode is written empty, which tells readers to read the whole tree.

A topic whose partitions are not all readable (a reader between two of a change's reads) is left
out until it is whole. Data carry no timestamps, so the same image always gives the same bytes and
a change writes only the znodes whose bytes differ (`diff`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.delta import replay
from odradek.metadata.image import BrokerRegistration, ClusterImage, TopicImage
from odradek.metadata.records import (
    NO_LEADER,
    ClusterIdRecord,
    ConfigRecord,
    ControllerRecord,
    FeatureLevelRecord,
    MetadataRecord,
    PartitionRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    TopicRecord,
    record_from_json,
    record_to_json,
)
from odradek.model.ids import BrokerId, Epoch
from odradek.model.leader_recovery import LeaderRecoveryState

CLUSTER_ID = "/cluster/id"
CONTROLLER = "/controller"
CONTROLLER_EPOCH = "/controller_epoch"
BROKER_IDS = "/brokers/ids"
TOPICS = "/brokers/topics"
TOPIC_CONFIGS = "/config/topics"
BROKER_CONFIGS = "/config/brokers"
PRODUCER_IDS = "/latest_producer_id_block"
FEATURE = "/feature"
SECURITY = "/odradek/security"
CHANGES = "/odradek/changes"
CHANGE_LOG = "/odradek/change_log"
DEFAULT_BROKER_RESOURCE = "<default>"

CHANGE_LIST_MAX_BYTES = 64 << 10
"""A change list longer than this is written empty (readers then read the whole tree)."""

PARENTS = (
    "/cluster",
    "/brokers",
    BROKER_IDS,
    TOPICS,
    "/config",
    TOPIC_CONFIGS,
    BROKER_CONFIGS,
    "/odradek",
    CHANGE_LOG,
)
"""Persistent parents every store creates when it opens (never part of a change; a tree written
before the change log existed gets its parent from the first store of this version that opens)."""


@dataclass(frozen=True, slots=True)
class Znode:
    data: bytes
    ephemeral: bool = False


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def broker_path(broker_id: int) -> str:
    return f"{BROKER_IDS}/{broker_id}"


def topic_path(name: str) -> str:
    return f"{TOPICS}/{name}"


def state_path(name: str, partition: int) -> str:
    return f"{TOPICS}/{name}/partitions/{partition}/state"


def znodes_of(image: ClusterImage) -> dict[str, Znode]:
    nodes = singleton_znodes(image)
    for broker in image.brokers.values():
        nodes[broker_path(broker.broker_id)] = broker_znode(broker)
    for resource, configs in image.broker_configs.items():
        nodes[broker_config_path(resource)] = config_znode(configs)
    for name, configs in image.topic_configs.items():
        nodes[f"{TOPIC_CONFIGS}/{name}"] = config_znode(configs)
    for topic in image.topics_by_name.values():
        nodes.update(topic_znodes(topic, image.controller_epoch))
    return nodes


def singleton_znodes(image: ClusterImage) -> dict[str, Znode]:
    """The cluster id, the controller and its epoch, the producer id block, the security records,
    the finalized features (Kafka's `/feature` znode of KIP-584, with a feature's level as both
    its min and max level)."""
    nodes: dict[str, Znode] = {}
    if image.cluster_id is not None:
        nodes[CLUSTER_ID] = Znode(_json({"version": "1", "id": image.cluster_id}))
    if image.controller_id != NO_LEADER:
        nodes[CONTROLLER] = Znode(_json({"version": 2, "brokerid": image.controller_id}), ephemeral=True)
    if image.controller_id != NO_LEADER or image.controller_epoch:
        nodes[CONTROLLER_EPOCH] = Znode(str(image.controller_epoch).encode())
    if image.next_producer_id:
        nodes[PRODUCER_IDS] = Znode(
            _json({"version": 1, "broker": -1, "block_start": 0, "block_end": image.next_producer_id - 1})
        )
    security = image.security.to_records()
    if security:
        nodes[SECURITY] = Znode(_json({"version": 1, "records": [record_to_json(r) for r in security]}))
    if image.finalized_features:
        features = {
            name: {"min_version_level": level, "max_version_level": level}
            for name, level in image.finalized_features.items()
        }
        nodes[FEATURE] = Znode(_json({"version": 1, "status": 1, "features": features}))
    return nodes


def broker_config_path(resource: str) -> str:
    return f"{BROKER_CONFIGS}/{resource or DEFAULT_BROKER_RESOURCE}"


def broker_znode(broker: BrokerRegistration) -> Znode:
    return Znode(
        _json(
            {
                "version": 5,
                "host": broker.host,
                "port": broker.port,
                "endpoints": list(broker.endpoints),
                "rack": broker.rack,
                "jmx_port": -1,
                "fenced": broker.fenced,
                "broker_epoch": broker.broker_epoch,
            }
        ),
        ephemeral=True,
    )


def config_znode(configs: Mapping[str, str]) -> Znode:
    return Znode(_json({"version": 1, "config": dict(configs)}))


def topic_znodes(topic: TopicImage, controller_epoch: int) -> dict[str, Znode]:
    """A topic's znodes: its assignment, the partitions' parents and each partition's state."""
    assignment = {str(p): list(r.replicas) for p, r in topic.partitions.items()}
    nodes = {
        topic_path(topic.name): Znode(
            _json(
                {
                    "version": 3,
                    "topic_id": str(topic.topic_id),
                    "partitions": assignment,
                    "adding_replicas": {
                        str(p): list(r.adding_replicas)
                        for p, r in topic.partitions.items()
                        if r.adding_replicas
                    },
                    "removing_replicas": {
                        str(p): list(r.removing_replicas)
                        for p, r in topic.partitions.items()
                        if r.removing_replicas
                    },
                }
            )
        ),
        f"{TOPICS}/{topic.name}/partitions": Znode(b""),
    }
    for index, p in topic.partitions.items():
        nodes[f"{TOPICS}/{topic.name}/partitions/{index}"] = Znode(b"")
        nodes[state_path(topic.name, index)] = Znode(
            _json(
                {
                    "version": 1,
                    "controller_epoch": controller_epoch,
                    "leader": p.leader,
                    "leader_epoch": p.leader_epoch,
                    "isr": list(p.isr),
                    "partition_epoch": p.partition_epoch,
                    "elr": list(p.elr),
                    "last_known_elr": list(p.last_known_elr),
                    "leader_recovery_state": int(p.leader_recovery_state),
                }
            )
        )
    return nodes


def change_list(paths: Iterable[str]) -> bytes:
    """What a transaction writes into `/odradek/changes`: the paths it created, updated or deleted."""
    data = _json({"version": 1, "paths": sorted(set(paths))})
    return data if len(data) <= CHANGE_LIST_MAX_BYTES else b""


def changed_paths(data: bytes | None) -> list[str] | None:
    """The paths a change list names; None when it names none we can trust (empty: too long, or
    written by a store that did not list its paths) — then only a read of the whole tree is safe."""
    try:
        value = json.loads(data or b"")
    except ValueError:
        return None
    paths = value.get("paths") if isinstance(value, dict) else None
    if not isinstance(paths, list) or not all(isinstance(p, str) and p.startswith("/") for p in paths):
        return None
    return paths


def _load(data: bytes) -> Any:
    return json.loads(data.decode()) if data else None


def image_of(znodes: Mapping[str, bytes]) -> ClusterImage:
    """The image the znodes describe (records in `ClusterImage.to_records` order, replayed)."""
    records: list[MetadataRecord] = []
    if CLUSTER_ID in znodes:
        records.append(ClusterIdRecord(str(_load(znodes[CLUSTER_ID])["id"])))
    if CONTROLLER in znodes or CONTROLLER_EPOCH in znodes:
        controller = _load(znodes[CONTROLLER])["brokerid"] if CONTROLLER in znodes else NO_LEADER
        epoch = int(znodes[CONTROLLER_EPOCH].decode() or 0) if CONTROLLER_EPOCH in znodes else 0
        records.append(ControllerRecord(BrokerId(int(controller)), epoch))
    children: dict[str, list[str]] = {}
    for path in znodes:
        parent, _, child = path.rpartition("/")
        children.setdefault(parent, []).append(child)
    for child in sorted(children.get(BROKER_IDS, ()), key=_numeric):
        b = _load(znodes[f"{BROKER_IDS}/{child}"])
        records.append(
            RegisterBrokerRecord(
                BrokerId(int(child)),
                str(b["host"]),
                int(b["port"]),
                b.get("rack"),
                bool(b.get("fenced", False)),
                int(b.get("broker_epoch", 0)),
                tuple(str(e) for e in b.get("endpoints", ())),
            )
        )
    for child in sorted(children.get(BROKER_CONFIGS, ())):
        resource = "" if child == DEFAULT_BROKER_RESOURCE else child
        for key, value in sorted(_load(znodes[f"{BROKER_CONFIGS}/{child}"])["config"].items()):
            records.append(ConfigRecord(ConfigResourceType.BROKER, resource, key, str(value)))
    topic_configs = {
        child: _load(znodes[f"{TOPIC_CONFIGS}/{child}"])["config"]
        for child in children.get(TOPIC_CONFIGS, ())
    }
    for name in sorted(children.get(TOPICS, ())):
        topic = _topic_records(znodes, name, topic_configs.get(name, {}))
        if topic is not None:
            records.extend(topic)
            topic_configs.pop(name, None)
    for name, configs in sorted(topic_configs.items()):  # overrides of topics that do not exist
        for key, value in sorted(configs.items()):
            records.append(ConfigRecord(ConfigResourceType.TOPIC, name, key, str(value)))
    if PRODUCER_IDS in znodes:
        block = _load(znodes[PRODUCER_IDS])
        records.append(ProducerIdsRecord(NO_LEADER, int(block["block_end"]) + 1))
    if SECURITY in znodes:
        records.extend(record_from_json(r) for r in _load(znodes[SECURITY])["records"])
    if FEATURE in znodes:
        for name, levels in sorted(_load(znodes[FEATURE])["features"].items()):
            records.append(FeatureLevelRecord(str(name), int(levels["max_version_level"])))
    return replay(ClusterImage.EMPTY, records)


def _topic_records(
    znodes: Mapping[str, bytes], name: str, configs: Mapping[str, str]
) -> list[MetadataRecord] | None:
    """A topic's records, or None while a part of it is missing."""
    data = _load(znodes[topic_path(name)])
    if data is None:
        return None
    topic_id = uuid.UUID(str(data["topic_id"]))
    records: list[MetadataRecord] = [TopicRecord(name, topic_id)]
    records += [ConfigRecord(ConfigResourceType.TOPIC, name, k, str(v)) for k, v in sorted(configs.items())]
    adding, removing = data.get("adding_replicas") or {}, data.get("removing_replicas") or {}
    for key, replicas in sorted(data["partitions"].items(), key=lambda kv: int(kv[0])):
        raw = znodes.get(state_path(name, int(key)))
        if raw is None:
            return None
        s = _load(raw)
        records.append(
            PartitionRecord(
                topic_id,
                int(key),
                tuple(BrokerId(int(r)) for r in replicas),
                tuple(BrokerId(int(r)) for r in s["isr"]),
                BrokerId(int(s["leader"])),
                Epoch(int(s["leader_epoch"])),
                int(s.get("partition_epoch", 0)),
                tuple(BrokerId(int(r)) for r in s.get("elr", ())),
                tuple(BrokerId(int(r)) for r in s.get("last_known_elr", ())),
                tuple(BrokerId(int(r)) for r in adding.get(key, ())),
                tuple(BrokerId(int(r)) for r in removing.get(key, ())),
                LeaderRecoveryState(int(s.get("leader_recovery_state", 0))),
            )
        )
    return records


def _numeric(child: str) -> tuple[int, str]:
    return (int(child), child) if child.lstrip("-").isdigit() else (1 << 62, child)


@dataclass(frozen=True, slots=True)
class ZnodeDiff:
    """What a change writes: creations parents first, updates, deletions children first."""

    create: tuple[tuple[str, Znode], ...]
    update: tuple[tuple[str, Znode], ...]
    delete: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def diff(before: Mapping[str, Znode], after: Mapping[str, Znode]) -> ZnodeDiff:
    create = tuple((p, after[p]) for p in sorted(after.keys() - before.keys(), key=_depth))
    update = tuple((p, after[p]) for p in sorted(after.keys() & before.keys()) if after[p] != before[p])
    delete = tuple(sorted(before.keys() - after.keys(), key=_depth, reverse=True))
    return ZnodeDiff(create, update, delete)


def _depth(path: str) -> tuple[int, str]:
    return (path.count("/"), path)
