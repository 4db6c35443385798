"""A standalone ZooKeeper server process (the Debian package's), for `odradek cluster up` and tests.

Runs `org.apache.zookeeper.server.ZooKeeperServerMain` with a generated `zoo.cfg` in its data
directory: client port bound to 127.0.0.1 only, the AdminServer off (it would take port 8080), the
`ruok`/`srvr`/`stat` four-letter words on for readiness probes. Port 0 picks a free port. The
process is ours: `stop()` kills it by its pid; `pause()`/`resume()` (SIGSTOP/SIGCONT) are for fault
tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

CLASSPATH = ("/etc/zookeeper/conf", "/usr/share/java/zookeeper.jar")
MAIN = "org.apache.zookeeper.server.ZooKeeperServerMain"


class ZooKeeperNotInstalledError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def four_letter_word(host: str, port: int, word: str, timeout: float = 1.0) -> str:
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(word.encode())
        chunks = []
        while chunk := s.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def is_serving(host: str, port: int) -> bool:
    try:
        return four_letter_word(host, port, "ruok") == "imok"
    except OSError:
        return False


def java_command(config: Path) -> list[str]:
    java = shutil.which("java")
    if java is None or not Path(CLASSPATH[1]).exists():
        raise ZooKeeperNotInstalledError(
            "ZooKeeper is not installed: install the Debian package `zookeeper` (apt-get install zookeeper)"
        )
    return [java, "-Xmx256m", "-XX:+UseSerialGC", "-cp", ":".join(CLASSPATH), MAIN, str(config)]


def write_config(data_dir: Path, port: int, tick_ms: int = 500) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "zoo.cfg"
    config.write_text(
        f"tickTime={tick_ms}\n"
        f"dataDir={data_dir / 'data'}\n"
        f"clientPort={port}\n"
        "clientPortAddress=127.0.0.1\n"
        "admin.enableServer=false\n"
        f"minSessionTimeout={2 * tick_ms}\n"
        "maxSessionTimeout=60000\n"
        "4lw.commands.whitelist=ruok,srvr,stat\n"
    )
    return config


class ZooKeeperServer:
    def __init__(self, data_dir: Path, port: int = 0, tick_ms: int = 500) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.tick_ms = tick_ms
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def connect(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, timeout: float = 60.0, *, detach: bool = False) -> None:
        config = write_config(self.data_dir, self.port, self.tick_ms)
        out = open(self.data_dir / "zookeeper.out", "ab")  # noqa: SIM115 - handed to the child
        try:
            self.process = subprocess.Popen(
                java_command(config),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=detach,
            )
        finally:
            out.close()
        deadline = time.monotonic() + timeout
        while not is_serving("127.0.0.1", self.port):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"ZooKeeper exited with {self.process.returncode}; see {self.data_dir / 'zookeeper.out'}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"ZooKeeper did not serve on {self.connect} within {timeout:g} s")
            time.sleep(0.1)

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
