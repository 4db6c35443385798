"""Schema-registry converters (Avro, JSON Schema, Protobuf) on confluent-kafka's serializers."""
