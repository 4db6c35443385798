"""The processors behind each DSL operator (one module per family)."""
