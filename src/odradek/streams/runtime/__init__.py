"""The Kafka runtime: `KafkaStreams` runs a topology against a Kafka cluster (confluent-kafka)."""
