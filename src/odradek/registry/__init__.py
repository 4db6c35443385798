"""A Confluent-compatible schema registry (ARCHITECTURE D7); see README.md."""
