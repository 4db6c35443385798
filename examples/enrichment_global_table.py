"""Enrich orders with product details from a catalog every instance holds in full (a global
table), looked up by a field of the order rather than by the order's key."""

from __future__ import annotations

import sys

from odradek.streams import KafkaStreams, StreamsBuilder

CONFIG = {
    "application.id": "order-enrichment",
    "default.key.serde": "string",
    "default.value.serde": "json",
}


def build() -> StreamsBuilder:
    builder = StreamsBuilder()
    products = builder.global_table("products", materialized="products")  # key: product id
    builder.stream("orders").left_join(  # key: order id, value: {"product": id, "quantity": n}
        products,
        lambda order, product: {**order, "title": product["title"] if product else None},
        key_mapper=lambda _order_id, order: order["product"],
    ).to("orders-enriched")
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
