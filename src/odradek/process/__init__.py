"""How an odradek process runs: its event loop and its readiness handshake with a supervisor."""
