"""The registry's REST API: Confluent Schema Registry's paths, bodies, error codes and content type."""
