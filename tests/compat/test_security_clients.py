"""Real clients over real TLS and SASL: confluent-kafka and kafka-python over SSL, mutual TLS,
SASL_PLAINTEXT and SASL_SSL with every mechanism; aiokafka with PLAIN and SCRAM; kcat with SSL and
SASL PLAIN/SCRAM. Each principal may only use its own topics (ACLs made by the admin super user),
and SCRAM users are created with confluent-kafka's alter_user_scram_credentials."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)
from secure_broker import Pki, admin_config, librdkafka_config, secure_broker

from odradek.security.sasl.jwt_validation import unsecured_token
from odradek.testing.broker_process import BrokerProcess

pytestmark = [
    pytest.mark.compat,
    # kafka-python 3's selector can close a task's generator while it still holds its SSL socket
    # (kafka/net/selector.py Task.close): its ResourceWarning is the client's, not the broker's
    pytest.mark.filterwarnings("ignore:unclosed <ssl.SSLSocket:ResourceWarning"),
]

SCRAM_USERS = {"SCRAM-SHA-256": ("carol", "carol-secret"), "SCRAM-SHA-512": ("dave", "dave-secret")}
# principal name -> its topic/group prefix; ANONYMOUS is who SSL without a certificate is
PRINCIPALS = ["alice", "bob", "carol", "dave", "svc", "ANONYMOUS"]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BrokerProcess, Pki]]:
    with secure_broker(tmp_path_factory.mktemp("secure")) as (broker, pki):
        admin = AdminClient(admin_config(broker, pki))
        upserts = [
            UserScramCredentialUpsertion(
                user, ScramCredentialInfo(ScramMechanism[m.replace("-", "_")], 4096), pw.encode()
            )
            for m, (user, pw) in SCRAM_USERS.items()
        ]
        for future in admin.alter_user_scram_credentials(upserts).values():
            future.result(timeout=30)
        bindings = [
            AclBinding(
                rt,
                f"sec-{name}",
                ResourcePatternType.PREFIXED,
                f"User:{name}",
                "*",
                AclOperation.ALL,
                AclPermissionType.ALLOW,
            )
            for name in PRINCIPALS
            for rt in (ResourceType.TOPIC, ResourceType.GROUP)
        ]
        for future in admin.create_acls(bindings).values():
            future.result(timeout=30)
        yield broker, pki


def sasl(mechanism: str, user: str, password: str) -> dict[str, str]:
    return {"sasl.mechanism": mechanism, "sasl.username": user, "sasl.password": password}


CONFLUENT_CASES = {
    "ssl": ("SSL", {}, "ANONYMOUS"),
    "mtls": ("MTLS", {}, "alice"),
    "sasl_plaintext-plain": ("SASL_PLAINTEXT", sasl("PLAIN", "alice", "alice-secret"), "alice"),
    "sasl_ssl-plain": ("SASL_SSL", sasl("PLAIN", "bob", "bob-secret"), "bob"),
    "sasl_ssl-scram-256": ("SASL_SSL", sasl("SCRAM-SHA-256", "carol", "carol-secret"), "carol"),
    "sasl_ssl-scram-512": ("SASL_SSL", sasl("SCRAM-SHA-512", "dave", "dave-secret"), "dave"),
    "sasl_ssl-oauthbearer": (
        "SASL_SSL",
        {
            "sasl.mechanism": "OAUTHBEARER",
            "enable.sasl.oauthbearer.unsecure.jwt": "true",
            "sasl.oauthbearer.config": "principal=svc",
        },
        "svc",
    ),
}


def round_trip_confluent(config: dict[str, str], topic: str) -> None:
    value = uuid.uuid4().bytes
    producer = Producer(config)
    errors: list[KafkaError] = []
    producer.produce(topic, value, on_delivery=lambda err, _msg: err and errors.append(err))
    assert producer.flush(30) == 0 and not errors, errors
    consumer = Consumer({**config, "group.id": topic, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            assert message.error() is None, message.error()
            assert message.value() == value
            return
        pytest.fail("nothing consumed")
    finally:
        consumer.close()


@pytest.mark.parametrize("case", list(CONFLUENT_CASES))
def test_confluent_kafka_each_protocol_and_mechanism(secured: tuple[BrokerProcess, Pki], case: str) -> None:
    broker, pki = secured
    listener, extra, principal = CONFLUENT_CASES[case]
    round_trip_confluent(librdkafka_config(broker, pki, listener, **extra), f"sec-{principal}-{case}")


def test_a_principal_is_held_to_its_own_topics(secured: tuple[BrokerProcess, Pki]) -> None:
    broker, pki = secured
    config = librdkafka_config(broker, pki, "SASL_SSL", **sasl("SCRAM-SHA-512", "dave", "dave-secret"))
    producer = Producer(config)
    errors: list[KafkaError] = []
    producer.produce("sec-alice-private", b"x", on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(30)
    assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED]


@pytest.mark.parametrize(
    ("listener", "extra"),
    [
        ("SASL_SSL", sasl("PLAIN", "alice", "wrong")),
        ("SASL_SSL", sasl("SCRAM-SHA-256", "carol", "wrong")),
        ("SASL_SSL", sasl("SCRAM-SHA-512", "nobody", "x")),
    ],
)
def test_wrong_credentials_fail_authentication(
    secured: tuple[BrokerProcess, Pki], listener: str, extra: dict[str, str]
) -> None:
    broker, pki = secured
    seen = errors_of(
        librdkafka_config(broker, pki, listener, **extra), lambda e: e.code() == KafkaError._AUTHENTICATION
    )
    assert any("Authentication failed" in e.str() for e in seen), seen


def errors_of(config: dict[str, str], wanted: Any) -> list[KafkaError]:
    """The client errors librdkafka reports (error_cb) until one `wanted` comes, within 10 s."""
    seen: list[KafkaError] = []
    producer = Producer({**config, "error_cb": seen.append})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(wanted(e) for e in seen):
        producer.poll(0.2)
    assert any(wanted(e) for e in seen), seen
    return seen


def test_mtls_without_a_client_certificate_is_refused(secured: tuple[BrokerProcess, Pki]) -> None:
    broker, pki = secured
    config = {
        "bootstrap.servers": broker.bootstrap_for("MTLS"),
        "security.protocol": "SSL",
        "ssl.ca.location": str(pki.ca),
    }
    errors_of(
        config, lambda e: e.code() in (KafkaError._SSL, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)
    )


# --- kafka-python ----------------------------------------------------------------------------------


class _Token:
    def __init__(self, principal: str) -> None:
        self.principal = principal

    def token(self) -> str:
        now = int(time.time())
        return unsecured_token({"sub": self.principal, "iat": now, "exp": now + 3600})

    def extensions(self) -> dict[str, str]:
        return {}


def kafka_python_config(broker: BrokerProcess, pki: Pki, case: str) -> tuple[dict[str, Any], str]:
    from kafka.net.sasl.oauth import AbstractTokenProvider

    class Provider(AbstractTokenProvider):  # type: ignore[misc]
        def token(self) -> str:
            return _Token("svc").token()

    tls = {"ssl_cafile": str(pki.ca), "ssl_check_hostname": True}
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "ssl": (
            {"bootstrap_servers": broker.bootstrap_for("SSL"), "security_protocol": "SSL", **tls},
            "ANONYMOUS",
        ),
        "mtls": (
            {
                "bootstrap_servers": broker.bootstrap_for("MTLS"),
                "security_protocol": "SSL",
                "ssl_certfile": str(pki.alice_cert),
                "ssl_keyfile": str(pki.alice_key),
                **tls,
            },
            "alice",
        ),
        "sasl_plaintext-plain": (
            {
                "bootstrap_servers": broker.bootstrap_for("SASL_PLAINTEXT"),
                "security_protocol": "SASL_PLAINTEXT",
                "sasl_mechanism": "PLAIN",
                "sasl_plain_username": "alice",
                "sasl_plain_password": "alice-secret",
            },
            "alice",
        ),
        "sasl_ssl-scram-512": (
            {
                "bootstrap_servers": broker.bootstrap_for("SASL_SSL"),
                "security_protocol": "SASL_SSL",
                "sasl_mechanism": "SCRAM-SHA-512",
                "sasl_plain_username": "dave",
                "sasl_plain_password": "dave-secret",
                **tls,
            },
            "dave",
        ),
        "sasl_ssl-oauthbearer": (
            {
                "bootstrap_servers": broker.bootstrap_for("SASL_SSL"),
                "security_protocol": "SASL_SSL",
                "sasl_mechanism": "OAUTHBEARER",
                "sasl_oauth_token_provider": Provider(),
                **tls,
            },
            "svc",
        ),
    }
    return cases[case]


@pytest.mark.parametrize(
    "case", ["ssl", "mtls", "sasl_plaintext-plain", "sasl_ssl-scram-512", "sasl_ssl-oauthbearer"]
)
# kafka-python 3.0.12 once left a socket of its own unclosed in a task its selector dropped (the
# ResourceWarning is raised where the garbage collector closes that task, kafka/net/selector.py);
# what this test checks, a write and a read through each protocol, is unaffected
@pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <socket\.socket:pytest.PytestUnraisableExceptionWarning"
)
def test_kafka_python_each_protocol(secured: tuple[BrokerProcess, Pki], case: str) -> None:
    from kafka import KafkaConsumer, KafkaProducer

    broker, pki = secured
    config, principal = kafka_python_config(broker, pki, case)
    topic = f"sec-{principal}-kp-{case}"
    value = uuid.uuid4().bytes
    producer = KafkaProducer(**config)
    producer.send(topic, value).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(
        topic, group_id=topic, auto_offset_reset="earliest", consumer_timeout_ms=20_000, **config
    )
    try:
        assert next(iter(consumer)).value == value
    finally:
        consumer.close()


# --- aiokafka --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mechanism", "user", "password"),
    [("PLAIN", "alice", "alice-secret"), ("SCRAM-SHA-256", "carol", "carol-secret")],
)
def test_aiokafka_sasl(secured: tuple[BrokerProcess, Pki], mechanism: str, user: str, password: str) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    broker, pki = secured
    context = ssl.create_default_context(cafile=str(pki.ca))
    config = {
        "bootstrap_servers": broker.bootstrap_for("SASL_SSL"),
        "security_protocol": "SASL_SSL",
        "ssl_context": context,
        "sasl_mechanism": mechanism,
        "sasl_plain_username": user,
        "sasl_plain_password": password,
    }
    topic = f"sec-{user}-aio-{mechanism.lower()}"
    value = uuid.uuid4().bytes

    async def run() -> bytes:
        producer = AIOKafkaProducer(**config)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, group_id=topic, auto_offset_reset="earliest", **config)
        await consumer.start()
        try:
            message = await asyncio.wait_for(consumer.getone(), 30)
            return bytes(message.value)
        finally:
            await consumer.stop()

    assert asyncio.run(run()) == value


# --- kcat ------------------------------------------------------------------------------------------


def kcat(bootstrap: str, *args: str, stdin: bytes | None = None) -> str:
    result = subprocess.run(
        ["kcat", "-b", bootstrap, *args], input=stdin, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return result.stdout.decode()


@pytest.mark.parametrize(
    ("case", "listener", "settings", "principal"),
    [
        ("ssl", "SSL", [], "ANONYMOUS"),
        (
            "plain",
            "SASL_SSL",
            ["sasl.mechanism=PLAIN", "sasl.username=bob", "sasl.password=bob-secret"],
            "bob",
        ),
        (
            "scram",
            "SASL_SSL",
            ["sasl.mechanism=SCRAM-SHA-256", "sasl.username=carol", "sasl.password=carol-secret"],
            "carol",
        ),
    ],
)
def test_kcat(
    secured: tuple[BrokerProcess, Pki], case: str, listener: str, settings: list[str], principal: str
) -> None:
    broker, pki = secured
    options = ["-X", f"security.protocol={listener}", "-X", f"ssl.ca.location={pki.ca}"]
    for setting in settings:
        options += ["-X", setting]
    topic = f"sec-{principal}-kcat-{case}"
    bootstrap = broker.bootstrap_for(listener)
    kcat(bootstrap, *options, "-P", "-t", topic, stdin=b"hello-kcat\n")
    out = kcat(bootstrap, *options, "-C", "-t", topic, "-o", "beginning", "-e", "-J")
    assert json.loads(out.splitlines()[0])["payload"] == "hello-kcat"


def test_metadata_hides_topics_the_principal_may_not_describe(secured: tuple[BrokerProcess, Pki]) -> None:
    broker, pki = secured
    admin = AdminClient(admin_config(broker, pki))
    admin.list_topics(timeout=10)
    carol = AdminClient(
        librdkafka_config(broker, pki, "SASL_SSL", **sasl("SCRAM-SHA-256", "carol", "carol-secret"))
    )
    round_trip_confluent(
        librdkafka_config(broker, pki, "SASL_SSL", **sasl("SCRAM-SHA-256", "carol", "carol-secret")),
        "sec-carol-visible",
    )
    topics = set(carol.list_topics(timeout=10).topics)
    assert "sec-carol-visible" in topics
    assert all(t.startswith("sec-carol") for t in topics), topics
    assert Path(pki.ca).exists()


# --- the CLI with --command-config ----------------------------------------------------------------


def test_cli_user_acl_quota_with_command_config(
    secured: tuple[BrokerProcess, Pki], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from odradek.cli.main import main

    broker, pki = secured
    config = tmp_path / "admin.properties"
    config.write_text(
        "security.protocol=SASL_SSL\n"
        "sasl.mechanism=PLAIN\n"
        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
        'username="admin" password="admin-secret";\n'
        f"ssl.truststore.location={pki.ca}\n"
    )
    common = ["-b", broker.bootstrap_for("SASL_SSL"), "--command-config", str(config)]

    def run(*argv: str) -> str:
        capsys.readouterr()
        assert main([*argv, *common]) == 0, capsys.readouterr().err
        return capsys.readouterr().out

    run("user", "create", "erin", "--password", "erin-secret", "--mechanism", "SCRAM-SHA-512")
    assert "erin" in run("user", "list")
    run(
        "acl",
        "add",
        "--allow-principal",
        "User:erin",
        "--producer",
        "--topic",
        "sec-erin",
        "--resource-pattern-type",
        "prefixed",
    )
    listed = json.loads(run("acl", "list", "--principal", "User:erin", "--output", "json"))["acls"]
    assert {(a["operation"], a["resource"], a["pattern_type"]) for a in listed} == {
        ("Write", "sec-erin", "PREFIXED"),
        ("Describe", "sec-erin", "PREFIXED"),
        ("Create", "sec-erin", "PREFIXED"),
    }
    erin = librdkafka_config(broker, pki, "SASL_SSL", **sasl("SCRAM-SHA-512", "erin", "erin-secret"))
    producer = Producer(erin)
    producer.produce("sec-erin-cli", b"by erin")
    assert producer.flush(30) == 0
    run("quota", "set", "--user", "erin", "--producer-byte-rate", "1048576")
    described = json.loads(run("quota", "describe", "--user", "erin", "--output", "json"))
    assert described == {"quotas": [{"entity": "user=erin", "values": {"producer_byte_rate": 1048576.0}}]}
    run(
        "acl",
        "remove",
        "--principal",
        "User:erin",
        "--topic",
        "sec-erin",
        "--resource-pattern-type",
        "prefixed",
    )
    assert json.loads(run("acl", "list", "--principal", "User:erin", "--output", "json"))["acls"] == []
    run("user", "delete", "erin")
    assert "erin" not in run("user", "list")


def test_alter_configs_reloads_a_listener_keystore(
    secured: tuple[BrokerProcess, Pki], tmp_path: Path
) -> None:
    """confluent-kafka's incremental_alter_configs renews the SSL listener's certificate without a
    restart; a keystore that does not load, or whose certificate names another subject, is refused
    with INVALID_REQUEST and the listener keeps serving the old one. describe_configs shows the
    listener-prefixed dynamic setting."""
    import datetime as dt

    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource

    from odradek.security.dev_certificates import DEFAULT_SERVER_NAMES, Issued, issue

    broker, pki = secured
    ca = Issued(pki.ca_key.read_bytes(), pki.ca.read_bytes())
    stores = {}
    for name, subject in (("renewed", "localhost"), ("other-subject", "renewed")):
        issued = issue(ca, subject, dt.datetime.now(dt.UTC), server_names=DEFAULT_SERVER_NAMES)
        stores[name] = tmp_path / f"{name}.pem"
        stores[name].write_bytes(issued.key_pem + issued.certificate_pem)
    stores["garbage"] = tmp_path / "garbage.pem"
    stores["garbage"].write_text("this is not a keystore")
    key = "listener.name.ssl.ssl.keystore.location"

    def served_serial() -> str:
        context = ssl.create_default_context(cafile=str(pki.ca))
        host, port = broker.bootstrap_for("SSL").split(":")
        with (
            socket.create_connection((host, int(port)), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            return str(tls.getpeercert()["serialNumber"])

    admin = AdminClient(admin_config(broker, pki))

    def alter(path: Path) -> None:
        entry = ConfigEntry(key, str(path), incremental_operation=AlterConfigOpType.SET)
        resource = ConfigResource(ResourceType.BROKER, "1", incremental_configs=[entry])
        [future] = admin.incremental_alter_configs([resource]).values()
        future.result(timeout=30)

    original = served_serial()
    for bad, words in (
        (tmp_path / "missing.pem", "cannot load the keystore"),
        (stores["garbage"], "cannot load the keystore"),
        (stores["other-subject"], "Keystore DistinguishedName does not match"),
    ):
        with pytest.raises(KafkaException) as refused:
            alter(bad)
        error = refused.value.args[0]
        assert error.code() == KafkaError.INVALID_REQUEST, error
        assert "Validation of dynamic config update of SSLFactory failed" in error.str()
        assert words in error.str()
    assert served_serial() == original
    alter(stores["renewed"])
    deadline = time.monotonic() + 10
    while served_serial() == original and time.monotonic() < deadline:
        time.sleep(0.1)
    assert served_serial() != original
    [described] = admin.describe_configs([ConfigResource(ResourceType.BROKER, "1")]).values()
    entry = described.result(timeout=30)[key]
    assert (entry.value, entry.source) == (str(stores["renewed"]), ConfigSource.DYNAMIC_BROKER_CONFIG.value)


def test_a_regex_subscription_matches_only_topics_the_member_may_describe(
    secured: tuple[BrokerProcess, Pki],
) -> None:
    """KIP-848 (group.protocol=consumer): the coordinator resolves the regex, and only to topics
    alice may describe (KAFKA-18813); bob's topic matches the pattern but is never assigned."""
    from confluent_kafka.admin import NewTopic

    broker, pki = secured
    suffix = uuid.uuid4().hex[:6]
    mine, theirs = f"sec-alice-rx{suffix}", f"sec-bob-rx{suffix}"
    admin = AdminClient(admin_config(broker, pki))
    for future in admin.create_topics([NewTopic(t, 1, 1) for t in (mine, theirs)]).values():
        future.result(30)
    producer = Producer(admin_config(broker, pki))
    for topic in (mine, theirs):
        producer.produce(topic, topic.encode())
    assert producer.flush(30) == 0
    config = librdkafka_config(broker, pki, "SASL_PLAINTEXT", **sasl("PLAIN", "alice", "alice-secret"))
    consumer = Consumer(
        {
            **config,
            "group.id": f"sec-alice-g{suffix}",
            "group.protocol": "consumer",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe([f"^sec-.*-rx{suffix}"])
        seen: list[bytes] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not seen:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                seen.append(message.value())
        assert seen == [mine.encode()]
        assert {tp.topic for tp in consumer.assignment()} == {mine}
        # the coordinator's own view, as the admin sees it: bob's topic is not in the assignment
        [described] = admin.describe_consumer_groups([f"sec-alice-g{suffix}"]).values()
        [member] = described.result(30).members
        assert {tp.topic for tp in member.assignment.topic_partitions} == {mine}
    finally:
        consumer.close()


def test_consumer_group_describe_hides_groups_naming_topics_the_describer_may_not_describe(
    secured: tuple[BrokerProcess, Pki],
) -> None:
    """KIP-848 ConsumerGroupDescribe as Kafka answers it (KAFKA-18813): bob may DESCRIBE alice's
    group but not its topic, so the group answers TOPIC_AUTHORIZATION_FAILED and no member or topic
    name leaks; once bob may DESCRIBE the topic he sees the members. Authorized operations are
    each describer's own."""
    from confluent_kafka.admin import NewTopic

    broker, pki = secured
    suffix = uuid.uuid4().hex[:6]
    topic, group = f"sec-alice-cgd{suffix}", f"sec-alice-cgd-g{suffix}"
    admin = AdminClient(admin_config(broker, pki))
    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result(30)
    alice = librdkafka_config(broker, pki, "SASL_PLAINTEXT", **sasl("PLAIN", "alice", "alice-secret"))
    bob = librdkafka_config(broker, pki, "SASL_PLAINTEXT", **sasl("PLAIN", "bob", "bob-secret"))
    consumer = Consumer({**alice, "group.id": group, "group.protocol": "consumer"})

    def grant(resource: ResourceType, name: str) -> None:
        binding = AclBinding(
            resource,
            name,
            ResourcePatternType.LITERAL,
            "User:bob",
            "*",
            AclOperation.DESCRIBE,
            AclPermissionType.ALLOW,
        )
        for future in admin.create_acls([binding]).values():
            future.result(timeout=30)

    def describe(config: dict[str, str]) -> Any:
        client = AdminClient(config)  # kept alive until the answer came
        [future] = client.describe_consumer_groups([group], include_authorized_operations=True).values()
        return future.result(30)

    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not consumer.assignment():
            consumer.poll(0.2)
        assert {tp.topic for tp in consumer.assignment()} == {topic}
        with pytest.raises(KafkaException) as refused:  # bob may not describe the group at all
            describe(bob)
        assert refused.value.args[0].code() == KafkaError.GROUP_AUTHORIZATION_FAILED
        grant(ResourceType.GROUP, group)
        with pytest.raises(KafkaException) as hidden:
            describe(bob)
        assert hidden.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        assert topic not in str(hidden.value)
        grant(ResourceType.TOPIC, topic)
        seen = describe(bob)
        assert {tp.topic for m in seen.members for tp in m.assignment.topic_partitions} == {topic}
        assert {op.name for op in seen.authorized_operations} == {"DESCRIBE"}
        assert "DELETE" in {op.name for op in describe(alice).authorized_operations}
    finally:
        consumer.close()
