"""One module per `odradek` subcommand."""
