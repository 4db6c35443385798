"""FaultCluster's listener ports come from below the kernel's ephemeral range, where no outgoing
connection of another process can take them between a broker's construction and its restarts."""

from __future__ import annotations

import socket

from odradek.testing.fault_cluster import EPHEMERAL_RANGE, listener_port


def test_a_listener_port_is_free_and_below_the_ephemeral_range() -> None:
    low = int(EPHEMERAL_RANGE.read_text().split()[0]) if EPHEMERAL_RANGE.exists() else 32768
    ports = {listener_port() for _ in range(20)}
    assert all(1024 <= port < low for port in ports)
    assert len(ports) > 1  # picked at random, not one fixed port
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # still free
