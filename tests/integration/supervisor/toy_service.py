"""A toy HTTP service for supervisor tests, built on odradek.http like the real services.

    python toy_service.py --listen HOST:PORT --bootstrap HOST:PORT [--crash-after S] [--ignore-term]
                          [--fail-start] [--record FILE]

``--crash-after`` exits with code 3 that many seconds after it is ready; ``--fail-start`` exits before
it is ready; ``--ignore-term`` ignores SIGTERM (the supervisor must SIGKILL it); ``--record`` appends
one JSON line per event (started, stopping with whether the broker still answered) to FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from odradek.http import create_app, parse_listen, serve


def record(path: str | None, **fields: object) -> None:
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"pid": os.getpid(), "t": time.time(), **fields}) + "\n")


def broker_alive(bootstrap: str) -> bool:
    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--crash-after", type=float)
    parser.add_argument("--ignore-term", action="store_true")
    parser.add_argument("--fail-start", action="store_true")
    parser.add_argument("--record")
    args = parser.parse_args()
    if args.fail_start:
        record(args.record, event="failed")
        return 2

    async def hello(_request: Request) -> Response:
        return JSONResponse({"pid": os.getpid()})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if args.ignore_term:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: None)
        record(args.record, event="started")
        if args.crash_after is not None:
            asyncio.get_running_loop().call_later(args.crash_after, os._exit, 3)
        yield
        record(args.record, event="stopping", broker_alive=broker_alive(args.bootstrap))

    app = create_app("toy", [Route("/hello", hello)], lifespan=lifespan)
    return serve(app, "toy", parse_listen(args.listen))


if __name__ == "__main__":
    sys.exit(main())
