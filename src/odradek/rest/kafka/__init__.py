"""The proxy's Kafka clients (confluent-kafka, ARCHITECTURE D6) behind small async shells."""
