"""Interactive queries over HTTP: any instance answers for any key (it forwards to the owner)."""
