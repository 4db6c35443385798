"""The DSL: `StreamsBuilder` -> `KStream`/`KTable`/`GlobalKTable` -> a `Topology`."""
