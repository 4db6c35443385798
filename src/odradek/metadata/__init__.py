"""Cluster metadata: the image (brokers, topics, partitions, configs), the records that change it,
the pure controller that decides those records, config definitions and resolution, replica
placement, and the stores that keep the records durable. See README.md in this directory."""
