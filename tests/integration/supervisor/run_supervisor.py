"""Runs odradek's Supervisor with toy services, as `odradek dev` runs it with the real ones.

    python run_supervisor.py CONFIG_JSON

CONFIG_JSON: {"data_dir": str, "initial_backoff_s": float, "services": {name: [toy flags...]}}.
Stdout carries the supervisor's lines (one per ready process); SIGINT/SIGTERM stop everything.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

from odradek.supervisor import BackoffPolicy, DevContext, ServiceSpec, Supervisor, SupervisorSettings

TOY = str(Path(__file__).with_name("toy_service.py"))


def toy_spec(name: str, flags: list[str]) -> ServiceSpec:
    def argv(ctx: DevContext, port: int) -> list[str]:
        return [sys.executable, TOY, "--listen", f"{ctx.host}:{port}", "--bootstrap", ctx.bootstrap, *flags]

    return ServiceSpec(name, 0, f"toy {name}", (), argv_override=argv)


async def main(config: dict[str, object]) -> int:
    data_dir = Path(str(config["data_dir"]))
    settings = SupervisorSettings(
        broker_properties={
            "listeners": "PLAINTEXT://127.0.0.1:0",
            "log.dirs": str(data_dir / "broker"),
            "odradek.metrics.port": "0",
        },
        data_dir=data_dir,
        log_level="WARNING",
        policy=BackoffPolicy(initial_s=float(config.get("initial_backoff_s", 0.5))),  # type: ignore[arg-type]
    )
    services = config.get("services", {})
    assert isinstance(services, dict)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    specs = [toy_spec(name, list(flags)) for name, flags in services.items()]
    return await Supervisor(settings, specs).run(stop)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(json.loads(sys.argv[1]))))
