"""A confluent-kafka group member run as its own process (tests SIGKILL it to simulate a crash).

    python group_member.py BOOTSTRAP GROUP TOPIC '{"client.id": "c9", ...}'

Prints the sorted partitions it owns, as a JSON list on one line, whenever they change; runs until
killed.
"""

from __future__ import annotations

import json
import sys

from confluent_kafka import Consumer


def main() -> None:
    bootstrap, group, topic, extra = sys.argv[1:5]
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.partition.eof": False,
            **json.loads(extra),
        }
    )
    consumer.subscribe([topic])
    last: list[int] | None = None
    while True:
        consumer.poll(0.05)
        now = sorted(tp.partition for tp in consumer.assignment())
        if now != last:
            print(json.dumps(now), flush=True)
            last = now


if __name__ == "__main__":
    main()
