"""SASL mechanisms as sans-I/O state machines (see mechanism.py for the shape)."""
