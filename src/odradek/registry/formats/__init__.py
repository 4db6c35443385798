"""Schema formats: Avro (fastavro), JSON Schema (jsonschema), Protobuf (protoc)."""
