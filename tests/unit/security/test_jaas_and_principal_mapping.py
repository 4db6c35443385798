"""JAAS configs as Kafka's docs write them, and ssl.principal.mapping.rules from Kafka's docs."""

from __future__ import annotations

import pytest

from odradek.security.jaas import (
    PLAIN_LOGIN_MODULE,
    SCRAM_LOGIN_MODULE,
    JaasConfigError,
    parse_jaas_config,
    parse_jaas_file,
)
from odradek.security.principal_mapping import PrincipalMappingError, map_principal_name, parse_rules


def test_plain_login_module_with_users() -> None:
    module = parse_jaas_config(
        "org.apache.kafka.common.security.plain.PlainLoginModule required \n"
        '   username="admin" password="admin-secret"\n'
        '   user_admin="admin-secret" user_alice="alice;secret \\"quoted\\"";'
    )
    assert module.class_name == PLAIN_LOGIN_MODULE and module.control_flag == "required"
    assert module.options["username"] == "admin"
    assert module.users() == {"admin": "admin-secret", "alice": 'alice;secret "quoted"'}


def test_unquoted_values_and_comments() -> None:
    module = parse_jaas_config(
        "/* broker */ org.apache.kafka.common.security.scram.ScramLoginModule required // the login\n"
        "username=admin password=admin-secret;"
    )
    assert module.class_name == SCRAM_LOGIN_MODULE
    assert module.options == {"username": "admin", "password": "admin-secret"}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("com.sun.security.auth.module.JndiLoginModule required;", "not allowed"),  # CVE-2023-25194
        ("org.apache.kafka.common.security.plain.PlainLoginModule required username=a", "expected ;"),
        ("org.apache.kafka.common.security.plain.PlainLoginModule mandatory;", "control flag"),
        ("org.apache.kafka.common.security.plain.PlainLoginModule required a=;", "expected word or quoted"),
        (
            "org.apache.kafka.common.security.plain.PlainLoginModule required; "
            "org.apache.kafka.common.security.plain.PlainLoginModule required;",
            "2 login modules",
        ),
        ("", "not terminated"),
        ('org.apache.kafka.common.security.plain.PlainLoginModule required a="unterminated;', "Unexpected"),
    ],
)
def test_bad_jaas_configs(text: str, error: str) -> None:
    with pytest.raises(JaasConfigError, match=error):
        parse_jaas_config(text)


def test_jaas_file_sections() -> None:
    sections = parse_jaas_file(
        "KafkaServer {\n"
        '  org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="pw";\n'
        "  org.apache.kafka.common.security.scram.ScramLoginModule required;\n"
        "};\n"
        "Client { org.apache.kafka.common.security.plain.PlainLoginModule required; };"
    )
    assert [m.class_name for m in sections["KafkaServer"]] == [PLAIN_LOGIN_MODULE, SCRAM_LOGIN_MODULE]
    assert list(sections) == ["KafkaServer", "Client"]


@pytest.mark.parametrize(
    ("rules", "dn", "expected"),
    [
        # the examples of Kafka's security documentation
        (
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,DEFAULT",
            "CN=serviceuser,OU=ServiceUsers,O=Unknown,L=Unknown",
            "serviceuser",
        ),
        (
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,DEFAULT",
            "CN=adminUser,OU=Admin,O=Unknown",
            "CN=adminUser,OU=Admin,O=Unknown",
        ),
        (
            "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,DEFAULT",
            "CN=adminUser,OU=Admin,O=Unknown,L=Unknown,ST=Unknown,C=Unknown",
            "adminuser@admin",
        ),
        ("RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,DEFAULT", "CN=Admin.User,OU=x", "admin.user"),
        ("RULE:^CN=(.*?),OU=(.*?)$/$1/U", "CN=bob,OU=eng", "BOB"),
        ("RULE:^CN=([^,]*)\\/x,.*$/$1/,DEFAULT", "CN=a/x,O=b", "a"),
        (None, "CN=alice,O=x", "CN=alice,O=x"),
        ("DEFAULT", "CN=alice", "CN=alice"),
    ],
)
def test_principal_mapping(rules: str | None, dn: str, expected: str) -> None:
    assert map_principal_name(parse_rules(rules), dn) == expected


def test_no_matching_rule_refuses() -> None:
    with pytest.raises(PrincipalMappingError, match="No rules apply"):
        map_principal_name(parse_rules("RULE:^CN=(.*),O=corp$/$1/"), "CN=alice,O=other")


@pytest.mark.parametrize("rules", ["RULE:abc", "RULE:(/x/", "NOPE", "RULE:a/b/X"])
def test_bad_rules(rules: str) -> None:
    with pytest.raises(PrincipalMappingError):
        parse_rules(rules)
