"""The REST proxy: Confluent's REST Proxy v2 and v3 APIs, plus consume in v3 (see README.md)."""
