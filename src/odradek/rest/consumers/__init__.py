"""Consumers of the proxy: v2 instances, v3 consume leases, the stateless fetch pool."""
