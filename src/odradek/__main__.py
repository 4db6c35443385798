"""`python -m odradek` runs the CLI."""

import sys

from odradek.cli.main import main

sys.exit(main())
