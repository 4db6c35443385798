"""The broker configs odradek honours or reports, with Kafka's names, types and defaults.

`dynamic` rows may be changed at runtime with (Incremental)AlterConfigs on a BROKER resource, either
for one broker (resource name = its id) or as a cluster default (empty name); `per_broker` rows only
for one broker. As in Kafka, the dynamic ones are the broker synonyms of topic configs (their primary
name only: `log.retention.ms` is dynamic, `log.retention.hours` is not), thread pool sizes, connection
limits, listeners and a few producer-state settings. Every other row is read-only (static, from the
server properties file).

Names starting with `odradek.` are ours; everything else means what it means in Kafka 4.x.
"""

from __future__ import annotations

import dataclasses

from odradek.metadata.config_def import ConfigDef, table_of
from odradek.metadata.config_types import (
    ConfigType,
    ConfigValue,
    ListOf,
    NonEmptyList,
    OneOf,
    RangeOrSentinel,
    Validator,
    at_least,
    between,
)
from odradek.metadata.topic_configs import (
    CLEANUP_POLICIES,
    COMPRESSION_TYPES,
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_SEGMENT_BYTES,
    INT_MAX,
    LONG_MAX,
    TIMESTAMP_TYPES,
)

BOOL, STR, SHORT, INT, LONG, DOUBLE, LIST, PASSWORD = (
    ConfigType.BOOLEAN,
    ConfigType.STRING,
    ConfigType.SHORT,
    ConfigType.INT,
    ConfigType.LONG,
    ConfigType.DOUBLE,
    ConfigType.LIST,
    ConfigType.PASSWORD,
)
DEFAULT_PROTOCOL_MAP = "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT"


def ro(
    name: str, t: ConfigType, default: ConfigValue | None, doc: str, validator: Validator | None = None
) -> ConfigDef:
    """A read-only (static) broker config."""
    return ConfigDef(name, t, default, doc, validator, dynamic=False)


def dyn(
    name: str,
    t: ConfigType,
    default: ConfigValue | None,
    doc: str,
    validator: Validator | None = None,
    *,
    per_broker: bool = False,
) -> ConfigDef:
    """A broker config that AlterConfigs may change at runtime."""
    return ConfigDef(name, t, default, doc, validator, dynamic=True, per_broker=per_broker)


BROKER_CONFIGS = table_of(
    # Identity and listeners.
    ro("node.id", INT, -1, "This broker's id in the cluster; must be unique."),
    ro("broker.id", INT, -1, "Older name of node.id; if both are set they must agree."),
    ro("broker.rack", STR, None, "Rack (or zone) of this broker, used to spread replicas."),
    dyn(
        "listeners",
        STR,
        "PLAINTEXT://:9092",
        "Comma-separated NAME://host:port addresses the broker listens on.",
        per_broker=True,
    ),
    dyn(
        "advertised.listeners",
        STR,
        None,
        "Addresses given to clients in metadata responses, if different from listeners.",
        per_broker=True,
    ),
    dyn(
        "listener.security.protocol.map",
        STR,
        DEFAULT_PROTOCOL_MAP,
        "Security protocol of each listener name, as NAME:PROTOCOL pairs.",
        per_broker=True,
    ),
    ro(
        "zookeeper.connect",
        STR,
        None,
        "ZooKeeper connection string (host:port[,host:port][/chroot]) of a cluster.",
    ),
    ro("zookeeper.session.timeout.ms", INT, 18_000, "ZooKeeper session timeout."),
    ro(
        "zookeeper.connection.timeout.ms",
        INT,
        None,
        "How long to wait for a ZooKeeper connection; unset: session timeout.",
    ),
    ro(
        "confluent.schema.registry.url",
        STR,
        None,
        "Schema registry the broker asks when a topic sets confluent.key/value.schema.validation "
        "(Confluent Server's name); unset: such topics refuse framed records as unverifiable.",
    ),
    ro(
        "odradek.metrics.port",
        INT,
        None,
        "Port of the Prometheus /metrics endpoint; unset: the service default.",
    ),
    # Storage.
    ro("log.dirs", STR, None, "Comma-separated directories holding partition logs; overrides log.dir."),
    ro(
        "odradek.log.max.open.files",
        INT,
        -1,
        "Segment files kept open at once (least recently used closed first); -1: half the process's "
        "open-file limit.",
        at_least(-1),
    ),
    ro("log.dir", STR, "/tmp/kafka-logs", "Directory holding partition logs when log.dirs is not set."),
    ro("num.partitions", INT, 1, "Partitions of a topic created without an explicit count.", at_least(1)),
    ro(
        "default.replication.factor", INT, 1, "Replication factor of a topic created without an explicit one."
    ),
    ro(
        "auto.create.topics.enable",
        BOOL,
        True,
        "Create unknown topics when a client asks for their metadata.",
    ),
    ro("delete.topic.enable", BOOL, True, "Allow DeleteTopics; when false every deletion is refused."),
    dyn("log.segment.bytes", INT, DEFAULT_SEGMENT_BYTES, "Default of segment.bytes.", at_least(1024 * 1024)),
    dyn("log.roll.ms", LONG, None, "Default of segment.ms; unset: log.roll.hours."),
    ro(
        "log.roll.hours",
        INT,
        168,
        "Default of segment.ms in hours, used when log.roll.ms is unset.",
        at_least(1),
    ),
    dyn("log.roll.jitter.ms", LONG, None, "Default of segment.jitter.ms; unset: log.roll.jitter.hours."),
    ro("log.roll.jitter.hours", INT, 0, "Default of segment.jitter.ms in hours.", at_least(0)),
    dyn(
        "log.retention.ms", LONG, None, "Default of retention.ms; unset: log.retention.minutes.", at_least(-1)
    ),
    ro("log.retention.minutes", INT, None, "Default of retention.ms in minutes; unset: log.retention.hours."),
    ro("log.retention.hours", INT, 168, "Default of retention.ms in hours."),
    dyn("log.retention.bytes", LONG, -1, "Default of retention.bytes."),
    ro(
        "log.retention.check.interval.ms",
        LONG,
        300_000,
        "How often segments are checked against the retention limits.",
        at_least(1),
    ),
    dyn("log.cleanup.policy", LIST, ("delete",), "Default of cleanup.policy.", ListOf(CLEANUP_POLICIES)),
    dyn("log.index.interval.bytes", INT, 4096, "Default of index.interval.bytes.", at_least(0)),
    dyn("log.index.size.max.bytes", INT, 10 * 1024 * 1024, "Default of segment.index.bytes.", at_least(4)),
    dyn("log.flush.interval.messages", LONG, LONG_MAX, "Default of flush.messages.", at_least(1)),
    dyn("log.flush.interval.ms", LONG, None, "Default of flush.ms; unset: log.flush.scheduler.interval.ms."),
    ro(
        "log.flush.scheduler.interval.ms",
        LONG,
        LONG_MAX,
        "How often the flusher checks whether logs need an fsync.",
    ),
    ro(
        "log.flush.offset.checkpoint.interval.ms",
        INT,
        60_000,
        "How often the recovery-point checkpoint is written.",
        at_least(0),
    ),
    ro(
        "log.flush.start.offset.checkpoint.interval.ms",
        INT,
        60_000,
        "How often the log-start-offset checkpoint is written.",
        at_least(0),
    ),
    dyn("log.segment.delete.delay.ms", LONG, 60_000, "Default of file.delete.delay.ms.", at_least(0)),
    dyn("log.preallocate", BOOL, False, "Default of preallocate."),
    dyn(
        "log.message.timestamp.type",
        STR,
        "CreateTime",
        "Default of message.timestamp.type.",
        OneOf(TIMESTAMP_TYPES),
    ),
    dyn(
        "log.message.timestamp.before.max.ms",
        LONG,
        LONG_MAX,
        "Default of message.timestamp.before.max.ms.",
        at_least(0),
    ),
    dyn(
        "log.message.timestamp.after.max.ms",
        LONG,
        3_600_000,
        "Default of message.timestamp.after.max.ms.",
        at_least(0),
    ),
    dyn(
        "log.message.downconversion.enable",
        BOOL,
        True,
        "Deprecated and ignored default of message.downconversion.enable.",
    ),
    dyn("log.local.retention.ms", LONG, -2, "Default of local.retention.ms.", at_least(-2)),
    dyn("log.local.retention.bytes", LONG, -2, "Default of local.retention.bytes.", at_least(-2)),
    ro("log.cleaner.enable", BOOL, True, "Run the log cleaner (needed by compacted topics)."),
    dyn("log.cleaner.threads", INT, 1, "Number of log cleaner threads.", at_least(0)),
    dyn(
        "log.cleaner.backoff.ms",
        LONG,
        15_000,
        "Sleep of the cleaner when there is nothing to clean.",
        at_least(0),
    ),
    dyn(
        "log.cleaner.dedupe.buffer.size",
        LONG,
        128 * 1024 * 1024,
        "Memory for the cleaner's key deduplication.",
    ),
    dyn("log.cleaner.io.buffer.size", INT, 512 * 1024, "I/O buffer memory of the cleaner.", at_least(0)),
    dyn(
        "log.cleaner.io.max.bytes.per.second", DOUBLE, 1.7976931348623157e308, "I/O throttle of the cleaner."
    ),
    dyn("log.cleaner.delete.retention.ms", LONG, 86_400_000, "Default of delete.retention.ms.", at_least(0)),
    dyn("log.cleaner.min.compaction.lag.ms", LONG, 0, "Default of min.compaction.lag.ms.", at_least(0)),
    dyn(
        "log.cleaner.max.compaction.lag.ms", LONG, LONG_MAX, "Default of max.compaction.lag.ms.", at_least(1)
    ),
    dyn(
        "log.cleaner.min.cleanable.ratio", DOUBLE, 0.5, "Default of min.cleanable.dirty.ratio.", between(0, 1)
    ),
    dyn(
        "num.recovery.threads.per.data.dir",
        INT,
        2,
        "Threads per log directory for recovery at start.",
        at_least(1),
    ),
    # Records and compression.
    dyn("message.max.bytes", INT, DEFAULT_MAX_MESSAGE_BYTES, "Default of max.message.bytes.", at_least(0)),
    dyn("min.insync.replicas", INT, 1, "Default of the topic config min.insync.replicas.", at_least(1)),
    dyn(
        "unclean.leader.election.enable",
        BOOL,
        False,
        "Default of the topic config unclean.leader.election.enable.",
    ),
    dyn(
        "compression.type",
        STR,
        "producer",
        "Default of the topic config compression.type.",
        OneOf(COMPRESSION_TYPES),
    ),
    dyn("compression.gzip.level", INT, -1, "Default of compression.gzip.level.", RangeOrSentinel(1, 9, -1)),
    dyn("compression.lz4.level", INT, 9, "Default of compression.lz4.level.", between(1, 17)),
    dyn("compression.zstd.level", INT, 3, "Default of compression.zstd.level.", between(-131072, 22)),
    # Network and threads.
    ro("socket.request.max.bytes", INT, 100 * 1024 * 1024, "Largest request the broker reads.", at_least(1)),
    ro("socket.send.buffer.bytes", INT, 100 * 1024, "SO_SNDBUF of client sockets; -1 for the OS default."),
    ro("socket.receive.buffer.bytes", INT, 100 * 1024, "SO_RCVBUF of client sockets; -1 for the OS default."),
    ro("socket.listen.backlog.size", INT, 50, "Backlog of pending connections per listener.", at_least(1)),
    ro("connections.max.idle.ms", LONG, 600_000, "Close client connections idle for this long."),
    dyn("max.connections", INT, INT_MAX, "Connections the broker accepts in total.", at_least(0)),
    dyn("max.connections.per.ip", INT, INT_MAX, "Connections accepted from one address.", at_least(0)),
    dyn("max.connections.per.ip.overrides", STR, "", "Per-address limits as host:count pairs."),
    dyn("max.connection.creation.rate", INT, INT_MAX, "New connections accepted per second.", at_least(0)),
    dyn("num.network.threads", INT, 3, "Threads handling network I/O (Kafka); kept for tools.", at_least(1)),
    dyn("num.io.threads", INT, 8, "Threads executing requests (Kafka); kept for tools.", at_least(1)),
    dyn("background.threads", INT, 10, "Threads for background work.", at_least(1)),
    ro("fetch.max.bytes", INT, 55 * 1024 * 1024, "Most bytes one Fetch response may carry.", at_least(1024)),
    ro(
        "max.incremental.fetch.session.cache.slots",
        INT,
        1000,
        "Incremental fetch sessions cached by the broker.",
        at_least(0),
    ),
    # Replication.
    dyn("num.replica.fetchers", INT, 1, "Fetcher threads per source broker.", at_least(1)),
    dyn(
        "leader.replication.throttled.rate",
        LONG,
        9_223_372_036_854_775_807,
        "Bytes/s this broker sends to followers of the replicas in leader.replication.throttled.replicas"
        " that are out of the ISR (a reassignment's throttle).",
        at_least(0),
    ),
    dyn(
        "follower.replication.throttled.rate",
        LONG,
        9_223_372_036_854_775_807,
        "Bytes/s this broker fetches for its replicas in follower.replication.throttled.replicas that"
        " are out of the ISR (a reassignment's throttle).",
        at_least(0),
    ),
    ro(
        "replica.selector.class",
        STR,
        None,
        "How a leader picks the replica a consumer should fetch from (KIP-392): unset, the leader;"
        " org.apache.kafka.common.replica.RackAwareReplicaSelector, an in-sync replica in the"
        " consumer's client.rack.",
        OneOf(
            (
                "org.apache.kafka.common.replica.RackAwareReplicaSelector",
                "org.apache.kafka.common.replica.LeaderSelector",
            )
        ),
    ),
    ro(
        "replica.lag.time.max.ms",
        LONG,
        30_000,
        "A follower that has not caught up for this long leaves the ISR.",
    ),
    ro(
        "replica.fetch.max.bytes",
        INT,
        8 * 1024 * 1024,  # Kafka: 1 MiB; a round costs each broker a fixed share of Python work
        "Bytes a follower asks for per partition (8 MiB; Kafka's default is 1 MiB).",
        at_least(0),
    ),
    ro("replica.fetch.wait.max.ms", INT, 500, "Longest a follower's fetch waits on the leader."),
    ro("replica.fetch.min.bytes", INT, 1, "Bytes a follower's fetch waits for."),
    ro("replica.fetch.backoff.ms", INT, 1000, "Sleep after a follower fetch error.", at_least(0)),
    ro(
        "replica.fetch.response.max.bytes",
        INT,
        10 * 1024 * 1024,
        "Bytes per follower fetch response.",
        at_least(0),
    ),
    ro("replica.socket.timeout.ms", INT, 30_000, "Socket timeout of follower fetches."),
    ro(
        "replica.high.watermark.checkpoint.interval.ms",
        LONG,
        5000,
        "How often high watermarks are checkpointed.",
    ),
    ro(
        "auto.leader.rebalance.enable", BOOL, True, "Move leadership back to preferred replicas periodically."
    ),
    ro(
        "controlled.shutdown.enable",
        BOOL,
        True,
        "On a clean stop, move this broker's leaderships to other in-sync replicas before stopping.",
    ),
    ro(
        "leader.imbalance.check.interval.seconds",
        LONG,
        300,
        "How often leader balance is checked.",
        at_least(1),
    ),
    ro(
        "leader.imbalance.per.broker.percentage",
        INT,
        10,
        "Leader imbalance tolerated per broker, in percent.",
    ),
    # Group coordinator.
    ro("offsets.topic.num.partitions", INT, 50, "Partitions of __consumer_offsets.", at_least(1)),
    ro(
        "offsets.topic.replication.factor", SHORT, 3, "Replication factor of __consumer_offsets.", at_least(1)
    ),
    ro(
        "offsets.topic.segment.bytes",
        INT,
        100 * 1024 * 1024,
        "Segment size of __consumer_offsets.",
        at_least(1),
    ),
    ro(
        "offsets.retention.minutes",
        INT,
        7 * 24 * 60,
        "How long committed offsets of empty groups are kept.",
        at_least(1),
    ),
    ro(
        "offsets.retention.check.interval.ms",
        LONG,
        600_000,
        "How often stale offsets are expired.",
        at_least(1),
    ),
    ro(
        "offsets.commit.timeout.ms",
        INT,
        5000,
        "Longest an offset commit waits to be replicated.",
        at_least(1),
    ),
    ro("offset.metadata.max.bytes", INT, 4096, "Largest metadata string of a committed offset."),
    ro(
        "group.initial.rebalance.delay.ms",
        INT,
        3000,
        "Wait for more members before a new classic group's first rebalance.",
    ),
    ro(
        "group.min.session.timeout.ms",
        INT,
        6000,
        "Smallest session timeout a classic group member may ask for.",
    ),
    ro(
        "group.max.session.timeout.ms",
        INT,
        1_800_000,
        "Largest session timeout a classic group member may ask for.",
    ),
    ro("group.max.size", INT, INT_MAX, "Most members of one classic group.", at_least(1)),
    ro(
        "group.coordinator.rebalance.protocols",
        LIST,
        ("classic", "consumer"),
        "Group protocols the coordinator accepts.",
        ListOf(("classic", "consumer", "share")),
    ),
    ro(
        "group.consumer.assignors",
        LIST,
        ("uniform", "range"),
        "Server-side assignors of consumer groups (KIP-848); the first is the default.",
        NonEmptyList(),
    ),
    ro(
        "group.consumer.session.timeout.ms",
        INT,
        45_000,
        "Session timeout of consumer group members.",
        at_least(1),
    ),
    ro(
        "group.consumer.min.session.timeout.ms",
        INT,
        45_000,
        "Smallest consumer group session timeout.",
        at_least(1),
    ),
    ro(
        "group.consumer.max.session.timeout.ms",
        INT,
        60_000,
        "Largest consumer group session timeout.",
        at_least(1),
    ),
    ro(
        "group.consumer.heartbeat.interval.ms",
        INT,
        5000,
        "Heartbeat interval given to consumer group members.",
        at_least(1),
    ),
    ro(
        "group.consumer.min.heartbeat.interval.ms",
        INT,
        5000,
        "Smallest consumer group heartbeat interval.",
        at_least(1),
    ),
    ro(
        "group.consumer.max.heartbeat.interval.ms",
        INT,
        15_000,
        "Largest consumer group heartbeat interval.",
        at_least(1),
    ),
    ro("group.consumer.max.size", INT, INT_MAX, "Most members of one consumer group.", at_least(1)),
    # Transactions and producer state.
    ro("transaction.state.log.num.partitions", INT, 50, "Partitions of __transaction_state.", at_least(1)),
    ro(
        "transaction.state.log.replication.factor",
        SHORT,
        3,
        "Replication factor of __transaction_state.",
        at_least(1),
    ),
    ro("transaction.state.log.min.isr", INT, 2, "min.insync.replicas of __transaction_state.", at_least(1)),
    ro(
        "transaction.state.log.segment.bytes",
        INT,
        100 * 1024 * 1024,
        "Segment size of __transaction_state.",
        at_least(1),
    ),
    ro(
        "transactional.id.expiration.ms",
        INT,
        7 * 24 * 3_600_000,
        "Forget idle transactional ids after this long.",
        at_least(1),
    ),
    ro(
        "transaction.max.timeout.ms",
        INT,
        900_000,
        "Largest transaction timeout a producer may ask for.",
        at_least(1),
    ),
    ro(
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
        INT,
        10_000,
        "How often timed-out transactions are aborted.",
        at_least(1),
    ),
    ro(
        "transaction.remove.expired.transaction.cleanup.interval.ms",
        INT,
        3_600_000,
        "How often expired transactional ids are removed.",
        at_least(1),
    ),
    dyn(
        "transaction.partition.verification.enable",
        BOOL,
        True,
        "Verify transactional produce partitions (KIP-890).",
    ),
    dyn(
        "producer.id.expiration.ms",
        INT,
        86_400_000,
        "Forget idle idempotent producer ids after this long.",
        at_least(1),
    ),
    ro(
        "producer.id.expiration.check.interval.ms",
        INT,
        600_000,
        "How often idle producer ids are expired.",
        at_least(1),
    ),
    # Security (listeners, TLS, SASL, ACLs, quotas). Listener-specific values are given with the
    # prefix listener.name.<listener>. (e.g. listener.name.sasl_ssl.ssl.keystore.location) and read
    # by the broker's listener setup; SASL JAAS configs only that way:
    # listener.name.<listener>.<mechanism>.sasl.jaas.config.
    ro("inter.broker.listener.name", STR, None, "The listener brokers use to reach each other."),
    ro("security.inter.broker.protocol", STR, "PLAINTEXT", "Protocol between brokers (if no listener name)."),
    ro("sasl.enabled.mechanisms", LIST, ("GSSAPI",), "SASL mechanisms enabled on SASL listeners."),
    ro("sasl.mechanism.inter.broker.protocol", STR, "GSSAPI", "SASL mechanism between brokers."),
    ro(
        "sasl.server.max.receive.size", INT, 524_288, "Largest frame read before authentication.", at_least(1)
    ),
    ro("connections.max.reauth.ms", LONG, 0, "Session lifetime before re-authentication (0: none)."),
    ro(
        "connection.failed.authentication.delay.ms",
        INT,
        100,
        "Delay before closing a connection whose authentication failed.",
        at_least(0),
    ),
    ro("authorizer.class.name", STR, "", "The authorizer (StandardAuthorizer); empty: none, all allowed."),
    ro("super.users", STR, None, "Principals allowed everything, separated by semicolons."),
    ro("allow.everyone.if.no.acl.found", BOOL, False, "Allow an action on a resource no ACL names."),
    ro(
        "ssl.principal.mapping.rules", STR, "DEFAULT", "Rules mapping TLS client subjects to principal names."
    ),
    ro("ssl.client.auth", STR, "none", "Client certificates: none, requested or required."),
    ro("ssl.enabled.protocols", LIST, ("TLSv1.2", "TLSv1.3"), "TLS protocol versions enabled."),
    ro("ssl.cipher.suites", LIST, (), "TLS 1.2 cipher suites enabled (empty: OpenSSL's defaults)."),
    ro("ssl.endpoint.identification.algorithm", STR, "https", "Host name check for broker connections."),
    ro("ssl.keystore.type", STR, "PEM", "Key store format: PEM or PKCS12."),
    dyn("ssl.keystore.location", STR, None, "Key store file (PEM: private key and chain).", per_broker=True),
    dyn("ssl.keystore.password", PASSWORD, None, "Key store password (PKCS12).", per_broker=True),
    dyn("ssl.keystore.key", PASSWORD, None, "Private key in PEM, inline.", per_broker=True),
    dyn(
        "ssl.keystore.certificate.chain", PASSWORD, None, "Certificate chain in PEM, inline.", per_broker=True
    ),
    dyn("ssl.key.password", PASSWORD, None, "Password of an encrypted private key.", per_broker=True),
    ro(
        "ssl.allow.dn.changes", BOOL, False, "A dynamic keystore update may change the certificate's subject."
    ),
    ro("ssl.allow.san.changes", BOOL, False, "A dynamic keystore update may drop subject alternative names."),
    ro("ssl.truststore.type", STR, "PEM", "Trust store format: PEM or PKCS12."),
    ro("ssl.truststore.location", STR, None, "Trusted CA certificates file."),
    ro("ssl.truststore.password", PASSWORD, None, "Trust store password (PKCS12)."),
    ro("ssl.truststore.certificates", PASSWORD, None, "Trusted CA certificates in PEM, inline."),
    ro("sasl.oauthbearer.jwks.endpoint.url", STR, None, "JWKS of the identity provider (https:// or file:)."),
    ro("sasl.oauthbearer.jwks.endpoint.refresh.ms", LONG, 3_600_000, "How often the JWKS is fetched again."),
    ro("sasl.oauthbearer.expected.audience", LIST, (), "Audiences a token must name one of."),
    ro("sasl.oauthbearer.expected.issuer", STR, None, "The issuer a token must name."),
    ro("sasl.oauthbearer.sub.claim.name", STR, "sub", "The claim naming the principal."),
    ro("sasl.oauthbearer.scope.claim.name", STR, "scope", "The claim holding the scopes."),
    ro(
        "sasl.oauthbearer.clock.skew.seconds",
        INT,
        30,
        "Clock difference allowed with the issuer.",
        at_least(0),
    ),
    ro(
        "odradek.sasl.scram.librdkafka.nonce",
        BOOL,
        True,
        "Accept the SCRAM client-final nonce librdkafka before 2.6.1 sends (client nonce + server nonce).",
    ),
    ro(
        "odradek.ssl.handshake.timeout.ms",
        INT,
        10_000,
        "A TLS handshake not finished within this time closes the connection.",
        at_least(1),
    ),
    ro(
        "odradek.ssl.transport",
        STR,
        "broker",
        "Which transport runs TLS connections: broker (the broker's own, fewer and fuller TLS "
        "records, less CPU) or loop (the event loop's TLS transport).",
        OneOf(("broker", "loop")),
    ),
    ro("quota.window.num", INT, 11, "Samples kept for client quota rates.", at_least(1)),
    ro("quota.window.size.seconds", INT, 1, "Length of one quota sample.", at_least(1)),
    ro("odradek.authorizer.audit.log", STR, "", "File of JSON audit lines of authorization decisions."),
    ro("odradek.authorizer.audit.allowed", BOOL, False, "Also write allowed decisions to the audit log."),
)

LISTENER_PREFIX = "listener.name."
SASL_JAAS_CONFIG = ro(
    "sasl.jaas.config", PASSWORD, None, "JAAS login module and options of one SASL mechanism on a listener."
)


def listener_config(name: str) -> tuple[ConfigDef, str] | None:
    """For a listener-prefixed name (``listener.name.<l>.ssl.keystore.location``, or
    ``listener.name.<l>.<mechanism>.sasl.jaas.config``): its definition under that name, and the
    unprefixed broker config it overrides; None for any other name."""
    if not name.startswith(LISTENER_PREFIX):
        return None
    _, _, rest = name.removeprefix(LISTENER_PREFIX).partition(".")
    base = BROKER_CONFIGS.get(rest)
    if base is None and rest.endswith("." + SASL_JAAS_CONFIG.name):
        base = SASL_JAAS_CONFIG
    if base is None:
        return None
    return dataclasses.replace(base, name=name), base.name
