import pytest

from odradek.http.listen import ListenAddress, parse_listen


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8081", ListenAddress("127.0.0.1", 8081)),
        (":8081", ListenAddress("0.0.0.0", 8081)),
        ("0.0.0.0", ListenAddress("0.0.0.0", 0)),
        ("http://0.0.0.0:8081", ListenAddress("0.0.0.0", 8081)),
        ("http://localhost", ListenAddress("localhost", 0)),
        ("[::1]:8081", ListenAddress("::1", 8081)),
    ],
)
def test_parse(text: str, expected: ListenAddress) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["host:port", "host:99999", "https://h:1", "http://h:x"])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_listen(text)


def test_url_reaches_wildcards_over_loopback() -> None:
    assert ListenAddress("0.0.0.0", 8081).url() == "http://127.0.0.1:8081"
    assert ListenAddress("::", 1).url(2) == "http://[::1]:2"
