import os

from odradek.process import readiness


def test_announce_writes_one_line_and_closes_the_pipe() -> None:
    read_fd, write_fd = os.pipe()
    env = {readiness.ENV: str(write_fd)}
    assert readiness.announce({"name": "registry", "url": "http://127.0.0.1:8081"}, env)
    assert readiness.ENV not in env  # grandchildren never inherit it
    data = os.read(read_fd, 1 << 16)
    assert os.read(read_fd, 1) == b""  # closed: end of file
    os.close(read_fd)
    assert data.endswith(b"\n")
    assert readiness.parse(data) == {"name": "registry", "url": "http://127.0.0.1:8081"}


def test_without_a_supervisor_nothing_is_announced() -> None:
    assert readiness.announce({"name": "x"}, {}) is False
    assert readiness.announce({"name": "x"}, {readiness.ENV: "not-a-number"}) is False


def test_a_closed_descriptor_is_not_an_error() -> None:
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    os.close(read_fd)
    assert readiness.announce({"name": "x"}, {readiness.ENV: str(write_fd)}) is False


def test_malformed_announcements_parse_to_none() -> None:
    assert readiness.parse(b"") is None
    assert readiness.parse(b"not json\n") is None
    assert readiness.parse(b"[1, 2]\n") is None
