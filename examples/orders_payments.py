"""Join orders with their payments: a payment counts if it arrives within 10 minutes of the order.
Orders still unpaid when the window closes come out with `"paid": false` (a left join)."""

from __future__ import annotations

import sys

from odradek.streams import JoinWindows, KafkaStreams, StreamsBuilder

WINDOW = JoinWindows.of(10 * 60 * 1000, grace_ms=60_000)
CONFIG = {
    "application.id": "orders-payments",
    "default.key.serde": "string",
    "default.value.serde": "json",
    "processing.guarantee": "exactly_once_v2",
}


def build() -> StreamsBuilder:
    builder = StreamsBuilder()
    orders = builder.stream("orders")  # key: order id, value: {"amount": ...}
    payments = builder.stream("payments")  # key: order id, value: {"amount": ...}
    orders.left_join(
        payments,
        lambda order, payment: {
            "amount": order["amount"],
            "paid": payment is not None and payment["amount"] >= order["amount"],
        },
        WINDOW,
        name="order-payment",
    ).to("orders-settled")
    return builder


def main(bootstrap: str = "127.0.0.1:9092") -> None:
    streams = KafkaStreams(build().build(), {**CONFIG, "bootstrap.servers": bootstrap})
    streams.start()
    try:
        input("running; press Enter to stop\n")
    finally:
        streams.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
