"""The readiness handshake between a supervised process and its supervisor (`odradek dev`).

The supervisor opens a pipe, passes the write end to the child it starts and names that file
descriptor in the environment variable ``ODRADEK_READY_FD``. Once the child serves (its sockets
listen and it answers requests), it writes exactly one line to that descriptor and closes it:

    {"name": "registry", "url": "http://127.0.0.1:8081"}\\n
    {"name": "broker", "bootstrap": "127.0.0.1:9092", "metrics": "http://127.0.0.1:9464/metrics"}\\n

a JSON object of at most ``MAX_ANNOUNCEMENT`` bytes saying where it serves. A process started
without the variable (by hand, by systemd, in a container) announces nothing. End of file before a
line means the child exited before it was ready. The variable is removed from the environment once
used, so grandchildren never write to a descriptor that is not theirs.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, MutableMapping

ENV = "ODRADEK_READY_FD"
MAX_ANNOUNCEMENT = 4096


def announce(fields: Mapping[str, object], environ: MutableMapping[str, str] | None = None) -> bool:
    """Tell the supervisor (if any) that this process is ready; True if someone was told."""
    env = os.environ if environ is None else environ
    raw = env.pop(ENV, "")
    if not raw:
        return False
    try:
        fd = int(raw)
    except ValueError:
        return False
    line = (json.dumps(dict(fields), separators=(",", ":")) + "\n").encode()
    try:
        os.write(fd, line[:MAX_ANNOUNCEMENT])
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    return True


def parse(data: bytes) -> dict[str, object] | None:
    """The announcement in ``data`` (the bytes read up to the first newline), or None if malformed."""
    line = data.split(b"\n", 1)[0]
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
