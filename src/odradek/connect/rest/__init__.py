"""The Kafka Connect REST API (port 8083) on the shared HTTP layer."""
