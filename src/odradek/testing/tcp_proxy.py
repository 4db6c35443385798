"""A loopback TCP proxy that drops connections mid-stream, for fault-injection tests with real clients.

    proxy = TcpProxy().start()                       # listens on 127.0.0.1:<proxy.port>
    broker = BrokerProcess(d, {"advertised.listeners": f"PLAINTEXT://127.0.0.1:{proxy.port}"}).start()
    proxy.target = ("127.0.0.1", broker.port)        # clients now reach the broker only through it
    proxy.drop_responses(after_bytes=(200, 5000), times=10, seed=1)

`drop_responses` cuts a connection after a random number of broker-to-client bytes while requests
reach the broker whole: the broker has processed a request whose response the client never sees —
exactly the case where a client retries a produce that was written. `drop_requests` cuts it after a
random number of client-to-broker bytes instead: a request is torn and never processed (how
fire-and-forget data is lost). Each of the next `times` connections is cut once (if it carries
enough bytes); open connections are cut when a fault is set, so clients reconnect into it.
`partition()` cuts every connection and refuses new ones (a network partition) until `heal()`;
`delay(seconds)` holds every chunk that long before forwarding it (a slow link). Budgets
come from a seeded `random.Random`, so a run is repeatable. Threads only
(the clients under test run their own threads); `stop()` closes everything.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from dataclasses import dataclass

BUFFER = 65536


@dataclass
class _Fault:
    lo: int
    hi: int
    times: int
    rng: random.Random
    requests: bool  # cut client-to-broker bytes (else broker-to-client)


class TcpProxy:
    def __init__(self, target: tuple[str, int] | None = None) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._fault: _Fault | None = None
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()
        self.connections = 0
        self.drops = 0
        self.partitioned = False
        self.delay_s = 0.0

    def start(self) -> TcpProxy:
        self._spawn(self._accept)
        return self

    def drop_responses(self, after_bytes: tuple[int, int], times: int, seed: int = 0) -> None:
        """Cut each of the next `times` connections after lo..hi broker-to-client bytes."""
        with self._lock:
            self._fault = _Fault(after_bytes[0], after_bytes[1], times, random.Random(seed), False)
        self.drop_all()

    def drop_requests(self, after_bytes: tuple[int, int], times: int, seed: int = 0) -> None:
        """Cut each of the next `times` connections after lo..hi client-to-broker bytes."""
        with self._lock:
            self._fault = _Fault(after_bytes[0], after_bytes[1], times, random.Random(seed), True)
        self.drop_all()

    def heal(self) -> None:
        with self._lock:
            self._fault = None
            self.partitioned = False
            self.delay_s = 0.0

    def partition(self) -> None:
        """Cut every open connection and refuse new ones until `heal()`."""
        with self._lock:
            self.partitioned = True
        self.drop_all()

    def delay(self, seconds: float) -> None:
        """Forward every chunk `seconds` late (both directions) until `heal()`."""
        with self._lock:
            self.delay_s = seconds

    def drop_all(self) -> None:
        """Cut every open connection now."""
        with self._lock:
            doomed = list(self._sockets)
        for sock in doomed:
            _close(sock)

    def stop(self) -> None:
        self._stopped.set()
        _close(self._listener)
        self.drop_all()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- internals ---------------------------------------------------------------------------
    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.target is None or self.partitioned:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self.connections += 1
                budget, on_requests = None, False
                fault = self._fault
                if fault is not None and fault.times > 0:
                    budget, on_requests = fault.rng.randint(fault.lo, fault.hi), fault.requests
                    fault.times -= 1
                self._sockets |= {client, upstream}
            self._spawn(self._pump, client, upstream, budget if on_requests else None)
            self._spawn(self._pump, upstream, client, None if on_requests else budget)

    def _pump(self, src: socket.socket, dst: socket.socket, budget: int | None) -> None:
        """Copy src -> dst; with a budget, cut both sockets once that many bytes were forwarded."""
        try:
            while True:
                data = src.recv(BUFFER)
                if not data:
                    break
                if self.delay_s:
                    time.sleep(self.delay_s)
                if self.partitioned:
                    break
                if budget is not None and len(data) >= budget:
                    dst.sendall(data[:budget])
                    with self._lock:
                        self.drops += 1
                    break
                if budget is not None:
                    budget -= len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                _close(sock)
                with self._lock:
                    self._sockets.discard(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
