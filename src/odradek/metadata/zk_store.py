"""`ZooKeeperMetadataStore`: a cluster's metadata in ZooKeeper (ARCHITECTURE D4, ADR 0006), through kazoo.

The same `MetadataStore` interface as the single node's store (`store.py`), checked by the same
contract test. The znodes and their JSON are `zk_layout`'s:

* `apply(records)` replays the batch on the current image, lays out as znodes the parts of the new
  image the records changed (`zk_image.znodes_after`), and writes the difference as ONE ZooKeeper
  transaction (`multi`): creations (which fail if
  the znode exists), and updates and deletions each checked against the znode version this store
  last read (compare-and-set). If anyone changed one of those znodes meanwhile, nothing is written,
  the store reads ZooKeeper again and `apply` raises `MetadataConflictError`; the caller computes its
  change again on the fresh image (the broker's controller loop does). Every transaction also sets
  `/odradek/changes` to the list of paths it wrote, so one watch hears every change and tells what
  to read, and creates an entry with the same list in the change log (`/odradek/change_log`).
* Broker registrations (`/brokers/ids/<id>`) and `/controller` are ephemeral: they belong to the
  ZooKeeper session of the store that wrote them, and vanish with it (a broker that dies leaves the
  cluster within its session timeout). After a session expiry the store registers its broker again
  in the new session (as Kafka's broker does), until that succeeds: the connection often drops
  again right after ZooKeeper comes back, and the old session's znode may still be there for a
  moment. The registration also touches `/odradek/changes`, so every other broker reads it (a
  children watch re-armed after a reconnection skips a children list equal to the one it saw
  before the expiry, and a broker that read the tree while the others were still registering
  would keep a cluster without them).
* Other brokers' changes: watches on `/odradek/changes`, `/brokers/ids` and `/controller` wake a
  reader thread, which reads only what changed: when `/odradek/changes` is one version past the
  last one this store knows, the znodes its list names (pipelined, one round trip); after a
  `/brokers/ids` or `/controller` event (an ephemeral znode vanishing with its session touches
  nothing else), the registrations and the controller. A read during which `/odradek/changes`
  moved may have seen part of the next transaction: the next transaction's paths are read too
  before anything is published, so an image is never published half-applied. When versions were
  skipped (several changes between two watch events), the change log's entries for the missed
  transactions name what to read (`zk_change_log`, ADR 0009; every transaction creates one, and
  writers prune the log). For a gap the log cannot bridge (entries pruned, a transaction of the
  previous version, which logged none), an empty list (too long) or after a reconnection, the whole
  tree is read (level by level, again until no transaction straddled it).
  Only the parts of the image the changed znodes belong to (a topic, a registration, a config
  resource...) are made again from their znodes (`zk_image.image_after`; after a whole-tree read,
  the znodes whose bytes differ from the last read), and the image is published if it differs, as the records
  that take the last image there replayed on it (so the new image shares every unchanged topic with
  the last one). The znodes `apply` compares with are made from the image when it first needs
  them. The store publishes its own writes itself, inside `apply` (ADR 0004), and records them as
  read, so the watch that follows reads nothing. A read or
  re-registration that fails is tried again after `RETRY_S` (doubling up to `RETRY_MAX_S`)
  without waiting for another change, which might never come; the retry reads the whole tree.

Blocking (kazoo's synchronous calls): the broker calls `apply` from a worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from typing import Any

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import KazooException, NodeExistsError, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import WatchedEvent, ZnodeStat

from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import MetadataRecord
from odradek.metadata.store import (
    ClusterMembershipError,
    MetadataChange,
    MetadataConflictError,
    MetadataPublisher,
    Publishers,
    check_base,
)
from odradek.metadata.zk_change_log import (
    ENTRY,
    PRUNE_EVERY,
    RETAINED,
    bridged_paths,
    entries_to_read,
    prunable,
)
from odradek.metadata.zk_image import image_after, znodes_after
from odradek.metadata.zk_layout import (
    BROKER_IDS,
    CHANGE_LOG,
    CHANGES,
    CONTROLLER,
    CONTROLLER_EPOCH,
    PARENTS,
    Znode,
    change_list,
    changed_paths,
    diff,
    image_of,
)
from odradek.metadata.zk_records import records_between

log = logging.getLogger("odradek.metadata.zookeeper")
RETRY_S = 0.25
RETRY_MAX_S = 2.0
SNAPSHOT_READS = 5


class ZooKeeperUnavailableError(ClusterMembershipError):
    """ZooKeeper could not be reached (at start) or the session is not connected (on a change)."""


class BrokerIdTakenError(ClusterMembershipError):
    """Another live broker is registered with this broker's id."""


def split_connect(connect: str) -> tuple[str, str]:
    """`host:port[,host:port...][/chroot]` → (hosts, chroot or "")."""
    hosts, slash, chroot = connect.partition("/")
    return hosts, (slash + chroot).rstrip("/") if chroot else ""


class ZooKeeperMetadataStore:
    def __init__(self, client: KazooClient, connect: str, *, request_timeout_s: float = 18.0) -> None:
        self._client = client
        self._connect = connect
        self._request_timeout_s = request_timeout_s
        """No answer to a request within this (the session timeout) = a failed request: the reader
        (which holds the store lock meanwhile) and `apply` never wait forever on one."""
        self._lock = threading.RLock()
        self._image = ClusterImage.EMPTY
        self._nodes_of: tuple[ClusterImage, dict[str, Znode]] = (self._image, {})
        """The znodes the current image is made of (what `apply` diffs against), made when needed."""
        self._read: dict[str, Znode] = {}
        """Every znode as this store last read or wrote it (the image is made of these)."""
        self._read_image = ClusterImage.EMPTY
        """The image of `_read` before the paths in `_touched` changed."""
        self._touched: set[str] | None = None
        """The paths of `_read` changed since `_read_image` (None: rebuild from every znode)."""
        self._versions: dict[str, int] = {}
        self._changes_version: int | None = None
        """The `/odradek/changes` version `_read` is at (None: unknown, read the whole tree)."""
        self._changes_zxid = 0
        """The zxid of that version (the last transaction read): where the change log is read from."""
        self._commits = 0
        self._read_ephemerals = False
        """A `/brokers/ids` or `/controller` watch fired: read the registrations and the controller."""
        self._read_all = False
        """A reconnection or a failed read: read the whole tree next."""
        self._version = 0
        self._publishers = Publishers()
        self._own_ephemerals: dict[str, bytes] = {}
        self._dirty = threading.Event()
        self._closed = False
        self._registered_session: int | None = None
        self._retry_pending = False
        """The ZooKeeper session our registrations were written in (None: none written yet)."""
        self._reader = threading.Thread(target=self._read_loop, name="zk-metadata-reader", daemon=True)

    @classmethod
    def open(
        cls, connect: str, *, session_timeout_ms: int = 18_000, connection_timeout_ms: int | None = None
    ) -> ZooKeeperMetadataStore:
        """Connect (within the connection timeout, default the session timeout), create the parents,
        read the image, start watching. Raises ZooKeeperUnavailableError with the address."""
        timeout_s = (connection_timeout_ms or session_timeout_ms) / 1000
        hosts, chroot = split_connect(connect)
        if chroot:
            bootstrap = _start(hosts, session_timeout_ms, timeout_s, connect)
            try:
                bootstrap.ensure_path(chroot)
            finally:
                _stop(bootstrap)
        client = _start(connect, session_timeout_ms, timeout_s, connect)
        for parent in PARENTS:
            client.ensure_path(parent)
        if not client.exists(CHANGES):
            with contextlib.suppress(NodeExistsError):
                client.create(CHANGES, b"")
        store = cls(client, connect, request_timeout_s=session_timeout_ms / 1000)
        client.add_listener(store._on_state)
        client.DataWatch(CHANGES, store._on_data)
        client.DataWatch(CONTROLLER, store._on_controller)
        client.ChildrenWatch(BROKER_IDS, store._on_children)
        with store._lock:
            store._refresh()
            store._prune()
        store._reader.start()
        return store

    # --- MetadataStore -----------------------------------------------------------------------------

    @property
    def image(self) -> ClusterImage:
        return self._image

    @property
    def version(self) -> int:
        return self._version

    @property
    def connect(self) -> str:
        return self._connect

    def subscribe(self, publisher: MetadataPublisher) -> None:
        with self._lock:
            self._publishers.subscribe(publisher, self._image, self._version)

    def unsubscribe(self, publisher: MetadataPublisher) -> None:
        self._publishers.unsubscribe(publisher)

    def apply(self, records: Sequence[MetadataRecord], *, base: ClusterImage | None = None) -> ClusterImage:
        with self._lock:
            check_base(self._image, base)
            if not records:
                return self._image
            before = self._image
            after = replay(before, records)
            nodes = self._nodes
            wanted, paths = znodes_after(before, nodes, after)  # (only what the change touched)
            change = diff(
                {p: nodes[p] for p in paths if p in nodes}, {p: wanted[p] for p in paths if p in wanted}
            )
            if not change.empty:
                self._commit(change)
            self._nodes_of = (after, wanted)
            self._image = after
            self._version += 1
            self._publishers.publish(MetadataChange(before, after, tuple(records), self._version))
            return after

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._dirty.set()
        _stop(self._client)
        if self._reader.is_alive() and self._reader is not threading.current_thread():
            self._reader.join(timeout=5)

    def refresh(self) -> ClusterImage:
        """Read ZooKeeper now (tests and tools; the reader thread does it on every watch)."""
        with self._lock:
            self._refresh()
            return self._image

    # --- writing -----------------------------------------------------------------------------------

    def _commit(self, change: Any) -> None:
        if not self._client.connected:
            raise ZooKeeperUnavailableError(f"not connected to ZooKeeper at {self._connect}")
        txn = self._client.transaction()
        for path, node in change.create:
            txn.create(path, node.data, ephemeral=node.ephemeral)
        for path, node in change.update:
            txn.set_data(path, node.data, version=self._versions.get(path, -1))
        for path in change.delete:
            txn.delete(path, version=self._versions.get(path, -1))
        touched = {p for p, _ in (*change.create, *change.update)} | set(change.delete)
        if CONTROLLER_EPOCH in self._versions and CONTROLLER_EPOCH not in touched:
            # fenced by the controller epoch this store last saw (Kafka's controller epoch zkVersion check)
            txn.check(CONTROLLER_EPOCH, self._versions[CONTROLLER_EPOCH])
        listed = change_list(touched)
        txn.create(ENTRY, listed, sequence=True)  # the change log (zk_change_log)
        txn.set_data(CHANGES, listed)
        try:
            results = self._wait(txn.commit_async())
        except (KazooException, KazooTimeoutError) as e:
            raise ZooKeeperUnavailableError(f"ZooKeeper at {self._connect}: {e!r}") from e
        failures = [r for r in results if isinstance(r, Exception)]
        if failures:
            self._refresh()
            first = next((f for f in failures if type(f).__name__ != "RolledBackError"), failures[0])
            if isinstance(first, NodeExistsError) and any(
                p.startswith(BROKER_IDS + "/") for p, _ in change.create
            ):
                taken = [p for p, _ in change.create if p.startswith(BROKER_IDS + "/") and p in self._nodes]
                if taken:
                    raise BrokerIdTakenError(
                        f"broker id {taken[0].rsplit('/', 1)[1]} is already registered in ZooKeeper at "
                        f"{self._connect} by a live broker"
                    )
            raise MetadataConflictError(f"the metadata changed meanwhile ({type(first).__name__}); try again")
        ops = [*(("c", p, n) for p, n in change.create), *(("u", p, n) for p, n in change.update)]
        ops += [("d", p, None) for p in change.delete]
        changes = results[-1]
        # the change right after the last one read: what ZooKeeper now holds is what was read plus
        # this change, so the watch it fires reads nothing (else the reader reads the whole tree)
        in_step = (
            isinstance(changes, ZnodeStat)
            and self._changes_version is not None
            and changes.version == self._changes_version + 1
        )
        for (kind, path, node), result in zip(ops, results, strict=False):
            if in_step:
                if node is not None:
                    self._read[path] = node
                else:
                    self._read.pop(path, None)
                self._changed(path)
            if kind == "c":
                self._versions[path] = 0
                if node is not None and node.ephemeral and path.startswith(BROKER_IDS + "/"):
                    self._own_ephemerals[path] = node.data
                    self._registered_session = self._session_id()
            elif kind == "u":
                self._versions[path] = result.version if isinstance(result, ZnodeStat) else -1
                if path in self._own_ephemerals and node is not None:
                    self._own_ephemerals[path] = node.data  # re-registered as it is now (fenced or not)
            else:
                self._versions.pop(path, None)
                self._own_ephemerals.pop(path, None)
        if in_step:
            self._changes_version = self._versions[CHANGES] = changes.version
            self._changes_zxid = changes.mzxid
        self._commits += 1
        if self._commits % PRUNE_EVERY == 0:
            self._prune()

    def _prune(self) -> None:
        """Delete the change log's entries beyond the newest `RETAINED` (best effort: every writer
        prunes, so one that fails or races another is harmless)."""
        try:
            children = self._wait(self._client.get_children_async(CHANGE_LOG))
            pending = [self._client.delete_async(path) for path in prunable(children, RETAINED)]
            for answer in pending:
                with contextlib.suppress(NoNodeError):
                    self._wait(answer)
        except (KazooException, KazooTimeoutError) as e:
            log.debug("pruning %s failed (%r); the next writer prunes it", CHANGE_LOG, e)

    # --- reading -----------------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Read the whole tree, rebuild the image, publish it if it changed (holding the lock)."""
        self._read_all = self._read_ephemerals = False
        self._read_snapshot()
        self._publish_read()

    def _catch_up(self) -> None:
        """Read what changed since the last read, publish the image if it changed (holding the lock)."""
        if self._read_all or self._changes_version is None or not self._read_changes():
            self._refresh()
        else:
            self._publish_read()

    def _read_changes(self) -> bool:
        """Bring `_read` to the current `/odradek/changes` version by reading only the znodes the
        changes since the last read name. False when that cannot be done (versions skipped, a list
        missing): the caller reads the whole tree."""
        for _ in range(SNAPSHOT_READS):
            ephemerals, self._read_ephemerals = self._read_ephemerals, False
            try:
                data, stat = self._wait(self._client.get_async(CHANGES))
            except NoNodeError:
                return False
            known = self._changes_version
            assert known is not None
            paths: list[str] = []
            if stat.version == known + 1:
                listed = changed_paths(data)
                if listed is None:
                    return False
                paths = listed
            elif stat.version != known:
                bridged = self._read_change_log(known)  # several transactions missed
                if bridged is None:
                    return False
                data, stat, paths = bridged
            if ephemerals:
                paths += self._ephemeral_paths()
            self._read_nodes(paths)
            self._read[CHANGES] = Znode(data or b"")
            self._changes_version = self._versions[CHANGES] = stat.version
            self._changes_zxid = stat.mzxid
            after = self._wait(self._client.exists_async(CHANGES))
            if after is not None and after.version == stat.version:
                return True
            # a transaction committed during the read, which may have seen part of it: its paths
            # are read too (the next round) before anything is published
        return False

    def _read_change_log(self, known: int) -> tuple[bytes, ZnodeStat, list[str]] | None:
        """(`/odradek/changes` as read now, its stat, the paths every transaction since version
        `known` wrote) from the change log; None for a gap it cannot bridge (`zk_change_log`)."""
        for _ in range(2):  # a transaction committed between the listing and the version: once more
            listing = self._client.get_children_async(CHANGE_LOG)  # before the version it counts
            changes = self._client.get_async(CHANGES)
            try:
                children = self._wait(listing)
                data, stat = self._wait(changes)
            except NoNodeError:
                return None
            names = entries_to_read(children, stat.version - known, RETAINED)
            if names is None:
                return None
            pending = [self._client.get_async(name) for name in names]
            entries: list[tuple[bytes, int]] = []
            for answer in pending:
                try:
                    entry, entry_stat = self._wait(answer)
                except NoNodeError:  # pruned meanwhile
                    return None
                entries.append((entry or b"", entry_stat.czxid))
            paths = bridged_paths(entries, self._changes_zxid)
            if paths is not None:
                return data or b"", stat, paths
        return None

    def _ephemeral_paths(self) -> list[str]:
        """The registrations and the controller (ephemeral: they vanish without a change list);
        registrations no longer listed are dropped from `_read` here."""
        try:
            ids = set(self._wait(self._client.get_children_async(BROKER_IDS)))
        except NoNodeError:
            ids = set()
        for path in [p for p in self._read if p.startswith(BROKER_IDS + "/")]:
            if path.rsplit("/", 1)[1] not in ids:
                self._read.pop(path, None)
                self._versions.pop(path, None)
                self._changed(path)
        return [CONTROLLER, CONTROLLER_EPOCH, *(f"{BROKER_IDS}/{i}" for i in sorted(ids))]

    def _read_nodes(self, paths: Sequence[str]) -> None:
        """Read these znodes (pipelined) into `_read`; a missing one is dropped with what was under it."""
        pending = [(p, self._client.get_async(p)) for p in dict.fromkeys(paths)]
        gone: list[str] = []
        for path, answer in pending:
            try:
                data, stat = self._wait(answer)
            except NoNodeError:
                gone.append(path)
                continue
            self._read[path] = Znode(data or b"", stat.ephemeralOwner != 0)
            self._versions[path] = stat.version
            self._changed(path)
        if gone:
            prefixes = tuple(p + "/" for p in gone)
            for path in [p for p in self._read if p in gone or p.startswith(prefixes)]:
                self._read.pop(path, None)
                self._versions.pop(path, None)
                self._changed(path)

    @property
    def _nodes(self) -> dict[str, Znode]:
        image, nodes = self._nodes_of
        if image is not self._image:
            nodes = znodes_after(image, nodes, self._image)[0]
            self._nodes_of = (self._image, nodes)
        return nodes

    def _changed(self, path: str) -> None:
        if self._touched is not None:
            self._touched.add(path)

    def _publish_read(self) -> None:
        touched, self._touched = self._touched, None  # (until this succeeds: rebuild from every znode)
        image = None
        if touched is not None:
            # only the parts of the image the changed znodes belong to are made again (zk_image)
            try:
                image = image_after(self._read_image, self._read, touched)
            except Exception:  # the whole rebuild below says what is wrong
                image = None
        if image is None:
            image = image_of({p: n.data for p, n in self._read.items()})
        if image != self._image:
            before = self._image
            records = records_between(before, image)
            try:
                shared = replay(before, records)
            except Exception:  # never lose a refresh over the sharing: publish the image as read
                log.warning("replaying %d records on the last image failed", len(records), exc_info=True)
                shared = image
            if shared == image:
                # the same image, sharing with the last one every topic the change left alone: the
                # broker's publishers then look only at what changed (a topic object they saw before
                # is unchanged), not at every partition after every other broker's ISR change
                image = shared
            self._image = image
            self._version += 1
            self._publishers.publish(MetadataChange(before, image, records, self._version))
        self._read_image = self._image  # equal to the image read, and sharing with the published one
        self._touched = set()

    def _read_snapshot(self) -> None:
        """Read the tree into `_read` as one moment saw it. A read goes level by level, so a
        transaction committed in between would show half of itself (a topic without its partitions'
        state, a partition state of another leader epoch than its assignment). Every transaction
        sets `/odradek/changes`: the read starts at its version, and when one transaction committed
        during the read, the znodes it names are read again (`_read_changes`), which makes the read
        whole at that transaction. More than one: the tree is read again (at most `SNAPSHOT_READS`
        times; the last read is taken as it is, not whole, and the next one reads the tree again)."""
        for _ in range(SNAPSHOT_READS):
            start = self._wait(self._client.exists_async(CHANGES))
            before = self._read
            self._read, self._versions = self._read_tree()
            if self._touched is not None:
                # the image is still made from the parts that changed: those whose bytes differ
                # (comparing bytes costs far less than making every part of the image again)
                read = self._read
                self._touched |= {p for p in before.keys() | read.keys() if before.get(p) != read.get(p)}
            if start is None:  # a tree without the changes znode: nothing to compare with
                self._changes_version = None
                return
            self._changes_version = self._versions[CHANGES] = start.version
            self._changes_zxid = start.mzxid
            if self._read_changes():
                return
        self._changes_version = None

    def _read_tree(self) -> tuple[dict[str, Znode], dict[str, int]]:
        nodes: dict[str, Znode] = {}
        versions: dict[str, int] = {}
        level = [
            "/cluster",
            "/controller",
            "/controller_epoch",
            "/brokers",
            "/config",
            "/latest_producer_id_block",
            "/feature",
            "/odradek",
        ]
        while level:
            # (the change log's entries are not part of the image)
            children_of = [(p, self._client.get_children_async(p)) for p in level if p != CHANGE_LOG]
            data_of = [(p, self._client.get_async(p)) for p in level]
            level = []
            for path, pending in data_of:
                try:
                    data, stat = self._wait(pending)
                except NoNodeError:
                    continue
                nodes[path] = Znode(data or b"", stat.ephemeralOwner != 0)
                versions[path] = stat.version
            for path, pending in children_of:
                try:
                    children = self._wait(pending)
                except NoNodeError:
                    continue
                level += [f"{path}/{c}" for c in children]
        return nodes, versions

    def _read_loop(self) -> None:
        delay = RETRY_S
        while True:
            if not self._dirty.wait(timeout=delay if self._retry_pending else None):
                self._dirty.set()  # a retry is due
            self._dirty.clear()
            with self._lock:
                if self._closed:
                    return
                try:
                    if self._client.connected:
                        self._register_again()
                        self._catch_up()
                    self._retry_pending = False
                    delay = RETRY_S
                except Exception as exc:  # never let the reader die: a dead reader is a stale image
                    self._retry_pending = self._read_all = True
                    log.warning(
                        "reading the metadata from ZooKeeper at %s failed (%r); trying again in %g s",
                        self._connect,
                        exc,
                        delay,
                        exc_info=not isinstance(exc, KazooException | ClusterMembershipError),
                    )
                    delay = min(delay * 2, RETRY_MAX_S)

    def _wait(self, pending: Any) -> Any:
        """A request's answer, or KazooTimeoutError after the request timeout (kazoo's own `get()`
        waits forever for a request that was lost: one queued while the session was being replaced)."""
        return pending.get(timeout=self._request_timeout_s)

    def _session_id(self) -> int | None:
        client_id = self._client.client_id
        return int(client_id[0]) if client_id else None

    def _register_again(self) -> None:
        """A new session after an expiry: our broker's registration vanished with the old one. Written
        again with a touch of the changes znode (one transaction), so every broker reads it. Raises
        (the reader tries again) until every registration is ours in the current session."""
        session = self._session_id()
        if not self._own_ephemerals or session is None or session == self._registered_session:
            return
        for path, data in self._own_ephemerals.items():
            txn = self._client.transaction()
            txn.create(path, data, ephemeral=True)
            txn.create(ENTRY, change_list([path]), sequence=True)
            txn.set_data(CHANGES, change_list([path]))
            results = self._wait(txn.commit_async())
            if not any(isinstance(r, Exception) for r in results):
                log.warning("ZooKeeper session expired; registered %s again", path)
                continue
            stat = self._wait(self._client.exists_async(path))
            if stat is not None and stat.ephemeralOwner == session:
                continue  # ours: an earlier attempt was written before its connection dropped
            raise ZooKeeperUnavailableError(
                f"ZooKeeper session expired and {path} is registered by another session (the old "
                "session's, not removed yet, or another broker with this id)"
            )
        self._registered_session = session

    # --- watches (kazoo's threads: quick) ----------------------------------------------------------

    def _on_data(self, data: bytes | None, stat: ZnodeStat | None, event: WatchedEvent | None = None) -> bool:
        self._dirty.set()
        return not self._closed

    def _on_controller(
        self, data: bytes | None, stat: ZnodeStat | None, event: WatchedEvent | None = None
    ) -> bool:
        self._read_ephemerals = True
        self._dirty.set()
        return not self._closed

    def _on_children(self, children: list[str]) -> bool:
        self._read_ephemerals = True
        self._dirty.set()
        return not self._closed

    def _on_state(self, state: str) -> None:
        if state == KazooState.CONNECTED:  # a new session (our registrations may be gone) or not
            self._read_all = True
            self._dirty.set()


def _start(hosts: str, session_timeout_ms: int, timeout_s: float, connect: str) -> KazooClient:
    client = KazooClient(hosts=hosts, timeout=session_timeout_ms / 1000)
    try:
        client.start(timeout=timeout_s)
    except KazooTimeoutError:
        _stop(client)
        raise ZooKeeperUnavailableError(
            f"could not connect to ZooKeeper at {connect} within {timeout_s:g} s (zookeeper.connect)"
        ) from None
    return client


def _stop(client: KazooClient) -> None:
    try:
        client.stop()
        client.close()
    except KazooException:
        pass
