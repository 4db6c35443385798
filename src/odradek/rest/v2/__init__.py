"""Confluent REST Proxy API v2: metadata, produce, consumer instances."""
