"""The REST proxy in front of a secured broker: HTTP Basic users become SASL principals (each with
Kafka clients of its own, so the broker's ACLs apply per HTTP user), and the v3 ACL endpoints
manage those ACLs with Confluent's shapes. Records are read back with confluent-kafka; every
response is checked against the proxy's /openapi.json."""

from __future__ import annotations

import base64
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)
from secure_broker import ADMIN_PASSWORD, SUPER_USER, Pki, admin_config, secure_broker

from odradek.testing.broker_process import BrokerProcess
from odradek.testing.service_process import ServiceProcess, rest_proxy

sys.path.insert(0, str(Path(__file__).parents[1] / "integration" / "rest"))
from openapi_check import OpenApiCheck

pytestmark = pytest.mark.compat

V3_JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[BrokerProcess, Pki, ServiceProcess, dict[str, str]]]:
    with secure_broker(tmp_path_factory.mktemp("rest-secure")) as (broker, pki):
        admin = AdminClient(admin_config(broker, pki))
        topics = {"alice": f"rest-alice-{uuid.uuid4().hex[:6]}", "bob": f"rest-bob-{uuid.uuid4().hex[:6]}"}
        for future in admin.create_topics([NewTopic(t, 1, 1) for t in topics.values()]).values():
            future.result(30)
        grant = AclBinding(
            ResourceType.TOPIC,
            "rest-alice-",
            ResourcePatternType.PREFIXED,
            "User:alice",
            "*",
            AclOperation.ALL,
            AclPermissionType.ALLOW,
        )
        for future in admin.create_acls([grant]).values():
            future.result(30)
        with rest_proxy(
            broker.bootstrap_for("SASL_SSL"),
            *("--override", "authentication.method=BASIC"),
            *("--override", "client.security.protocol=SASL_SSL"),
            *("--override", "client.sasl.mechanism=PLAIN"),
            *("--override", f"client.ssl.ca.location={pki.ca}"),
        ) as proxy:
            yield broker, pki, proxy, topics


@pytest.fixture(scope="module")
def openapi(setup: tuple[BrokerProcess, Pki, ServiceProcess, dict[str, str]]) -> OpenApiCheck:
    return OpenApiCheck(httpx.get(setup[2].url + "/openapi.json", timeout=30).json())


def client(
    setup: tuple[BrokerProcess, Pki, ServiceProcess, dict[str, str]],
    openapi: OpenApiCheck,
    user: str | None,
    password: str = "",
) -> httpx.Client:
    def check(response: httpx.Response) -> None:
        response.read()
        openapi.check(response)

    auth = httpx.BasicAuth(user, password) if user is not None else None
    return httpx.Client(base_url=setup[2].url, auth=auth, timeout=30, event_hooks={"response": [check]})


def cluster_id(http: httpx.Client) -> str:
    response = http.get("/v3/clusters")
    assert response.status_code == 200, response.text
    return str(response.json()["data"][0]["cluster_id"])


def test_requests_without_valid_credentials_are_refused(setup, openapi) -> None:  # type: ignore[no-untyped-def]
    for user, password in ((None, ""), ("alice", "wrong"), ("nobody", "x")):
        with client(setup, openapi, user, password) as http:
            response = http.get("/v3/clusters")
            assert response.status_code == 401, response.text
            assert response.json()["error_code"] == 40101
            assert response.headers["www-authenticate"] == 'Basic realm="KafkaRest"'
    with client(setup, openapi, None) as http:
        garbled = http.get("/topics", headers={"authorization": "Basic !!!"})
        assert garbled.status_code == 401 and "base64" in garbled.json()["message"]
        assert http.get("/openapi.json").status_code == 200  # documentation stays open
        assert httpx.get(setup[2].url + "/health", timeout=10).status_code == 200


def test_each_user_acts_as_its_own_kafka_principal(setup, openapi) -> None:  # type: ignore[no-untyped-def]
    broker, pki, _proxy, topics = setup
    with client(setup, openapi, "alice", "alice-secret") as alice:
        assert sorted(alice.get("/topics").json()) == [topics["alice"]]  # Metadata hides bob's topic
        cid = cluster_id(alice)
        value = base64.b64encode(b"from alice over http").decode()
        produced = alice.post(
            f"/v3/clusters/{cid}/topics/{topics['alice']}/records",
            json={"value": {"type": "BINARY", "data": value}},
        )
        assert produced.status_code == 200 and produced.json()["error_code"] == 200, produced.text
        refused = alice.post(
            f"/v3/clusters/{cid}/topics/{topics['bob']}/records",
            json={"value": {"type": "STRING", "data": "x"}},
        )
        assert refused.status_code in (403, 404), refused.text  # the broker hides or refuses it
        creating = alice.post(f"/v3/clusters/{cid}/topics", json={"topic_name": "alice-not-allowed"})
        assert creating.status_code == 403 and creating.json()["error_code"] == 40301, creating.text
        acl = alice.get(f"/v3/clusters/{cid}/acls")
        assert acl.status_code == 403 and acl.json()["error_code"] == 40301, acl.text
    with client(setup, openapi, "bob", "bob-secret") as bob:
        assert bob.get("/topics").json() == []
    consumer = Consumer(
        {
            **admin_config(broker, pki),
            "group.id": f"check-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe([topics["alice"]])
        message = None
        for _ in range(30):
            message = consumer.poll(1)
            if message is not None:
                break
        assert message is not None and message.error() is None and message.value() == b"from alice over http"
    finally:
        consumer.close()


def test_v3_acl_endpoints(setup, openapi) -> None:  # type: ignore[no-untyped-def]
    _broker, _pki, _proxy, topics = setup
    with client(setup, openapi, SUPER_USER, ADMIN_PASSWORD) as admin:
        cid = cluster_id(admin)
        acls = f"/v3/clusters/{cid}/acls"
        entry = {
            "resource_type": "TOPIC",
            "resource_name": topics["bob"],
            "pattern_type": "LITERAL",
            "principal": "User:bob",
            "host": "*",
            "operation": "READ",
            "permission": "ALLOW",
        }
        created = admin.post(acls, json=entry)
        assert created.status_code == 201 and not created.content, created.text
        assert created.headers["location"].startswith(f"{setup[2].url}{acls}?resource_type=TOPIC")
        found = admin.get(created.headers["location"])
        assert found.status_code == 200
        [acl] = found.json()["data"]
        assert acl == {
            "kind": "KafkaAcl",
            "metadata": {"self": created.headers["location"]},
            "cluster_id": cid,
            **entry,
        }
        batch = [
            {**entry, "operation": op, "permission": perm, "host": "*"}
            for op, perm in (("describe", "allow"), ("write", "deny"))
        ]
        assert admin.post(acls + ":batch", json={"data": batch}).status_code == 204
        listed = admin.get(acls, params={"principal": "User:bob"}).json()
        assert listed["kind"] == "KafkaAclList"
        assert [(a["operation"], a["permission"]) for a in listed["data"]] == [
            ("DESCRIBE", "ALLOW"),
            ("READ", "ALLOW"),
            ("WRITE", "DENY"),
        ]
        matching = admin.get(
            acls, params={"resource_type": "topic", "resource_name": topics["alice"], "pattern_type": "match"}
        )
        assert [a["principal"] for a in matching.json()["data"]] == ["User:alice"]  # the prefixed grant
        with client(setup, openapi, "bob", "bob-secret") as bob:
            assert bob.get("/topics").json() == [topics["bob"]]  # the new ACL applies at once
        bad = [
            ({**entry, "resource_type": "ANY"}, 400, "resource_type cannot be ANY"),
            ({**entry, "pattern_type": "MATCH"}, 400, "pattern_type cannot be MATCH"),
            ({**entry, "operation": "FLY"}, 400, "operation must be one of"),
            ({**entry, "permission": "ANY"}, 400, "permission cannot be ANY"),
            ({k: v for k, v in entry.items() if k != "host"}, 422, "/host"),
        ]
        for body, status, words in bad:
            response = admin.post(acls, json=body)
            assert response.status_code == status and words in response.json()["message"], response.text
        assert admin.post(acls + ":batch", json={"data": None}).status_code == 422
        assert admin.get(acls, params={"operation": "nonsense"}).status_code == 400
        deleted = admin.delete(acls, params={"principal": "User:bob", "resource_type": "TOPIC"})
        assert deleted.status_code == 200
        assert len(deleted.json()["data"]) == 3
        assert admin.get(acls, params={"principal": "User:bob"}).json()["data"] == []
