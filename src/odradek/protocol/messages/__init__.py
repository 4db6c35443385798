"""Generated message schemas, one module per API (tools/gen_messages.py). Do not edit."""
