"""Coordinators as pure state machines over records (ARCHITECTURE D5), and the runtime that drives them.

See README.md in this package for the public API and the state tables.
"""
