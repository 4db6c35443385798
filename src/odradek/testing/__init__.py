"""Test helpers shipped with the package: fake clock, in-process brokers."""
