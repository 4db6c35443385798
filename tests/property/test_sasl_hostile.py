"""Hypothesis-generated SASL messages: every server answers bytes or raises SaslAuthenticationError
(never anything else), and only a correct exchange authenticates."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from odradek.security.sasl.jwt_validation import UnsecuredJwsValidator
from odradek.security.sasl.mechanism import SCRAM_SHA_256, SCRAM_SHA_512, SaslAuthenticationError
from odradek.security.sasl.oauthbearer import OAuthBearerServer
from odradek.security.sasl.plain import PlainServer, jaas_users_check
from odradek.security.sasl.scram import ScramClient, ScramServer
from odradek.security.sasl.scram_credentials import SCRAM_MECHANISMS, ScramCredential

CREDENTIAL = ScramCredential.from_password(SCRAM_MECHANISMS[SCRAM_SHA_256], "pw", b"salt", 4096)


def servers() -> list:
    return [
        PlainServer(jaas_users_check({"alice": "pw"})),
        ScramServer(SCRAM_SHA_256, lambda user, mech: CREDENTIAL if user == "alice" else None),
        OAuthBearerServer(UnsecuredJwsValidator(), lambda: 0),
    ]


# Messages near the real formats reach deeper than random bytes.
near_valid = st.one_of(
    st.binary(max_size=300),
    st.builds(
        b"".join,
        st.lists(
            st.sampled_from(
                [
                    b"n,",
                    b"y,",
                    b"p=x,",
                    b"a=alice,",
                    b",",
                    b"n=alice",
                    b"r=",
                    b"abc",
                    b"=2C",
                    b"=3D",
                    b"=",
                    b"c=biws",
                    b"p=",
                    b"\x00",
                    b"\x01",
                    b"auth=Bearer ",
                    b"e30.",
                    b"eyJhbGciOiJub25lIn0.",
                    b"m=x",
                ]
            ),
            max_size=12,
        ),
    ),
)


@settings(max_examples=300, deadline=None)
@given(messages=st.lists(near_valid, min_size=1, max_size=3))
def test_servers_fail_only_with_authentication_errors(messages: list[bytes]) -> None:
    for server in servers():
        for message in messages:
            try:
                server.evaluate_response(message)
            except SaslAuthenticationError:
                break
        if server.complete:  # only PLAIN completes from one message, and only with the password
            assert server.mechanism == "PLAIN"
            assert any(m in (b"\x00alice\x00pw", b"alice\x00alice\x00pw") for m in messages)


names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=20
)


@settings(max_examples=40, deadline=None)
@given(
    user=names,
    password=st.text(max_size=20).filter(bool),
    mechanism=st.sampled_from([SCRAM_SHA_256, SCRAM_SHA_512]),
)
def test_scram_round_trip_any_name(user: str, password: str, mechanism: str) -> None:
    credential = ScramCredential.from_password(SCRAM_MECHANISMS[mechanism], password, b"s", 4096)
    server = ScramServer(mechanism, lambda u, m: credential if u == user else None)
    client = ScramClient(mechanism, user, password)
    message: bytes | None = client.initial_response()
    while message is not None:
        message = client.evaluate_challenge(server.evaluate_response(message))
    assert server.authorization_id == user
