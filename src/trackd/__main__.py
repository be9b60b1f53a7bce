"""`python -m trackd` is the `trackd` command."""

from trackd.cli import main

main()
