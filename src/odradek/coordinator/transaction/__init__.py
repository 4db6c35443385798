"""The transaction coordinator: a pure shard per `__transaction_state` partition and its asyncio shell.

See README.md for the state table and the public API.
"""
