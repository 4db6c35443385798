"""A private PostgreSQL server for the JDBC sink tests, tied to the life of the test process.

The postmaster runs in the foreground as our child with a parent-death signal, so a test run that is
killed (SIGKILL, a CI timeout) takes its server with it instead of leaving it running; a normal end
stops it and removes its directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(port: int, server: subprocess.Popen[bytes], log: Path, timeout_s: float = 60.0) -> None:
    isready = _pg_bin("pg_isready")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"PostgreSQL exited with {server.returncode}: {log.read_text(errors='replace')}"
            )
        if isready is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        elif subprocess.run([isready, "-q", "-h", "127.0.0.1", "-p", str(port)], check=False).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL did not accept connections on port {port} within {timeout_s:.0f} s")


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the SQLAlchemy URL of a fresh server on a free loopback port."""
    initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
    if initdb is None or postgres is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found: `make test` installs Debian's postgresql package"
        )
    # not under pytest's 0700 temp root: the server runs as Debian's postgres user when we are root
    base = Path(tempfile.mkdtemp(prefix="odradek-pg-", dir="/tmp"))
    data, sockets, log = base / "data", base / "sock", base / "log"
    sockets.mkdir()
    # util-linux's setpriv gives the postmaster a parent-death signal (SIGINT: PostgreSQL's fast
    # shutdown) after dropping root: initdb and postgres refuse to run as root, so as root they run
    # as Debian's postgres user.
    as_user = ["setpriv"]
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        os.chown(sockets, pw.pw_uid, pw.pw_gid)
        as_user += [f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"]
    port = _free_port()
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [*as_user, "--", initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
            check=True,
            capture_output=True,
            cwd=base,
        )
        with log.open("wb") as log_file:
            settings = [
                "-p",
                str(port),
                "-k",
                str(sockets),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ]
            server = subprocess.Popen(
                [*as_user, "--pdeathsig=SIGINT", "--", postgres, "-D", str(data), *settings],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=base,
            )
        _wait_ready(port, server, log)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(base, ignore_errors=True)
