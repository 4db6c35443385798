"""Security's pure cores: SASL mechanisms, SCRAM credentials, JAAS configs, ACLs and the authorizer,
TLS principal mapping, client quotas and connection limits, the audit line. No I/O (see README.md)."""
